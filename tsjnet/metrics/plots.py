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


def plot_differences(panels: Mapping[str, Sequence[tuple[str, float, float, float, Sequence[float]]]],
                     path: str | Path, title: str) -> Path:
    """Forest plot, one panel per metric: each row's difference with its 95% interval (bar), its per-seed values
    (dots) and the zero line, so "better" reads as an interval right of 0. Rows: (label, mean, low, high, seeds)."""
    height = max(len(rows) for rows in panels.values()) if panels else 1
    figure = Figure(figsize=(4.5 * max(len(panels), 1), 0.45 * height + 1.4))
    for index, (metric, rows) in enumerate(panels.items(), 1):
        axes = figure.add_subplot(1, len(panels), index)
        y = np.arange(len(rows))[::-1]
        for row_y, (_, mean, low, high, seeds) in zip(y, rows):
            if np.isfinite(low) and np.isfinite(high):
                axes.plot([low, high], [row_y, row_y], color="tab:blue", linewidth=2)
            axes.plot([mean], [row_y], marker="D", color="tab:blue")
            axes.plot(list(seeds), [row_y] * len(seeds), linestyle="none", marker="o", markersize=3, color="tab:gray")
        axes.axvline(0.0, color="black", linewidth=0.8)
        axes.set_yticks(y, [row[0] for row in rows] if index == 1 else [""] * len(rows))
        axes.set_title(metric)
        axes.set_xlabel("difference (95% CI; dots: seeds)")
    figure.suptitle(title)
    return _save(figure, path)
