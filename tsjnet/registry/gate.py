"""The promotion gate: a registered candidate becomes ``champion`` only if it beats the current champion.

Rule ("beats"): on every gate metric the candidate is at least as good as the champion (improvement >= 0,
in the metric's direction), and on at least one it is better by more than ``min_delta``. Ties everywhere,
or any regression, keep the champion. No champion yet: the first candidate is promoted.

Metrics come from the evaluate stage's JSON files, each a flat object ``{"metric_name": number}``; names
must be unique across the files. A gate metric missing from the files, or a non-finite value, is an
error, never a pass. Each registered version carries its metrics as tags ``metric.<name>``, so a later
candidate is compared with the numbers its champion was promoted on.

Those numbers are comparable only when both models were measured with the same yardstick: the same judges
(detectors, segmenter) on the same test data under the same evaluation settings. Each version is tagged with
the digest of its yardstick (`yardstick_digest`); a champion measured with another one (or before the tag
existed) is re-measured with the candidate's before the rule is applied (`tsjnet.registry.register`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tsjnet.config.registry import GateParams
from tsjnet.errors import DataError
from tsjnet.reports import FlatMetrics

METRIC_TAG = "metric."
#: Version tag: digest of what the version's gate metrics were measured with (`yardstick_digest`).
YARDSTICK_TAG = "gate.yardstick"
RULE = ("promote when every gate metric is at least as good as the champion's and at least one is better "
        "by more than min_delta; no champion -> promote")


def read_metrics(paths: list[str | Path]) -> dict[str, float]:
    """Merge flat ``{"name": number}`` files (`FlatMetrics`); a missing or malformed file or a duplicate is an error."""
    metrics: dict[str, float] = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(f"metrics file {path} not found: run the evaluate stage first, or fix "
                            "register.metrics_files in params.yaml")
        for name, value in FlatMetrics.read(path).root.items():
            if name in metrics:
                raise DataError(f"metric {name!r} appears in more than one of {[str(p) for p in paths]}; "
                                "give each metric one file")
            metrics[name] = float(value)
    return metrics


def yardstick_digest(paths: list[str], settings: str) -> str:
    """md5 of every file under `paths` (names relative to each path, and contents, in sorted order) and `settings`.

    `paths` are the judges and the test data the gate metrics come from (``register.yardstick``), `settings` the
    evaluation's own parameters as text; a missing path is an error naming it.
    """
    digest = hashlib.md5(settings.encode())
    for root in map(Path, paths):
        if not root.exists():
            raise DataError(f"{root} (register.yardstick in params.yaml) not found: run the stages that write it, "
                            "or fix the list")
        files = sorted(f for f in root.rglob("*") if f.is_file()) if root.is_dir() else [root]
        for file in files:
            digest.update(f"{root.name}/{file.relative_to(root).as_posix() if root.is_dir() else ''}".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class GateDecision:
    """The outcome and every number behind it (written to reports/promotion.json and the MLflow tags)."""

    promote: bool
    reason: str
    candidate: dict[str, float]
    champion: dict[str, float] | None
    improvement: dict[str, float]
    min_delta: float
    rule: str = RULE

    def as_dict(self) -> dict[str, Any]:  # noqa: D102
        return asdict(self)


def gate_values(metrics: dict[str, float], gate: GateParams, whose: str = "candidate") -> dict[str, float]:
    """The gate metrics out of `metrics`; a missing or non-finite one is an error naming it."""
    missing = sorted(set(gate.metrics) - set(metrics))
    if missing:
        fix = ("produce them in the evaluate stage or fix register.gate.metrics in params.yaml" if whose == "candidate"
               else f"it was promoted before these gate metrics existed: tag its version {METRIC_TAG}<name> "
                    "with its re-evaluated numbers, or delete the champion alias to restart the gate")
        raise DataError(f"the {whose} lacks gate metric(s) {missing} (has: {sorted(metrics)}); {fix}")
    bad = [name for name in gate.metrics if not math.isfinite(metrics[name])]
    if bad:
        raise DataError(f"the {whose}'s gate metric(s) {bad} are not finite; fix the evaluation first")
    return {name: metrics[name] for name in gate.metrics}


def decide(candidate: dict[str, float], champion: dict[str, float] | None, gate: GateParams) -> GateDecision:
    """Apply the rule of this module to the candidate's and the champion's metrics (None: no champion)."""
    cand = gate_values(candidate, gate, "candidate")
    if champion is None:
        return GateDecision(True, "no champion yet", cand, None, {}, gate.min_delta)
    champ = gate_values(champion, gate, "champion")
    sign = {"max": 1.0, "min": -1.0}
    improvement = {name: sign[gate.metrics[name]] * (cand[name] - champ[name]) for name in gate.metrics}
    worse = sorted(name for name, delta in improvement.items() if delta < 0)
    better = sorted(name for name, delta in improvement.items() if delta > gate.min_delta)
    if worse:
        reason = f"worse on {', '.join(worse)}"
    elif not better:
        reason = f"no gate metric improves by more than min_delta={gate.min_delta}"
    else:
        reason = f"better on {', '.join(better)}, no gate metric worse"
    return GateDecision(not worse and bool(better), reason, cand, champ, improvement, gate.min_delta)
