"""Fuse every pair of a dataset split with one method and keep the results as lossless PNGs.

Fusion goes through `tsjnet.registry.fuse.fuse_pair`, the same path as serving and `tsjnet fuse`: the model
input is `tsjnet.colour.prepare_pair` (as in training), the output is native size with the VIS chroma. What
is evaluated is therefore exactly what a user of the registered model gets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from rich.progress import track

from tsjnet.colour import to_tensor
from tsjnet.data.io import read_vi
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import Sample
from tsjnet.errors import DataError
from tsjnet.evaluation.methods import Method
from tsjnet.registry.fuse import fuse_pair
from tsjnet.tasks.inputs import as_rgb
from tsjnet.tasks.scoring import TaskInput


def fused_path(folder: str | Path, name: str) -> Path:
    """Where the fused image of pair `name` lives in a method's folder."""
    return Path(folder) / f"{name}.png"


def fused_image(folder: str | Path) -> Callable[[Sample], torch.Tensor]:
    """Sample -> its fused PNG in a method's `folder`, as the task networks take it."""
    return lambda sample: as_rgb(to_tensor(read_vi(fused_path(folder, sample.name))))


def fused_input(name: str, folder: str | Path, detector: str) -> TaskInput:
    """A method's fused PNGs from `folder`, judged by the detector under key `detector` of `TaskNets.detectors`."""
    return TaskInput(name, detector, fused_image(folder))


def fuse_split(method: Method, dataset: PairDataset, out_dir: str | Path, label: str = "") -> list[Path]:
    """Write `out_dir`/<name>.png (RGB) for every pair of `dataset`; returns the paths in record order.

    Stale PNGs from an earlier run with other pairs are removed, so the folder always matches the split.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {fused_path(out_dir, record.name) for record in dataset.records}
    for stale in set(out_dir.glob("*.png")) - wanted:
        stale.unlink()
    written = []
    for record in track(dataset.records, description=f"fuse {label or method.name}", transient=True):
        sample = dataset.load(record)
        try:
            fused = fuse_pair(method.model, sample.ir, sample.vi)
        except DataError as error:
            raise DataError(f"pair {record.name!r} ({record.ir_path}): {error}") from None
        path = fused_path(out_dir, record.name)
        Image.fromarray(np.ascontiguousarray(fused)).save(path)
        written.append(path)
    return written
