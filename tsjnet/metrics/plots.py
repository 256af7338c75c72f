"""PNG plots of evaluation results: per-class bars (AP, IoU) and a confusion matrix.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot), so plotting never touches the global
backend or leaks figures in long pipeline runs; saving to .png uses the Agg renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_per_class(values: Mapping[str, float], path: str | Path, title: str, ylabel: str) -> Path:
    """Bar per class (values in 0..1, e.g. AP or IoU); NaN classes (not scored) are labelled 'n/a'."""
    names = list(values)
    heights = np.array([values[name] for name in names], dtype=np.float64)
    figure = Figure(figsize=(max(4.0, 0.8 * len(names) + 1.5), 3.5))
    axes = figure.add_subplot()
    bars = axes.bar(names, np.nan_to_num(heights, nan=0.0), color="tab:blue")
    axes.bar_label(bars, labels=["n/a" if np.isnan(h) else f"{h:.2f}" for h in heights], fontsize=8)
    axes.set_ylim(0, 1.1)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=45)
    return _save(figure, path)


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix (rows: target, columns: prediction); empty rows stay 0."""
    counts = np.asarray(matrix, dtype=np.float64)
    if counts.shape != (len(class_names), len(class_names)):
        raise ValueError(f"matrix shape {counts.shape} does not match {len(class_names)} class names")
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = 1.0 + 0.6 * len(class_names)
    figure = Figure(figsize=(size + 1.0, size))
    axes = figure.add_subplot()
    image = axes.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, labels=class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, labels=class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("target")
    axes.set_title(title)
    for (i, j), value in np.ndenumerate(normalised):
        axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                  color="white" if value > 0.5 else "black")
    return _save(figure, path)
