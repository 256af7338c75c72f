"""`PairDataset` (records + decoding, shared by every reader) and the generic paired-folder reader.

Generic benchmarks (RoadScene, TNO, LLVIP, M3FD) are just two folders whose files match by stem. Pairing is
strict: a name present on one side only, or twice on one side, is an error listing the names, because a
silently dropped or mis-paired image corrupts every fusion metric computed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePath
from typing import TypeVar

import numpy as np

from tsjnet.data.io import is_image_file, read_ir, read_mask, read_vi
from tsjnet.data.labels import read_boxes
from tsjnet.data.types import IGNORE_INDEX, NUM_SEG_CLASSES, PairRecord, Sample
from tsjnet.errors import DataError

# Folder names (ir_dir, vi_dir) of the public benchmarks as they are distributed.
PRESETS: dict[str, tuple[str, str]] = {
    "roadscene": ("cropinfrared", "crop_LR_visible"),
    "tno": ("ir", "vi"),
    "llvip": ("Test_LLVIP_ir", "Test_LLVIP_vi"),
    "m3fd": ("ir", "vi"),
}
# Folders that hold a visible image at another resolution than the IR: never pixel-aligned.
UNALIGNED_DIRS: dict[str, str] = {"crop_HR_visible": "crop_LR_visible"}
DEFAULT_SPLIT = "test"  # generic benchmarks serve cross-dataset evaluation


class PairDataset:
    """A sorted list of `PairRecord`s plus the one way to decode them into `Sample`s."""

    def __init__(self, root: str | Path, records: Iterable[PairRecord]) -> None:
        self.root = Path(root)
        self.records: list[PairRecord] = sorted(records, key=lambda r: (r.name, r.split))
        if not self.records:
            raise DataError(f"{self.root}: no image pairs found; check the dataset root and split")

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Sample]:
        return (self.load(record) for record in self.records)

    def load(self, record: PairRecord) -> Sample:
        """Decode one pair and its labels; size mismatches and bad mask ids raise `DataError`."""
        ir, vi = read_ir(record.ir_path), read_vi(record.vi_path)
        if ir.shape != vi.shape[:2]:
            raise DataError(f"IR/VIS size mismatch for {record.name!r}: {record.ir_path} is {_size(ir)}, "
                            f"{record.vi_path} is {_size(vi)}; use registered pairs of equal size")
        mask = None if record.mask_path is None else _checked_mask(record.mask_path, ir.shape)
        height, width = ir.shape
        boxes = {modality: read_boxes(path, width, height) for modality, path in sorted(record.box_paths.items())}
        return Sample(name=record.name, split=record.split, ir=ir, vi=vi, mask=mask, boxes=boxes)


def _size(arr: np.ndarray) -> str:
    return f"{arr.shape[1]}x{arr.shape[0]}"


def _checked_mask(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    mask = read_mask(path)
    if mask.shape != shape:
        raise DataError(f"{path}: mask is {_size(mask)} but its IR image is {shape[1]}x{shape[0]}; "
                        "re-export the mask at the image size")
    ids = np.unique(mask)
    bad = ids[(ids >= NUM_SEG_CLASSES) & (ids != IGNORE_INDEX)]
    if bad.size:
        raise DataError(f"{path}: mask holds class ids {bad.tolist()} outside 0..{NUM_SEG_CLASSES - 1} "
                        f"(and {IGNORE_INDEX} = ignore); fix the label or remap the ids")
    return mask


def format_names(names: list[str], limit: int = 20) -> str:
    """A comma-separated name list for error messages, truncated so a whole missing folder stays readable."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... (+{len(names) - limit} more)"


#: A file location: a local `Path`, or a `PurePosixPath` key of an object store (tsjnet.batch lists S3 this way).
P = TypeVar("P", bound=PurePath)
#: Whatever a pair's two sides are (paths, S3 URIs).
T = TypeVar("T")


def index_by_stem(images: Iterable[P], where: object) -> dict[str, P]:
    """Image files keyed by stem; two files with one stem (a.png, a.jpg) or none at all are an error naming `where`."""
    found: dict[str, P] = {}
    for path in sorted(images):
        if path.stem in found:
            raise DataError(f"{where}: {found[path.stem].name} and {path.name} share the name {path.stem!r}; "
                            "keep one of them")
        found[path.stem] = path
    if not found:
        raise DataError(f"{where}: no images found (.png/.jpg/.bmp/.tif); put the images there or fix the path")
    return found


def images_by_stem(folder: Path) -> dict[str, Path]:
    """Image files of a folder keyed by stem; two files with one stem (a.png, a.jpg) are an error."""
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found; check the dataset root and folder names")
    return index_by_stem((path for path in folder.iterdir() if is_image_file(path)), folder)


def match_by_stem(ir: Mapping[str, T], vi: Mapping[str, T], ir_where: object,
                  vi_where: object) -> list[tuple[str, T, T]]:
    """(name, ir, vi) for every stem on both sides, sorted by name; a stem on one side only is an error naming it."""
    missing = ((sorted(ir.keys() - vi.keys()), vi_where), (sorted(vi.keys() - ir.keys()), ir_where))
    unpaired = [f"{len(names)} name(s) missing from {where}: {format_names(names)}"
                for names, where in missing if names]
    if unpaired:
        raise DataError(f"unpaired images: {'; '.join(unpaired)}. Add the missing partners or remove the extra files")
    return [(name, ir[name], vi[name]) for name in sorted(ir)]


def pair_folders(ir_dir: Path, vi_dir: Path) -> list[tuple[str, Path, Path]]:
    """(name, ir_path, vi_path) for every stem present in both folders; any unmatched stem is an error."""
    return match_by_stem(images_by_stem(ir_dir), images_by_stem(vi_dir), ir_dir, vi_dir)


def open_paired(root: str | Path, split: str | None = None, *, preset: str | None = None,
                ir_dir: str | None = None, vi_dir: str | None = None) -> PairDataset:
    """A generic paired-folder dataset: `preset` (roadscene, tno, llvip, m3fd) or explicit `ir_dir`/`vi_dir`.

    Folders are relative to `root`; `split` only labels the records (default "test").
    """
    root = Path(root)
    if preset is not None:
        if ir_dir or vi_dir:
            raise ValueError("pass either preset= or ir_dir=/vi_dir=, not both")
        if preset.lower() not in PRESETS:
            raise ValueError(f"unknown paired preset {preset!r}; choose one of {', '.join(PRESETS)}")
        ir_dir, vi_dir = PRESETS[preset.lower()]
    if not ir_dir or not vi_dir:
        raise ValueError("paired datasets need preset= or both ir_dir= and vi_dir=")
    if Path(vi_dir).name in UNALIGNED_DIRS:
        raise DataError(f"{root / vi_dir}: not pixel-aligned with the IR images (different resolution); "
                        f"use {UNALIGNED_DIRS[Path(vi_dir).name]} instead")
    label = split or DEFAULT_SPLIT
    records = (PairRecord(name=n, split=label, ir_path=i, vi_path=v) for n, i, v in pair_folders(root / ir_dir, root / vi_dir))
    return PairDataset(root, records)
