"""Fusion metrics of a fused split: the mean of every `tsjnet.metrics` key over its images.

Scoring reads the saved PNGs back through `tsjnet.metrics.evaluate_folders`, so the numbers describe the
files a user finds in `evaluate.fused_dir` and are reproducible with `tsjnet evaluate --ir --vi --fused`.
The headline metrics also get their 95% bootstrap interval over images, as ``<metric>_ci_low``/``_ci_high``
next to the mean (flat, so readers of the means are unaffected).
"""

from __future__ import annotations

from pathlib import Path

from tsjnet.data.paired import PairDataset
from tsjnet.errors import DataError
from tsjnet.metrics import evaluate_folders
from tsjnet.metrics.bootstrap import mean_ci
from tsjnet.metrics.suite import HEADLINE_METRICS


def source_folders(dataset: PairDataset) -> tuple[Path, Path]:
    """The one IR folder and one VIS folder that hold every pair of `dataset`."""
    folders = {(record.ir_path.parent, record.vi_path.parent) for record in dataset.records}
    if len(folders) != 1:
        raise DataError(f"{dataset.root}: the evaluated pairs come from {len(folders)} folder pairs; set "
                        "evaluate.split to one split folder (e.g. test), not a names file across splits")
    return folders.pop()


def fusion_means(dataset: PairDataset, fused_dir: str | Path) -> dict[str, float]:
    """Mean of each fusion metric over the pairs of `dataset` fused into `fused_dir`, with the intervals of the
    headline metrics."""
    ir_dir, vi_dir = source_folders(dataset)
    result = evaluate_folders(ir_dir, vi_dir, fused_dir)
    means = dict(result["mean"])
    for metric in HEADLINE_METRICS:
        means |= mean_ci([values[metric] for values in result["per_image"].values()]).fields(metric)
    return means
