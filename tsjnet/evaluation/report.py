"""The Markdown evaluation report: fusion tables per dataset, the task table, verdicts, grids.

Every number is shown with its 95% bootstrap interval over images (``0.512 [0.498, 0.527]``), read from the
``*_ci_low``/``*_ci_high`` fields next to it in the metrics JSON. Each table marks the best mean of every column
in bold, in the metric's own direction (lower is better for MSE and CV, higher for everything else); ties are
all bold, undefined values (n/a) never are, and a column where every row has the same value has no bold at all.
Bold is not a claim: only the verdicts compare, each on the paired interval of a difference over the same images,
and say "better" or "worse" only when that interval excludes 0 ("within noise" otherwise).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tsjnet.data.types import DET_CLASSES, SEG_CLASSES
from tsjnet.evaluation.summary import best_source
from tsjnet.tasks.scoring import TASK_RESAMPLES, TRUTH_NAME, cross_judged, split_cross_judged
from tsjnet.metrics.bootstrap import LEVEL, N_RESAMPLES, Interval, Resampled, verdict
from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER

SOURCE_LABELS = {"infrared": "IR", "visible": "VIS"}
TASK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("map50", "mAP@0.5"), ("map", "mAP@[.5:.95]"), ("miou", "mIoU"), ("miou_no_bg", "mIoU w/o background"))


@dataclass
class ReportData:
    """Everything the report shows; datasets keyed by display name, the main (labelled) one first."""

    main_dataset: str
    split: str
    primary: str
    ablation: str | None
    image_counts: dict[str, int]
    fusion: dict[str, dict[str, dict[str, float]]]  # dataset -> method -> metric -> mean
    task: dict[str, dict[str, object]]  # input (infrared, visible, method) -> task metrics
    grids: dict[str, Path]  # dataset -> sample grid PNG
    judges: str  # how fused images were judged (tsjnet.evaluation.judges.protocol), a clause of the task section
    figures: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # method -> why it was not evaluated
    task_draws: dict[str, Resampled] = field(default_factory=dict)  # input -> scores on the shared bootstrap draws
    credits: dict[str, str] = field(default_factory=dict)  # method -> the attribution its licence asks for


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


def _interval(value: object) -> Interval:
    """A table cell as an interval with NaN for every undefined part (a bare number has no interval)."""
    parts = (value.mean, value.low, value.high) if isinstance(value, Interval) else (value, math.nan, math.nan)
    return Interval(*map(_number, parts))


def group_intervals(metrics: Mapping[str, object], group: str) -> dict[str, Interval]:
    """Per-class values of `group` (``IoU``, ``AP50``) with the ``<group>_ci_low``/``_ci_high`` dicts beside them."""
    lows, highs = (metrics.get(f"{group}_ci_{side}") or {} for side in ("low", "high"))
    return {name: Interval(_number(value), _number(lows.get(name)), _number(highs.get(name)))
            for name, value in metrics[group].items()}


def best_rows(values: Mapping[str, object], lower_is_better: bool = False) -> set[str]:
    """Row names holding the best finite value (an interval's mean) of one column (all on a tie; none if nothing
    differs)."""
    finite = {row: _interval(v).mean for row, v in values.items() if math.isfinite(_interval(v).mean)}
    if len(set(finite.values())) < 2:
        return set()
    target = (min if lower_is_better else max)(finite.values())
    return {row for row, value in finite.items() if value == target}


def markdown_table(rows: Mapping[str, Mapping[str, object]], columns: Sequence[tuple[str, str]],
                   lower_is_better: frozenset[str] = frozenset(), first: str = "method") -> list[str]:
    """A Markdown table of `rows` (label -> key -> number or Interval) with the best mean per column in bold."""
    best = {key: best_rows({row: values.get(key) for row, values in rows.items()}, key in lower_is_better)
            for key, _ in columns}
    lines = [f"| {first} | " + " | ".join(label for _, label in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for row, values in rows.items():
        cells = []
        for key, _ in columns:
            value = _interval(values.get(key))
            text = "n/a" if math.isnan(value.mean) else value.format(4)
            cells.append(f"**{text}**" if row in best[key] else text)
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def fusion_columns() -> list[tuple[str, str]]:
    """Headline fusion metrics with the direction that is better."""
    return [(name, f"{name} {'↓' if name in LOWER_IS_BETTER else '↑'}") for name in HEADLINE_METRICS]


def input_label(name: str) -> str:
    """IR / VIS for the raw modalities (with the detector when it is not their own), the method for fused inputs."""
    cross = split_cross_judged(name)
    if cross is not None:
        return f"{SOURCE_LABELS[cross[0]]}, judged by {cross[1]}"
    return SOURCE_LABELS.get(name, f"fused: {name}")


def compare_inputs(data: ReportData, candidate: str, baseline: str, key: str) -> str:
    """``better (difference +0.0123 [+0.0040, +0.0210]; 0.3045 vs 0.2922)`` on task score `key`: the verdict of
    the paired interval over the images (both inputs were scored on the same bootstrap draws)."""
    values = [_number(data.task[name].get(key)) for name in (candidate, baseline)]
    if any(math.isnan(value) for value in values):
        return "undetermined (no defined score)"
    draws = [data.task_draws.get(name) for name in (candidate, baseline)]
    difference = (draws[0].difference(draws[1], key) if None not in draws
                  else Interval(values[0] - values[1], math.nan, math.nan))
    return (f"{verdict(difference)} (difference {difference.format(4, signed=True)}; "
            f"{values[0]:.4f} vs {values[1]:.4f})")


def beats_single_line(data: ReportData, key: str, label: str) -> str:
    """"Fused (primary) vs the best single modality (IR) on `label`: <verdict> (difference ...)"."""
    best = best_source(data.task, key)
    modality = f" ({SOURCE_LABELS[best[0]]})" if best else ""
    head = f"Fused ({data.primary}) vs the best single modality{modality} on {label}:"
    if best is None:
        return f"{head} undetermined (no defined score)"
    return f"{head} {compare_inputs(data, data.primary, best[0], key)}"


def same_judge_line(data: ReportData, key: str, label: str) -> str | None:
    """"Fused (primary) vs IR, both judged by <detector>, on `label`: <verdict> (...)": the best single modality
    under the primary's own judge, so the difference is the fused images' alone; None when that row was not scored."""
    best = best_source(data.task, key)
    judge = data.task.get(data.primary, {}).get("detector")
    row = cross_judged(best[0], str(judge)) if best and judge else None
    if row not in data.task:
        return None
    return (f"Fused ({data.primary}) vs {SOURCE_LABELS[best[0]]}, both judged by the {judge} detector, on {label} "
            f"(the judge's own gap on this kind of image left out): {compare_inputs(data, data.primary, row, key)}")


def ablation_line(data: ReportData) -> str:
    """"Joint vs fusion-only training (primary - ablation): mAP@0.5 <verdict> (...), mIoU <verdict> (...)", or
    why it was not run."""
    head = "Joint vs fusion-only training"
    if data.ablation is None:
        return f"{head}: not run (no evaluate.ablation method configured)"
    if data.ablation not in data.task:
        reason = data.skipped.get(data.ablation, "not evaluated")
        return f"{head}: not run ({data.ablation}: {reason})"
    parts = [f"{label} {compare_inputs(data, data.primary, data.ablation, key)}"
             for key, label in (("map50", "mAP@0.5"), ("miou", "mIoU"))]
    return f"{head} ({data.primary} - {data.ablation}): " + ", ".join(parts)


def verdict_rule() -> str:
    """How to read the verdicts (the interval behind them and when they may say "better")."""
    return (f"Each verdict is on the paired difference over the same images with its {LEVEL:.0%} bootstrap interval "
            f"([low, high], {TASK_RESAMPLES} resamples of the images, mAP and mIoU recomputed on each): "
            "\"better\" or \"worse\" only when the interval excludes 0, \"within noise\" otherwise.")


def _image(path: Path, report: Path, alt: str) -> str:
    return f"![{alt}]({Path(os.path.relpath(path, report.parent)).as_posix()})"


def _task_section(data: ReportData, report: Path) -> list[str]:
    rows = {input_label(name): metrics for name, metrics in data.task.items()}
    headline = {row: {key: Interval.read(metrics, key) for key, _ in TASK_COLUMNS} for row, metrics in rows.items()}
    lines = [f"## Task-driven evaluation ({data.main_dataset}, {data.split} split, "
             f"{data.image_counts[data.main_dataset]} images)", "",
             f"Every input is scored against the same truth: the **{TRUTH_NAME}** (the objects present in the "
             "scene, whichever sensor shows them) and the segmentation masks. IR and VIS images go through their own "
             f"modality's detector; {data.judges}. One segmenter judges all inputs (IR as gray RGB). A single "
             "modality therefore loses the objects it cannot show, which is what fusion is meant to recover. "
             "Rows \"IR, judged by ...\" and \"VIS, judged by ...\" put the raw images through the primary method's "
             "judge: their gap to the IR and VIS rows is that detector's weakness on such images, which no fusion can "
             "remove, so fused vs IR under this one judge measures what the fused images themselves lose. mIoU "
             "includes the background class (headline), as "
             f"in the SeAFusion MSRS tables. [low, high]: {LEVEL:.0%} bootstrap interval over images ("
             f"{TASK_RESAMPLES} resamples, each score recomputed on the resample). Bold: the best value of a column, "
             "not a claim that it beats the others (see the verdicts).", ""]
    lines += markdown_table(headline, TASK_COLUMNS, first="input")
    lines += ["", "Detector per input: " + ", ".join(f"{row}: {values.get('detector') or 'none trained'}"
                                                     for row, values in rows.items()), ""]
    lines += ["### Per-class IoU", ""]
    segmented = {input_label(name): metrics for name, metrics in data.task.items() if split_cross_judged(name) is None}
    lines += markdown_table({r: group_intervals(v, "IoU") for r, v in segmented.items()},
                            [(c, c) for c in SEG_CLASSES], first="input")
    detected = {r: group_intervals(v, "AP50") for r, v in rows.items() if "AP50" in v}
    if detected:
        lines += ["", "### Per-class AP@0.5", ""]
        lines += markdown_table(detected, [(c, c) for c in DET_CLASSES], first="input")
    if data.figures:
        lines += ["", "### Figures", ""] + [f"- {_image(p, report, p.stem)}" for p in data.figures]
    return lines + [""]


def render_report(data: ReportData, report: str | Path) -> str:
    """The report's Markdown; image links are relative to `report`'s folder."""
    report = Path(report)
    lines = ["# Evaluation", "",
             f"Primary method: **{data.primary}** (its numbers feed the promotion gate). The pipeline's methods were "
             f"trained on {data.main_dataset}, from the weights of train.init_from when it is set; released weights "
             "are as their authors trained them. Other datasets test generalisation with label-free fusion "
             "metrics.", ""]
    lines += ["## Verdicts", "", f"On {data.main_dataset} ({data.split} split). {verdict_rule()}", "",
              "- " + beats_single_line(data, "map50", "mAP@0.5"),
              *(f"- {line}" for line in [same_judge_line(data, "map50", "mAP@0.5")] if line),
              "- " + beats_single_line(data, "miou", "mIoU"),
              "- " + ablation_line(data), ""]
    if data.credits:
        lines += ["Credits: " + "; ".join(f"{name}: {credit}" for name, credit in data.credits.items()), ""]
    if data.skipped:
        lines += ["Not evaluated: " + "; ".join(f"{name} ({why})" for name, why in data.skipped.items()), ""]
    lines += _task_section(data, report)
    for dataset, methods in data.fusion.items():
        lines += [f"## Fusion metrics: {dataset} ({data.image_counts[dataset]} images)", "",
                  f"Means over images with their {LEVEL:.0%} bootstrap interval [low, high] ({N_RESAMPLES} resamples "
                  "of the images); definitions in docs/metrics.md (↑ higher is better, ↓ lower is better). Bold: "
                  "the best mean of a column, not a claim that it beats the others.", ""]
        rows = {method: {key: Interval.read(means, key) for key, _ in fusion_columns()}
                for method, means in methods.items()}
        lines += markdown_table(rows, fusion_columns(), LOWER_IS_BETTER)
        if dataset in data.grids:
            lines += ["", _image(data.grids[dataset], report, f"{dataset} samples: IR | VIS | "
                                                                  + " | ".join(methods))]
        lines.append("")
    return "\n".join(lines)


def write_report(data: ReportData, path: str | Path) -> Path:
    """Write the Markdown report to `path` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data, path))
    return path
