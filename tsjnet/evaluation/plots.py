"""DVC plots of the task evaluation: CSV tables (one row per input) and PNG figures.

The CSVs are what `dvc plots show/diff` draws (x = input, y = the score), so two commits can be compared
input by input. Figures (per-class bars, confusion matrices via tsjnet.metrics.plots) are drawn for the two
single modalities and the primary method: the comparison the verdicts are about; every input's per-class
numbers are in metrics/task.json and the report.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from tsjnet.data.types import SEG_CLASSES
from tsjnet.tasks.scoring import TaskScores
from tsjnet.metrics.plots import plot_confusion_matrix, plot_per_class

#: CSV file -> the task metric it holds (column name = metric key).
TASK_CSVS: dict[str, str] = {"task_miou.csv": "miou", "task_map50.csv": "map50"}
FIGURES_DIR = "figures"


def write_task_csvs(task: Mapping[str, Mapping[str, object]], plots_dir: str | Path) -> list[Path]:
    """``input,<metric>`` CSVs of TASK_CSVS; inputs without the metric (no detector) are left out."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, key in TASK_CSVS.items():
        path = plots_dir / filename
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["input", key])
            writer.writerows([name, repr(float(metrics[key]))] for name, metrics in task.items() if key in metrics)
        written.append(path)
    return written


def task_figures(scores: Mapping[str, TaskScores], names: Sequence[str], plots_dir: str | Path) -> list[Path]:
    """Per-class IoU and AP@0.5 bars and the confusion matrix of each input in `names`."""
    folder = Path(plots_dir) / FIGURES_DIR
    written = []
    for name in names:
        metrics = scores[name].metrics
        written.append(plot_per_class(metrics["IoU"], folder / f"iou_{name}.png", f"Per-class IoU: {name}", "IoU"))
        if "AP50" in metrics:
            written.append(plot_per_class(metrics["AP50"], folder / f"ap50_{name}.png", f"Per-class AP@0.5: {name}",
                                          "AP@0.5"))
        written.append(plot_confusion_matrix(scores[name].confusion, SEG_CLASSES, folder / f"confusion_{name}.png",
                                             f"Segmentation confusion: {name}"))
    return written
