"""Sample grids for the report: one row per pair, columns IR | VIS | each method's fused image.

Samples are spread evenly over the split (first, last, and between), so a grid shows day and night scenes
of SynthScenes/MSRS rather than three neighbours. Built on `matplotlib.figure.Figure` like tsjnet.metrics.plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tsjnet.data.io import read_vi
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import PairRecord
from tsjnet.evaluation.fuse_split import fused_path

PANEL_INCHES = 2.2


def grid_records(dataset: PairDataset, count: int) -> list[PairRecord]:
    """`count` records spread evenly over the dataset (all of them when it has fewer)."""
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round().astype(int))
    return [dataset.records[i] for i in indices]


def sample_grid(dataset: PairDataset, fused_dirs: dict[str, Path], count: int, path: str | Path,
                title: str) -> Path:
    """Write the grid PNG of `count` pairs with the methods of `fused_dirs` (name -> folder) to `path`."""
    records = grid_records(dataset, count)
    columns: Sequence[str] = ("IR", "VIS", *fused_dirs)
    height, width = dataset.load(records[0]).ir.shape
    panel_height = PANEL_INCHES * height / width
    figure = Figure(figsize=(PANEL_INCHES * len(columns), panel_height * len(records) + 0.6))
    axes = figure.subplots(len(records), len(columns), squeeze=False)
    for row, record in enumerate(records):
        sample = dataset.load(record)
        images = [sample.ir, sample.vi, *(read_vi(fused_path(folder, record.name)) for folder in fused_dirs.values())]
        for column, (name, image) in enumerate(zip(columns, images)):
            ax = axes[row, column]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name, fontsize=9)
            if column == 0:
                ax.set_ylabel(record.name, fontsize=8)
    figure.suptitle(title, fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path
