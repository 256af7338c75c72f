"""Reader for the MSRS layout (and anything exported in it, e.g. SynthScenes).

Layout under `root`::

    <split>/ir/<name>.png, <split>/vi/<name>.png          aligned pair (required)
    <split>/Segmentation_labels/<name>.png                 optional mask, pixel = class id 0..8, 255 = ignore
    detection_labels/<modality>/<split>/<name>.txt|.xml    optional boxes per modality (infrared, visible,
                                                           fusion): YOLO .txt or Pascal-VOC .xml

A split is a folder name, or a names file (one name per line, e.g. ``splits/dev_train.txt``) selecting names
from any split folder. Whenever a label folder exists it must cover every selected name: a missing label file
would otherwise read as "no object" and silently teach the detector that the scene is empty.
"""

from __future__ import annotations

from pathlib import Path

from tsjnet.data.io import IMAGE_EXTENSIONS
from tsjnet.data.paired import PairDataset, format_names, images_by_stem, pair_folders
from tsjnet.data.types import MODALITIES, PairRecord
from tsjnet.errors import DataError

SEG_DIR = "Segmentation_labels"
DET_DIR = "detection_labels"
LABEL_SUFFIXES = (".txt", ".xml")


def split_folders(root: Path) -> list[str]:
    """Names of the split folders under `root` (those holding both ir/ and vi/)."""
    return sorted(p.name for p in root.iterdir() if (p / "ir").is_dir() and (p / "vi").is_dir()) if root.is_dir() else []


def read_names_file(path: Path) -> list[str]:
    """Names listed one per line (blank lines skipped, an image extension stripped); duplicates are an error."""
    if not path.is_file():
        raise DataError(f"{path}: names file not found; check the path (absolute, or relative to the dataset root)")
    entries = [Path(line.strip()) for line in path.read_text().splitlines() if line.strip()]
    names = [e.stem if e.suffix.lower() in IMAGE_EXTENSIONS else e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"{path}: names listed more than once: {format_names(duplicates)}; keep one line each")
    if not names:
        raise DataError(f"{path}: names file is empty; list one sample name per line")
    return names


def _pairs_by_split(root: Path, splits: list[str]) -> dict[str, dict[str, tuple[Path, Path]]]:
    return {s: {n: (i, v) for n, i, v in pair_folders(root / s / "ir", root / s / "vi")} for s in splits}


def _select(pairs: dict[str, dict[str, tuple[Path, Path]]], names: list[str], names_file: Path) -> dict[str, list[str]]:
    """Split folder -> selected names; each name must live in exactly one split folder."""
    homes = {n: [s for s in sorted(pairs) if n in pairs[s]] for n in names}
    missing = sorted(n for n, found in homes.items() if not found)
    if missing:
        raise DataError(f"{names_file}: {len(missing)} name(s) not found in any split folder "
                        f"({', '.join(sorted(pairs))}): {format_names(missing)}; fix the names file")
    ambiguous = sorted(f"{n} ({'/'.join(found)})" for n, found in homes.items() if len(found) > 1)
    if ambiguous:
        raise DataError(f"{names_file}: name(s) present in several split folders: {format_names(ambiguous)}; "
                        "rename or remove the duplicates")
    chosen: dict[str, list[str]] = {s: [] for s in pairs}
    for name, found in homes.items():
        chosen[found[0]].append(name)
    return chosen


def _label_files(folder: Path, names: list[str]) -> dict[str, Path]:
    """Label file per name in `folder` (.txt or .xml); missing or doubled names are errors."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in LABEL_SUFFIXES:
            continue
        if path.stem in found:
            raise DataError(f"{folder}: {found[path.stem].name} and {path.name} label the same image; keep one")
        found[path.stem] = path
    missing = sorted(set(names) - found.keys())
    if missing:
        raise DataError(f"{folder}: no label file for {len(missing)} name(s): {format_names(missing)}; "
                        "add them (an empty .txt means no object)")
    return found


def _records(root: Path, split: str, pairs: dict[str, tuple[Path, Path]], names: list[str]) -> list[PairRecord]:
    seg_dir = root / split / SEG_DIR
    masks: dict[str, Path] = {}
    if seg_dir.is_dir():
        masks = images_by_stem(seg_dir)
        missing = sorted(set(names) - masks.keys())
        if missing:
            raise DataError(f"{seg_dir}: no mask for {len(missing)} name(s): {format_names(missing)}; add them")
    box_files = {m: _label_files(root / DET_DIR / m / split, names)
                 for m in MODALITIES if (root / DET_DIR / m / split).is_dir()}
    return [PairRecord(name=n, split=split, ir_path=pairs[n][0], vi_path=pairs[n][1], mask_path=masks.get(n),
                       box_paths={m: files[n] for m, files in box_files.items()}) for n in names]


def open_msrs(root: str | Path, split: str | None = None, *, names_file: str | Path | None = None) -> PairDataset:
    """MSRS-layout dataset: one split folder, a names file (`names_file=` or a ``.txt`` split), or all splits.

    With a names file, each record's `split` is the folder the name was found in.
    """
    root = Path(root)
    if split is not None and names_file is not None:
        raise ValueError("pass either split= (a folder or names file) or names_file=, not both")
    if split is not None and split.lower().endswith(".txt"):
        split, names_file = None, split
    available = split_folders(root)
    if not available:
        raise DataError(f"{root}: no split folder with ir/ and vi/ subfolders; expected <root>/<split>/ir and vi")
    if split is not None and split not in available:
        raise DataError(f"{root / split}: split folder not found or lacks ir/ and vi/; have {', '.join(available)}")
    pairs = _pairs_by_split(root, [split] if split else available)
    if names_file is None:
        chosen = {s: sorted(p) for s, p in pairs.items()}
    else:
        path = Path(names_file)
        path = path if path.is_absolute() or path.is_file() else root / path
        chosen = _select(pairs, read_names_file(path), path)
    return PairDataset(root, [r for s, names in chosen.items() if names for r in _records(root, s, pairs[s], names)])
