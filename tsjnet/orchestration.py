"""Library side of the Prefect flows (flows/): stage order, parameter overrides, metrics, summary, gate.

Kept free of Prefect so it is testable without a server. The flows drive DVC rather than
duplicating it, so everything here reads what DVC and the stages leave behind (dvc.yaml, metrics/*.json,
the register report) instead of holding its own copy of the pipeline.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tsjnet.config import load_params, render_params
from tsjnet.config.compose import flatten
from tsjnet.config.registry import GateParams
from tsjnet.errors import TsjnetError
from tsjnet.registry.gate import decide
from tsjnet.registry.report import PromotionReport

METRICS_DIR = Path("metrics")
#: The dataset is pushed to the DVC remote once the last of these stages (present in dvc.yaml) has run.
DATA_STAGES = ("ingest", "validate")
#: What the champion check re-runs: the stages that turn the configured data into the evaluation data.
EVALUATION_DATA_STAGES = (*DATA_STAGES, "pseudolabel")
#: What `tsjnet research` needs before it trains: the evaluation data and the pretrained judges.
RESEARCH_INPUT_STAGES = (*EVALUATION_DATA_STAGES, "pretrain_detector", "pretrain_segmenter")


class StageFailed(TsjnetError):
    """A pipeline command exited non-zero; the message carries the tail of its output."""

    def __init__(self, label: str, returncode: int, tail: Sequence[str]) -> None:
        self.label, self.returncode, self.tail = label, returncode, list(tail)
        output = "\n".join(self.tail) or "(no output)"
        super().__init__(f"{label} failed (exit {returncode}); last output lines:\n{output}")


class GateFailed(TsjnetError):
    """The champion scores worse on new data than when it was promoted; the message lists every metric."""


def pipeline_stages(root: str | Path = ".") -> list[str]:
    """Stage names of `root`/dvc.yaml in an order DVC can run them: dvc.yaml order wherever the DAG allows.

    Read from DVC's own graph at run time so the flow never holds a second copy of the stage list.
    """
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        order = {stage: index for index, stage in enumerate(repo.index.stages)}  # dvc.yaml order
        ordered = nx.lexicographical_topological_sort(graph.reverse(copy=True), key=lambda stage: order[stage])
        return [stage.name for stage in ordered]


def apply_param_overrides(params_path: str | Path, overrides: Sequence[str] = (),
                          profile: str | None = None) -> list[str]:
    """Render params.yaml from conf/ with ``profile`` and ``key.sub=value`` overrides, as `dvc exp run -S` does.

    Writing the effective values (rather than passing them through the environment) is what keeps dvc.lock
    honest: DVC sees each changed parameter, re-runs exactly the stages that use it and records the value used.
    Everything is validated first, so a bad key leaves params.yaml untouched. Returns the overrides applied
    (hand them to another checkout that must run with the same parameters).
    """
    changes = [*overrides, *([f"profile={profile}"] if profile else [])]
    if changes:
        render_params(params_path, changes)
    return changes


def _finite_numbers(values: Mapping[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in values.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def metrics_tables(folder: str | Path = METRICS_DIR) -> dict[str, dict[str, float]]:
    """Numeric values of every ``folder/*.json`` (nested keys joined with '.'), keyed by file stem."""
    folder = Path(folder)
    metrics: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise TsjnetError(f"{path} is not valid JSON ({error}); re-run the stage that writes it") from None
        metrics[path.stem] = _finite_numbers(flatten("", data) if isinstance(data, dict) else {})
    return metrics


def read_promotion(path: str | Path) -> PromotionReport | None:
    """The register stage's report if it ran (None: no file); a malformed one is a `DataError` naming the field."""
    return PromotionReport.read(path) if Path(path).is_file() else None


def _format(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def summary_markdown(title: str, metrics: Mapping[str, Mapping[str, float]],
                     promotion: PromotionReport | None) -> str:
    """One Markdown page: the registration verdict, then one metrics table per metrics file."""
    lines = [f"# {title}", ""]
    if promotion is None:
        lines += ["No model was registered (the register stage's report is absent).", ""]
    else:
        verdict = "promoted to champion" if promotion.promote else "not promoted"
        lines += [f"**{promotion.model} version {promotion.version}**: {verdict} "
                  f"(champion now: version {promotion.champion_after}).", ""]
        if promotion.reason:
            lines += [f"Reason: {promotion.reason}", ""]
    if not metrics:
        lines += ["No metrics files were found under metrics/.", ""]
    for name, values in metrics.items():
        lines += [f"## {name}", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {key} | {_format(value)} |" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


def champion_regressions(current: Mapping[str, float], promoted: Mapping[str, float], gate: GateParams,
                         tolerance: float = 0.0) -> list[str]:
    """One line per gate metric on which `current` is worse than the champion's promotion numbers by > tolerance.

    Uses the register stage's own rule (tsjnet.registry.gate.decide) for directions and missing/non-finite
    metrics, so the scheduled check and the promotion can never disagree on what "worse" means.
    """
    decision = decide(dict(current), dict(promoted), gate)
    return [f"{name} regressed: {_format(current[name])} now vs {_format(promoted[name])} when promoted "
            f"({gate.metrics[name]} is better; allowed drop {tolerance})"
            for name, delta in decision.improvement.items() if delta < -tolerance]


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, leave alone) environment variables for a block, then restore the previous values."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update({key: value for key, value in values.items() if value is not None})
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def champion_markdown(model: str, version: str, current: Mapping[str, float], promoted: Mapping[str, float],
                      gate: GateParams, regressions: Sequence[str]) -> str:
    """The scheduled champion check as Markdown: gate metrics now vs at promotion, then the verdict."""
    lines = [f"# Champion check: {model} version {version}", "",
             "| metric | better | now | at promotion |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {direction} | {_format(current.get(name, math.nan))} | "
              f"{_format(promoted.get(name, math.nan))} |" for name, direction in gate.metrics.items()]
    lines.append("")
    lines += ["**Regressed:**", "", *[f"- {line}" for line in regressions]] if regressions else [
        "**Passed:** no gate metric is worse than when the champion was promoted."]
    return "\n".join(lines) + "\n"
