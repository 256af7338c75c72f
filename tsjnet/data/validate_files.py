"""Per-file checks behind the validate stage: every pair is fully decoded and every label read.

Each check collects a `Problem` instead of raising, so one run lists every bad file in the dataset rather
than stopping at the first (the readers in tsjnet.data raise at the first problem, which suits training).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import track

from tsjnet.data.io import is_image_file, read_ir, read_mask, read_vi
from tsjnet.data.labels import box_problems, read_boxes
from tsjnet.data.types import IGNORE_INDEX, NUM_SEG_CLASSES, PairRecord
from tsjnet.errors import DataError

# Check names, in report order, with what each one guarantees.
FILE_CHECKS: dict[str, str] = {
    "partner present": "IR image, VIS image and every listed label file exist",
    "decodable": "every image and mask decodes completely (not truncated or corrupt)",
    "equal sizes": "IR, VIS and mask of a pair have the same width x height",
    "mask ids": f"mask pixels are class ids 0..{NUM_SEG_CLASSES - 1} or {IGNORE_INDEX} (ignore)",
    "labels parse": "every detection label file parses (YOLO .txt / VOC .xml)",
    "boxes": "boxes are non-empty and inside the image",
    "listed in manifest": "every image under the data root belongs to a manifest row",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, under the check that found it."""

    check: str
    path: Path
    message: str

    @classmethod
    def from_error(cls, check: str, path: Path, error: DataError) -> Problem:
        """A problem from a reader's `DataError`, without the leading file name it already carries."""
        text = str(error)
        if text.startswith(str(path)):
            text = re.sub(r"^:(\d+):", r"line \1:", text[len(str(path)):]).lstrip(": ")
        return cls(check, path, text)


def invalid_mask_ids(mask: np.ndarray) -> list[int]:
    """Mask values that are neither a segmentation class id nor the ignore index."""
    ids = np.unique(mask)
    return ids[(ids >= NUM_SEG_CLASSES) & (ids != IGNORE_INDEX)].tolist()


def outside_fraction(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Share of each pixel box's area that lies outside the image (0 for empty boxes)."""
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float64) for i in range(1, 5))
    area = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    inside = np.clip(np.minimum(x2, width) - np.maximum(x1, 0), 0, None) * \
        np.clip(np.minimum(y2, height) - np.maximum(y1, 0), 0, None)
    return np.divide(area - inside, area, out=np.zeros_like(area), where=area > 0)


def tolerated_boxes(boxes: np.ndarray, width: int, height: int, max_fraction_outside: float) -> np.ndarray:
    """Boxes with at most `max_fraction_outside` of their area outside clipped to the image (so they pass)."""
    clipped = boxes.copy()
    clipped[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, width)
    clipped[:, [2, 4]] = np.clip(boxes[:, [2, 4]], 0, height)
    allowed = outside_fraction(boxes, width, height) <= max_fraction_outside
    return np.where(allowed[:, None], clipped, boxes)


def _decode(path: Path, reader: Callable[[Path], np.ndarray], problems: list[Problem]) -> np.ndarray | None:
    if not path.is_file():
        problems.append(Problem("partner present", path, "file missing"))
        return None
    try:
        return reader(path)
    except DataError as error:
        problems.append(Problem.from_error("decodable", path, error))
        return None


def _size(arr: np.ndarray) -> str:
    return f"{arr.shape[1]}x{arr.shape[0]}"


def check_record(record: PairRecord, max_fraction_outside: float = 0.0) -> list[Problem]:
    """Every problem of one pair: missing/corrupt files, size mismatches, bad mask ids, bad boxes."""
    problems: list[Problem] = []
    ir = _decode(record.ir_path, read_ir, problems)
    vi = _decode(record.vi_path, read_vi, problems)
    if ir is not None and vi is not None and ir.shape != vi.shape[:2]:
        problems.append(Problem("equal sizes", record.vi_path, f"VIS is {_size(vi)} but IR {record.ir_path.name} "
                                f"is {_size(ir)}; use registered pairs of equal size"))
    reference = ir if ir is not None else vi
    if record.mask_path is not None and (mask := _decode(record.mask_path, read_mask, problems)) is not None:
        if reference is not None and mask.shape != reference.shape[:2]:
            problems.append(Problem("equal sizes", record.mask_path, f"mask is {_size(mask)} but the image is "
                                    f"{_size(reference)}; re-export the mask at the image size"))
        if bad := invalid_mask_ids(mask):
            problems.append(Problem("mask ids", record.mask_path, f"class ids {bad} outside 0..{NUM_SEG_CLASSES - 1} "
                                    f"(and {IGNORE_INDEX} = ignore); fix the label or remap the ids"))
    for path in record.box_paths.values():
        problems += _box_file_problems(path, reference, max_fraction_outside)
    return problems


def _box_file_problems(path: Path, image: np.ndarray | None, max_fraction_outside: float) -> list[Problem]:
    if not path.is_file():
        return [Problem("partner present", path, "label file missing")]
    if image is None:  # YOLO boxes are relative to an image size that is unknown here; the image is reported
        return []
    height, width = image.shape[:2]
    try:
        boxes = read_boxes(path, width, height)
    except DataError as error:
        return [Problem.from_error("labels parse", path, error)]
    kept = tolerated_boxes(boxes, width, height, max_fraction_outside)
    return [Problem("boxes", path, message) for message in box_problems(kept, width, height)]


def unlisted_images(root: Path, records: list[PairRecord]) -> list[Problem]:
    """Images under `root` that no record uses: a pair whose partner is missing, or a stray file."""
    listed = {p.resolve() for r in records for p in (r.ir_path, r.vi_path, r.mask_path) if p is not None}
    return [Problem("listed in manifest", path, "image is not part of any manifest row (missing partner or stray "
                    "file); add its partner and re-run ingest, or delete it")
            for path in sorted(root.rglob("*")) if is_image_file(path) and path.resolve() not in listed]


def check_files(records: list[PairRecord], root: str | Path, max_fraction_outside: float = 0.0,
                progress: bool = True) -> list[Problem]:
    """All per-file problems of a dataset (records + stray images under `root`), in a stable order."""
    problems = [p for record in track(records, description="validate files", disable=not progress)
                for p in check_record(record, max_fraction_outside)]
    return problems + unlisted_images(Path(root), records)
