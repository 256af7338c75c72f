"""One fusion method against reference methods on the same pairs: 13 metrics, intervals, verdicts.

Used wherever the project claims that a model fuses real pairs better than something else (the shipped model's
card, `tsjnet bench`): every method fuses every pair at its native size through `fuse_pair` (the serving path),
each metric's mean comes with a 95% bootstrap interval over the pairs, and a candidate "beats" a reference on a
metric only when the interval of the paired per-pair difference excludes 0 (`tsjnet.metrics.bootstrap`).
``mean_wins`` counts the plain comparison of means as well, for readers who know the issue's older yardstick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import track

from tsjnet.data.paired import PairDataset
from tsjnet.metrics import fusion_metrics
from tsjnet.metrics.bootstrap import compare, mean_ci
from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.fuse import fuse_pair

PerImage = dict[str, dict[str, float]]  # pair name -> metric -> value
console = Console(stderr=True)


def score_pairs(model: FusionModel, pairs: PairDataset, label: str) -> PerImage:
    """Every metric of every pair fused by `model` (colour output, as `tsjnet fuse` writes it)."""
    scores = {}
    for record in track(pairs.records, description=f"fuse and score {label}", console=console, transient=True):
        sample = pairs.load(record)
        scores[record.name] = fusion_metrics(sample.ir, sample.vi, fuse_pair(model, sample.ir, sample.vi))
    return scores


def _column(scores: PerImage, metric: str, names: Sequence[str]) -> list[float]:
    return [scores[name][metric] for name in names]


def versus(candidate: PerImage, reference: PerImage) -> dict[str, Any]:
    """Per metric: the paired difference candidate - reference with its interval and verdict; the tallies."""
    names = sorted(candidate)
    if sorted(reference) != names:
        raise ValueError("a comparison needs both methods scored on the same pairs")
    metrics, tally = {}, {"better": 0, "worse": 0, "within noise": 0, "mean_wins": 0}
    for metric in HEADLINE_METRICS:
        lower = metric in LOWER_IS_BETTER
        difference, word = compare(_column(candidate, metric, names), _column(reference, metric, names), lower)
        mean_win = difference.mean <= 0 if lower else difference.mean >= 0
        metrics[metric] = {**difference.as_dict(), "verdict": word, "mean_win": bool(mean_win)}
        tally[word] += 1
        tally["mean_wins"] += int(mean_win)
    return {"metrics": metrics, **{key.replace(" ", "_"): value for key, value in tally.items()},
            "majority_better": 2 * tally["better"] > len(HEADLINE_METRICS)}


def compare_methods(scores: Mapping[str, PerImage], candidates: Sequence[str]) -> dict[str, Any]:
    """Means with intervals for every method, and each candidate against every other method."""
    names = sorted(next(iter(scores.values())))
    means = {method: {metric: mean_ci(_column(rows, metric, names)).as_dict() for metric in HEADLINE_METRICS}
             for method, rows in scores.items()}
    return {"pairs": len(names), "means": means,
            "versus": {candidate: {other: versus(scores[candidate], scores[other])
                                   for other in scores if other != candidate} for candidate in candidates}}


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _interval(entry: Mapping[str, float]) -> str:
    return f"{_number(entry['mean'])} [{_number(entry['ci_low'])}, {_number(entry['ci_high'])}]"


def comparison_markdown(result: Mapping[str, Any], title: str) -> str:
    """Two tables: metric means [95% CI] per method, then each candidate's verdict counts against the others."""
    header = "| method | " + " | ".join(HEADLINE_METRICS) + " |"
    lines = [f"#### {title}: {result['pairs']} pairs, mean [95% bootstrap CI over pairs]", "", header,
             "|---|" + "---:|" * len(HEADLINE_METRICS)]
    candidates = list(result["versus"])  # first, then the others: the same table from a key-sorted JSON copy
    methods = candidates + [method for method in result["means"] if method not in candidates]
    lines += [f"| {method} | " + " | ".join(_interval(result["means"][method][m]) for m in HEADLINE_METRICS) + " |"
              for method in methods]
    lines += ["", "| candidate | vs | better (CI excludes 0) | worse | within noise | mean higher/better | "
              "metrics where better |", "|---|---|---:|---:|---:|---:|---|"]
    for candidate, against in result["versus"].items():
        for other, row in against.items():
            won = ", ".join(m for m in HEADLINE_METRICS if row["metrics"][m]["verdict"] == "better") or "-"
            lines.append(f"| {candidate} | {other} | {row['better']} | {row['worse']} | {row['within_noise']} | "
                         f"{row['mean_wins']} | {won} |")
    return "\n".join(lines) + "\n"
