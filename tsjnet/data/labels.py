"""Detection label files (YOLO .txt, Pascal-VOC .xml) to and from one box format.

Everything inside the project uses pixel boxes: an (N, 5) float32 array of ``[det_class, x1, y1, x2, y2]``.
Parsing is strict about syntax (a malformed line or unknown class is an error naming file:line) but keeps
geometrically odd boxes: whether a box outside the image is acceptable is the validate stage's decision,
made with `box_problems`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from tsjnet.data.types import DET_CLASSES
from tsjnet.errors import DataError

# VOC object names accepted per detection id (lower-case); "bike" is MSRS/M3FD's spelling of bicycle.
VOC_NAMES: dict[str, int] = {"person": 0, "bicycle": 1, "bike": 1, "car": 2}
# Annotation tools round to pixel centres; a box this far past the border is not reported as outside.
EDGE_TOLERANCE_PX = 0.5


def empty_boxes() -> np.ndarray:
    """The (0, 5) float32 array meaning "no object"."""
    return np.zeros((0, 5), dtype=np.float32)


def _class_id(token: str, where: str) -> int:
    try:
        value = float(token)
    except ValueError:
        raise DataError(f"{where}: class {token!r} is not a number; fix the line (expected `class cx cy w h`)") from None
    if not value.is_integer() or not 0 <= value < len(DET_CLASSES):
        raise DataError(f"{where}: class id {token} is outside 0..{len(DET_CLASSES) - 1} "
                        f"({', '.join(DET_CLASSES)}); fix the label or remap the class ids")
    return int(value)


def read_yolo(path: str | Path) -> np.ndarray:
    """Parse a YOLO file into (N, 5) float32 ``[class, cx, cy, w, h]`` normalised to the image size.

    Any white space separates fields and blank lines are skipped, so an empty file means "no object".
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read label file ({error}); re-export it as plain-text YOLO") from None
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number}"
        if len(fields) != 5:
            raise DataError(f"{where}: expected 5 fields `class cx cy w h`, got {len(fields)} ({line.strip()!r}); "
                            "fix or remove the line")
        cls = _class_id(fields[0], where)
        try:
            coords = [float(f) for f in fields[1:]]
        except ValueError:
            raise DataError(f"{where}: non-numeric coordinate in {line.strip()!r}; fix or remove the line") from None
        if not all(math.isfinite(c) for c in coords):
            raise DataError(f"{where}: non-finite coordinate in {line.strip()!r}; fix or remove the line")
        rows.append([cls, *coords])
    return np.asarray(rows, dtype=np.float32).reshape(-1, 5)


def yolo_to_pixels(yolo: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised ``[class, cx, cy, w, h]`` -> pixel ``[class, x1, y1, x2, y2]`` (float32, not clipped)."""
    cls, cx, cy, w, h = (yolo[:, i].astype(np.float64) for i in range(5))
    boxes = np.stack([cls, (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], 1)
    return boxes.astype(np.float32).reshape(-1, 5)


def pixels_to_yolo(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel ``[class, x1, y1, x2, y2]`` -> normalised ``[class, cx, cy, w, h]`` (float64 for writing)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    return np.stack([b[:, 0], (b[:, 1] + b[:, 3]) / 2 / width, (b[:, 2] + b[:, 4]) / 2 / height,
                     (b[:, 3] - b[:, 1]) / width, (b[:, 4] - b[:, 2]) / height], 1)


def write_yolo(path: str | Path, boxes: np.ndarray, width: int, height: int) -> None:
    """Write pixel boxes (N, 5) ``[class, x1, y1, x2, y2]`` as a YOLO file (empty file for no object)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"write_yolo({path}): width and height must be positive, got {width}x{height}")
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size and (arr.ndim != 2 or arr.shape[1] != 5):
        raise ValueError(f"write_yolo({path}): boxes must have shape (N, 5) [cls, x1, y1, x2, y2], got {arr.shape}")
    lines = [f"{int(c)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}" for c, cx, cy, w, h in pixels_to_yolo(arr, width, height)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


def _voc_float(obj: ET.Element, tag: str, where: str) -> float:
    text = obj.findtext(f"bndbox/{tag}")
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{where}: bndbox/{tag} is missing or not a number ({text!r}); fix the annotation")
    return value


def read_voc(path: str | Path) -> np.ndarray:
    """Parse a Pascal-VOC XML file into pixel boxes (N, 5) float32 ``[class, x1, y1, x2, y2]``.

    Object names map through `VOC_NAMES` (case-insensitive); coordinates are taken as written.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        raise DataError(f"{path}: cannot parse VOC XML ({error}); re-export the annotation file") from None
    rows: list[list[float]] = []
    for index, obj in enumerate(root.iter("object")):
        where = f"{path} (object {index})"
        name = (obj.findtext("name") or "").strip().lower()
        if name not in VOC_NAMES:
            raise DataError(f"{where}: unknown class name {name!r}; allowed: {', '.join(VOC_NAMES)}. "
                            "Rename the object or drop it from the annotation")
        rows.append([VOC_NAMES[name], *(_voc_float(obj, tag, where) for tag in ("xmin", "ymin", "xmax", "ymax"))])
    return np.asarray(rows, dtype=np.float32).reshape(-1, 5)


def read_boxes(path: str | Path, width: int, height: int) -> np.ndarray:
    """Pixel boxes from a YOLO .txt (needs the image size) or a VOC .xml label file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return yolo_to_pixels(read_yolo(path), width, height)
    if suffix == ".xml":
        return read_voc(path)
    raise DataError(f"{path}: unknown label format {suffix!r}; use YOLO .txt or Pascal-VOC .xml")


def box_problems(boxes: np.ndarray, width: int, height: int, tol: float = EDGE_TOLERANCE_PX) -> list[str]:
    """Human-readable problems of pixel boxes: outside the image (beyond `tol` px) or empty/degenerate."""
    problems: list[str] = []
    for index, (cls, x1, y1, x2, y2) in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 5)):
        name = DET_CLASSES[int(cls)] if 0 <= cls < len(DET_CLASSES) else f"class {cls:g}"
        label = f"box {index} ({name} [{x1:.1f}, {y1:.1f}, {x2:.1f}, {y2:.1f}])"
        if x2 <= x1 or y2 <= y1:
            problems.append(f"{label} is empty or degenerate (width {x2 - x1:.1f}, height {y2 - y1:.1f})")
        if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
            problems.append(f"{label} lies outside the {width}x{height} image")
    return problems
