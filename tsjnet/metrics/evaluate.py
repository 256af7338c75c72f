"""Evaluate a folder of fused images against their IR and VIS sources, pairing files by stem.

The fused folder defines what is evaluated: every fused image needs an IR and a VIS partner with the same
stem (any image extension) and the same size; source pairs without a fused result are not scored, and a
warning names them (so a fusion run that silently skipped images is noticed).
The dataset value of each metric is the plain mean of the per-image values (NaN/inf propagate on purpose,
so an undefined value is visible rather than silently dropped).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from rich.progress import track

from tsjnet.data.io import is_image_file
from tsjnet.errors import DataError
from tsjnet.metrics.images import load_gray
from tsjnet.metrics.suite import METRIC_KEYS, fusion_metrics


def images_by_stem(folder: str | Path, role: str) -> dict[str, Path]:
    """Map stem -> image path in `folder` (not recursive); `role` (IR, VIS, fused) labels errors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: {role} folder not found; pass an existing directory")
    found: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if is_image_file(p)):
        if path.stem in found:
            raise DataError(f"{path}: {role} folder has two images named {path.stem!r} ({found[path.stem].name}); "
                            "keep one so the pairing by name is unambiguous")
        found[path.stem] = path
    return found


def match_triples(ir_dir: str | Path, vi_dir: str | Path, fused_dir: str | Path) -> list[tuple[str, Path, Path, Path]]:
    """(stem, ir, vi, fused) for every fused image, sorted by stem; a missing partner raises DataError."""
    ir, vi, fused = images_by_stem(ir_dir, "IR"), images_by_stem(vi_dir, "VIS"), images_by_stem(fused_dir, "fused")
    if not fused:
        raise DataError(f"{fused_dir}: no fused images (.png/.jpg/...) found; run the fusion step first")
    for stem, path in fused.items():
        for role, sources, folder in (("IR", ir, ir_dir), ("VIS", vi, vi_dir)):
            if stem not in sources:
                raise DataError(f"{path}: no {role} image named {stem!r} in {folder}; add it or remove the fused "
                                "image (pairs are matched by file name without extension)")
    unfused = sorted((set(ir) & set(vi)) - set(fused))
    if unfused:
        warnings.warn(f"{len(unfused)} IR/VIS pair(s) have no fused image in {fused_dir} and are not evaluated: "
                      f"{', '.join(unfused[:10])}{' ...' if len(unfused) > 10 else ''}", stacklevel=2)
    return [(stem, ir[stem], vi[stem], fused[stem]) for stem in sorted(fused)]


def _evaluate_triple(ir_path: Path, vi_path: Path, fused_path: Path) -> dict[str, float]:
    a, b, f = load_gray(ir_path), load_gray(vi_path), load_gray(fused_path)
    if not a.shape == b.shape == f.shape:
        raise DataError(f"{fused_path}: sizes differ (fused {f.shape[1]}x{f.shape[0]}, IR {ir_path.name} "
                        f"{a.shape[1]}x{a.shape[0]}, VIS {vi_path.name} {b.shape[1]}x{b.shape[0]}); fuse registered "
                        "pairs at the source size (no resizing or cropping in the fused output)")
    return fusion_metrics(a, b, f)


def dataset_mean(per_image: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Mean over images of every metric key."""
    return {key: float(np.mean([values[key] for values in per_image.values()])) for key in METRIC_KEYS}


def evaluate_folders(ir_dir: str | Path, vi_dir: str | Path, fused_dir: str | Path,
                     show_progress: bool = True) -> dict[str, dict]:
    """Return ``{"mean": {metric: value}, "per_image": {stem: {metric: value}}}`` for a fused folder."""
    triples = match_triples(ir_dir, vi_dir, fused_dir)
    per_image = {stem: _evaluate_triple(ir, vi, fused)
                 for stem, ir, vi, fused in track(triples, description="Fusion metrics", disable=not show_progress,
                                                  transient=True)}
    return {"mean": dataset_mean(per_image), "per_image": per_image}
