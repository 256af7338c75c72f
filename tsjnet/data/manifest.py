"""The manifest: one CSV row per ingested pair, the contract between ingest, validation and later stages.

It records where every file of a pair lives (paths relative to the data root, so the table survives a move
or a `dvc pull` elsewhere) plus what the file headers say (size, PIL mode) and label counts. Building it
never fails on a bad file: an unreadable header or label leaves the cell empty, and the validate stage,
which re-reads the files, reports why. That way one corrupt image cannot hide every other problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from PIL import Image
from rich.progress import track

from tsjnet.data.labels import read_boxes
from tsjnet.data.types import MODALITIES, PairRecord
from tsjnet.errors import DataError

LABEL_MODALITIES: tuple[str, ...] = MODALITIES
PATH_COLUMNS: tuple[str, ...] = ("ir_path", "vi_path", "mask_path", *(f"labels_{m}" for m in LABEL_MODALITIES))
BOX_COLUMNS: tuple[str, ...] = tuple(f"n_boxes_{m}" for m in LABEL_MODALITIES)
COLUMNS: tuple[str, ...] = (
    "name", "split", "is_night", *PATH_COLUMNS,
    "ir_width", "ir_height", "vi_width", "vi_height", "ir_mode", "vi_mode", "has_mask", *BOX_COLUMNS,
)
_DTYPES: dict[str, str] = {
    "name": "string", "split": "string", "is_night": "boolean", "has_mask": "boolean",
    "ir_mode": "string", "vi_mode": "string",
    **{c: "string" for c in PATH_COLUMNS},
    **{c: "Int64" for c in ("ir_width", "ir_height", "vi_width", "vi_height", *BOX_COLUMNS)},
}


def image_header(path: Path) -> tuple[int | None, int | None, str | None]:
    """(width, height, PIL mode) from the file header only (cheap); all None when it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.width, image.height, image.mode
    except (OSError, SyntaxError, ValueError):
        return None, None, None


def box_count(path: Path, width: int | None, height: int | None) -> int | None:
    """Number of boxes in a label file; None when it cannot be parsed (validation reports why).

    The count does not depend on the image size; 1x1 stands in when the image header is unreadable.
    """
    try:
        return len(read_boxes(path, width or 1, height or 1))
    except DataError:
        return None


def _relative(path: Path | None, root: Path) -> str | None:
    return None if path is None else Path(path).resolve().relative_to(root).as_posix()


def manifest_row(record: PairRecord, root: Path) -> dict[str, object]:
    """One manifest row for a pair whose files live under `root`."""
    ir_w, ir_h, ir_mode = image_header(record.ir_path)
    vi_w, vi_h, vi_mode = image_header(record.vi_path)
    row: dict[str, object] = {
        "name": record.name, "split": record.split, "is_night": record.is_night,
        "ir_path": _relative(record.ir_path, root), "vi_path": _relative(record.vi_path, root),
        "mask_path": _relative(record.mask_path, root),
        "ir_width": ir_w, "ir_height": ir_h, "vi_width": vi_w, "vi_height": vi_h,
        "ir_mode": ir_mode, "vi_mode": vi_mode, "has_mask": record.mask_path is not None,
    }
    for modality in LABEL_MODALITIES:
        path = record.box_paths.get(modality)
        row[f"labels_{modality}"] = _relative(path, root)
        row[f"n_boxes_{modality}"] = None if path is None else box_count(path, ir_w, ir_h)
    return row


def build_manifest(records: Iterable[PairRecord], root: str | Path, progress: bool = True) -> pd.DataFrame:
    """The manifest table of `records` (files under `root`), one row per pair, in `COLUMNS` order."""
    root = Path(root).resolve()
    records = list(records)
    rows = [manifest_row(r, root) for r in track(records, description="manifest", disable=not progress)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(_DTYPES)


def write_manifest(manifest: pd.DataFrame, path: str | Path) -> Path:
    """Write the manifest CSV (parent folders created); empty cells mean "none" / "unreadable"."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.to_csv(path, index=False)
    return path


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a manifest CSV with its column types; a missing file or column is a `DataError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: manifest not found; run the ingest stage first (`dvc repro ingest`)")
    try:
        table = pd.read_csv(path, dtype=_DTYPES, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, TypeError, ValueError) as error:
        raise DataError(f"{path}: not a manifest CSV ({error}); re-run the ingest stage") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path}: manifest lacks column(s) {', '.join(missing)}; re-run the ingest stage")
    return table[list(COLUMNS)]


def manifest_records(manifest: pd.DataFrame, root: str | Path) -> list[PairRecord]:
    """PairRecords (absolute paths under `root`) for every manifest row, for the per-file checks."""
    root = Path(root)

    def path(value: object) -> Path | None:
        return None if pd.isna(value) else root / str(value)

    return [
        PairRecord(name=str(row["name"]), split=str(row["split"]), ir_path=root / str(row["ir_path"]),
                   vi_path=root / str(row["vi_path"]), mask_path=path(row["mask_path"]),
                   box_paths={m: p for m in LABEL_MODALITIES if (p := path(row[f"labels_{m}"])) is not None})
        for row in manifest.to_dict("records")
    ]
