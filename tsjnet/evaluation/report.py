"""The Markdown evaluation report: fusion tables per dataset, the task table, plain yes/no statements, grids.

Each table marks the best value of every column in bold, in the metric's own direction (lower is better
for MSE and CV, higher for everything else); ties are all bold, undefined values (n/a) never are, and a
column where every row has the same value has no bold at all (nothing stands out).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tsjnet.data.types import DET_CLASSES, SEG_CLASSES
from tsjnet.evaluation.summary import best_source
from tsjnet.evaluation.task_eval import TRUTH_BOXES
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
    figures: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # method -> why it was not evaluated


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


def best_rows(values: Mapping[str, object], lower_is_better: bool = False) -> set[str]:
    """Row names holding the best finite value of one column (all on a tie; none if nothing differs)."""
    finite = {row: _number(v) for row, v in values.items() if math.isfinite(_number(v))}
    if len(set(finite.values())) < 2:
        return set()
    target = (min if lower_is_better else max)(finite.values())
    return {row for row, value in finite.items() if value == target}


def markdown_table(rows: Mapping[str, Mapping[str, object]], columns: Sequence[tuple[str, str]],
                   lower_is_better: frozenset[str] = frozenset(), first: str = "method") -> list[str]:
    """A Markdown table of `rows` (label -> key -> value) with the best value per column in bold."""
    best = {key: best_rows({row: values.get(key) for row, values in rows.items()}, key in lower_is_better)
            for key, _ in columns}
    lines = [f"| {first} | " + " | ".join(label for _, label in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for row, values in rows.items():
        cells = []
        for key, _ in columns:
            value = _number(values.get(key))
            text = "n/a" if math.isnan(value) else f"{value:.4f}"
            cells.append(f"**{text}**" if row in best[key] else text)
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def fusion_columns() -> list[tuple[str, str]]:
    """Headline fusion metrics with the direction that is better."""
    return [(name, f"{name} {'↓' if name in LOWER_IS_BETTER else '↑'}") for name in HEADLINE_METRICS]


def input_label(name: str) -> str:
    """IR / VIS for the raw modalities, the method name for fused inputs."""
    return SOURCE_LABELS.get(name, f"fused: {name}")


def beats_single_line(data: ReportData, key: str, label: str) -> str:
    """"Fused (primary) beats the best single modality on `label`: yes/no (x vs y)"."""
    head = f"Fused ({data.primary}) beats the best single modality on {label}:"
    fused, best = _number(data.task[data.primary].get(key)), best_source(data.task, key)
    if math.isnan(fused) or best is None:
        return f"{head} undetermined (no defined score)"
    verdict = "yes" if fused > best[1] else "no"
    return f"{head} {verdict} ({fused:.4f} vs {best[1]:.4f}, {SOURCE_LABELS[best[0]]})"


def ablation_line(data: ReportData) -> str:
    """"Joint training beats fusion-only training: yes/no" (better on both mAP@0.5 and mIoU), or why not run."""
    head = "Joint training beats fusion-only training:"
    if data.ablation is None:
        return f"{head} not run (no evaluate.ablation method configured)"
    if data.ablation not in data.task:
        reason = data.skipped.get(data.ablation, "not evaluated")
        return f"{head} not run ({data.ablation}: {reason})"
    joint, alone = data.task[data.primary], data.task[data.ablation]
    pairs = [(label, _number(joint.get(key)), _number(alone.get(key))) for key, label in (("map50", "mAP@0.5"),
                                                                                          ("miou", "mIoU"))]
    if any(math.isnan(value) for _, j, a in pairs for value in (j, a)):
        verdict = "undetermined"
    else:
        verdict = "yes" if all(j > a for _, j, a in pairs) else "no"
    detail = ", ".join(f"{label} {j:.4f} vs {a:.4f}" for label, j, a in pairs)
    return f"{head} {verdict} ({data.primary} vs {data.ablation}: {detail}; yes = better on both)"


def _image(path: Path, report: Path, alt: str) -> str:
    return f"![{alt}]({Path(os.path.relpath(path, report.parent)).as_posix()})"


def _task_section(data: ReportData, report: Path) -> list[str]:
    rows = {input_label(name): metrics for name, metrics in data.task.items()}
    lines = [f"## Task-driven evaluation ({data.main_dataset}, {data.split} split, "
             f"{data.image_counts[data.main_dataset]} images)", "",
             f"Every input is scored against the same truth: the **{TRUTH_BOXES}** boxes (the union of the objects "
             "visible in either modality) and the segmentation masks. IR and VIS images go through their own "
             "modality's detector, fused images through the fusion detector (params detector.fusion_detector); one "
             "segmenter judges all inputs (IR as gray RGB). A single modality therefore loses the objects it cannot "
             "show, which is what fusion is meant to recover. mIoU includes the background class (headline), as "
             "in the SeAFusion MSRS tables.", ""]
    lines += markdown_table(rows, TASK_COLUMNS, first="input")
    lines += ["", "Detector per input: " + ", ".join(f"{row}: {values.get('detector') or 'none trained'}"
                                                     for row, values in rows.items()), ""]
    lines += ["### Per-class IoU", ""]
    lines += markdown_table({r: v["IoU"] for r, v in rows.items()}, [(c, c) for c in SEG_CLASSES], first="input")
    detected = {r: v["AP50"] for r, v in rows.items() if "AP50" in v}
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
             f"Primary method: **{data.primary}** (its numbers feed the promotion gate). Methods were trained on "
             f"{data.main_dataset} only; other datasets test generalisation with label-free fusion metrics.", ""]
    lines += ["## Verdicts", "", f"On {data.main_dataset} ({data.split} split):", "",
              "- " + beats_single_line(data, "map50", "mAP@0.5"),
              "- " + beats_single_line(data, "miou", "mIoU"),
              "- " + ablation_line(data), ""]
    if data.skipped:
        lines += ["Not evaluated: " + "; ".join(f"{name} ({why})" for name, why in data.skipped.items()), ""]
    lines += _task_section(data, report)
    for dataset, methods in data.fusion.items():
        lines += [f"## Fusion metrics: {dataset} ({data.image_counts[dataset]} images)", "",
                  "Means over images; definitions in docs/metrics.md (↑ higher is better, ↓ lower is better).", ""]
        lines += markdown_table(methods, fusion_columns(), LOWER_IS_BETTER)
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
