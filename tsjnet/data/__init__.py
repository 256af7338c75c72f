"""Dataset readers behind one entry point: `open_dataset(kind, root, split, **kw) -> PairDataset`.

Every reader yields the same aligned `Sample` (IR (H, W) uint8, VIS (H, W, 3) uint8 RGB, optional mask and
per-modality pixel boxes), so stages, training and evaluation never branch on where the data came from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tsjnet.data.msrs import open_msrs
from tsjnet.data.paired import PRESETS, PairDataset, open_paired
from tsjnet.data.types import PairRecord, Sample

READERS: dict[str, Callable[..., PairDataset]] = {"msrs": open_msrs, "paired": open_paired}


def open_dataset(kind: str, root: str | Path, split: str | None = None, **kw: Any) -> PairDataset:
    """Open `root` with the reader for `kind`.

    - ``"msrs"``: `split` is a split folder (train/test), a names file (``.txt``), or None for all split
      folders; ``names_file=`` selects names across split folders.
    - ``"paired"``: ``preset=`` one of `PRESETS` or ``ir_dir=``/``vi_dir=`` relative to `root`; `split` labels
      the records (default "test").
    """
    if kind not in READERS:
        raise ValueError(f"unknown dataset kind {kind!r}; choose one of {', '.join(READERS)}")
    return READERS[kind](root, split, **kw)


__all__ = ["PRESETS", "READERS", "PairDataset", "PairRecord", "Sample", "open_dataset"]
