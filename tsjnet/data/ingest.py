"""Materialise the configured data source into `data.out` in the MSRS layout, byte for byte.

Every later stage reads `data.out` with the MSRS reader only, whatever the source was: SynthScenes is
generated there; a real MSRS root or a generic paired folder is copied there (shutil.copy2: bytes and
hashes unchanged, never re-encoded), re-arranged by split so a names-file split becomes a split folder.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from rich.progress import track

from tsjnet.config import ParamsError
from tsjnet.config.data import DataParams, PairSource
from tsjnet.data import open_dataset
from tsjnet.data.msrs import DET_DIR, SEG_DIR
from tsjnet.data.paired import PRESETS
from tsjnet.data.synthscenes import write_synthscenes
from tsjnet.data.types import PairRecord
from tsjnet.errors import DataError


def detect_preset(root: Path) -> str:
    """The paired preset whose IR and VIS folders both exist under `root` (RoadScene, TNO, LLVIP, M3FD)."""
    for preset, (ir_dir, vi_dir) in PRESETS.items():
        if (root / ir_dir).is_dir() and (root / vi_dir).is_dir():
            return preset
    expected = "; ".join(f"{preset}: {ir}/ + {vi}/" for preset, (ir, vi) in PRESETS.items())
    raise DataError(f"{root}: no known IR/VIS folder pair found (expected one of {expected}); "
                    "arrange the pairs as <root>/ir + <root>/vi")


def _split_records(data: DataParams, split: str, selection: str | PairSource) -> list[PairRecord]:
    """One split's records: a names file under data.root, or a {root, names} source of its own."""
    root, names = ((Path(selection.root), selection.names) if isinstance(selection, PairSource)
                   else (Path(str(data.root)), selection))
    if not root.is_dir():
        raise DataError(f"data.splits.{split}: {root} not found; point it at an MSRS-layout folder")
    return [replace(record, split=split) for record in open_dataset("msrs", root, names_file=names).records]


def _unique_names(records: list[PairRecord]) -> list[PairRecord]:
    """Every name once: splits from different roots must not share a name (one would overwrite the other)."""
    seen: dict[str, str] = {}
    for record in records:
        if record.name in seen:
            raise DataError(f"pair name {record.name!r} is in data.splits {seen[record.name]!r} and "
                            f"{record.split!r}; a name may be in one split only (check the names files)")
        seen[record.name] = record.split
    return records


def source_records(data: DataParams) -> list[PairRecord]:
    """Records of the configured real source; with `data.splits`, each names file becomes that split."""
    root = Path(str(data.root))
    if data.source == "paired":
        if data.splits:
            raise ParamsError("data.splits selects names of an msrs source; a paired source is one evaluation "
                              "split: remove data.splits or use data.source: msrs")
        return open_dataset("paired", root, preset=detect_preset(root)).records
    if not data.splits:
        return open_dataset("msrs", root).records
    return _unique_names([record for split, selection in data.splits.items()
                          for record in _split_records(data, split, selection)])


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return target


def copy_record(record: PairRecord, out: Path) -> PairRecord:
    """Copy one pair and its labels to their MSRS-layout places under `out`; the record of the copy."""
    split_dir = out / record.split
    name = record.name
    return replace(
        record,
        ir_path=_copy(record.ir_path, split_dir / "ir" / f"{name}{record.ir_path.suffix}"),
        vi_path=_copy(record.vi_path, split_dir / "vi" / f"{name}{record.vi_path.suffix}"),
        mask_path=None if record.mask_path is None
        else _copy(record.mask_path, split_dir / SEG_DIR / f"{name}{record.mask_path.suffix}"),
        box_paths={m: _copy(p, out / DET_DIR / m / record.split / f"{name}{p.suffix}")
                   for m, p in record.box_paths.items()},
    )


def _clear(out: Path, source_roots: list[str]) -> None:
    """Empty `out` (a stage output: stale files from an earlier run must not leak in), never a source."""
    target = out.resolve()
    for source_root in source_roots:
        source = Path(source_root).resolve()
        if target == source or target in source.parents or source in target.parents:
            raise ParamsError(f"data.out {out} overlaps the source folder {source_root}; ingest would overwrite "
                              "the source. Point data.out at a separate folder")
    if out.exists():
        shutil.rmtree(out)


def materialise(data: DataParams, progress: bool = True) -> list[PairRecord]:
    """Write the configured source into `data.out` (emptied first); the records of the written pairs."""
    out = Path(data.out)
    _clear(out, data.source_roots())
    if data.source == "synth":
        return write_synthscenes(out, data.synth, progress=progress)
    records = source_records(data)
    return [copy_record(r, out) for r in track(records, description=f"copy {data.source}", disable=not progress)]
