"""The pseudolabel stage: copy the ingested dataset to `pseudolabel.out` with complete labels and provenance.

Images are hard-linked (copied where links are impossible), byte for byte. Every image leaves with a mask
and YOLO boxes for every modality: ground truth linked as it is (a VOC .xml stays .xml), anything missing
derived (`tsjnet.labels.complete`). `provenance.csv` (inside `out`) has one row per image x label kind:
``split, name, kind, source, confidence, method, path``; source is gt, derived, teacher or none. Where true
masks and boxes exist, the derivations are also run on them and scored (`tsjnet.labels.quality`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from rich.progress import track

from tsjnet.config import ParamsError
from tsjnet.config.pseudolabel import PseudolabelParams
from tsjnet.data import open_dataset
from tsjnet.data.labels import write_yolo
from tsjnet.data.msrs import DET_DIR, SEG_DIR
from tsjnet.data.paired import format_names
from tsjnet.data.types import PairRecord
from tsjnet.errors import DataError
from tsjnet.labels.complete import KINDS, MASK, SOURCES, Label, complete_labels, kind_modality
from tsjnet.labels.quality import LabelQuality
from tsjnet.labels.teacher import load_teacher
from tsjnet.reports import FlatMetrics

PROVENANCE_COLUMNS: tuple[str, ...] = ("split", "name", "kind", "source", "confidence", "method", "path")


@dataclass(frozen=True)
class PrepareResult:
    """What the stage wrote: the provenance table and the flat metrics (label counts + quality)."""

    provenance: pd.DataFrame
    metrics: dict[str, float]


def unlabeled_records(records: list[PairRecord]) -> list[PairRecord]:
    """Records with neither a mask nor boxes of any modality."""
    return [r for r in records if r.mask_path is None and not r.box_paths]


def check_labelable(records: list[PairRecord], params: PseudolabelParams) -> None:
    """Refuse, before anything is written, images nothing can label (no label, no teacher, not allowed)."""
    missing = unlabeled_records(records)
    if not missing or params.teacher.enabled or params.allow_unlabeled:
        return
    raise DataError(
        f"{len(missing)} image(s) have no label at all (no mask, no boxes of any modality) and the teacher is off: "
        f"{format_names([str(r.ir_path) for r in missing])}. Fix one of: add labels "
        f"(<split>/{SEG_DIR}/<name>.png or {DET_DIR}/<modality>/<split>/<name>.txt), enable the teacher "
        "(pseudolabel.teacher.enabled: true, pseudolabel.teacher.uri: models:/tsjnet-detector@champion or a "
        "detector checkpoint), or set pseudolabel.allow_unlabeled: true to keep them with provenance 'none'")


def link_or_copy(source: Path, target: Path) -> None:
    """Hard link `source` at `target` (no extra space, same bytes); copy where the file system refuses."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def label_path(out: Path, record: PairRecord, label: Label) -> Path:
    """MSRS-layout place of a label: ground truth keeps its file suffix, derived masks are .png, boxes .txt."""
    default = ".png" if label.kind == MASK else ".txt"
    suffix = label.gt_path.suffix if label.gt_path is not None else default
    if label.kind == MASK:
        return out / record.split / SEG_DIR / f"{record.name}{suffix}"
    return out / DET_DIR / kind_modality(label.kind) / record.split / f"{record.name}{suffix}"


def write_label(out: Path, record: PairRecord, label: Label, size: tuple[int, int]) -> Path:
    """Link a ground-truth label file, or encode a derived one; the path written. `size` is (H, W)."""
    path = label_path(out, record, label)
    if label.gt_path is not None:
        link_or_copy(label.gt_path, path)
    elif label.kind == MASK:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(label.value.astype(np.uint8)).save(path)
    else:
        write_yolo(path, label.value, width=size[1], height=size[0])
    return path


def label_metrics(provenance: pd.DataFrame) -> dict[str, float]:
    """``images``, ``labels_<kind>_<source>`` counts (zeros included: stable keys) and mean confidence per kind."""
    counts = provenance.groupby(["kind", "source"]).size()
    metrics: dict[str, float] = {"images": float(provenance[["split", "name"]].drop_duplicates().shape[0])}
    metrics.update({f"labels_{kind}_{source}": float(counts.get((kind, source), 0))
                    for kind in KINDS for source in SOURCES})
    metrics.update({f"confidence_{kind}": float(value)
                    for kind, value in provenance.groupby("kind")["confidence"].mean().items()})
    return metrics


def _clear(out: Path, source: Path) -> None:
    """Empty `out` (stale labels of an earlier run must not survive), refusing to touch the source."""
    target, origin = out.resolve(), source.resolve()
    if target == origin or target in origin.parents or origin in target.parents:
        raise ParamsError(f"pseudolabel.out {out} overlaps the ingested data {source}; point it at a separate folder")
    if out.exists():
        shutil.rmtree(out)


def prepare_labels(source: str | Path, params: PseudolabelParams, seed: int = 0,
                   progress: bool = True) -> PrepareResult:
    """Write `source` (MSRS layout) to `params.out` with complete labels, provenance and metrics files."""
    source, out = Path(source), Path(params.out)
    dataset = open_dataset("msrs", source)
    check_labelable(dataset.records, params)
    teacher = load_teacher(params.teacher) if params.teacher.enabled else None
    _clear(out, source)
    quality = LabelQuality()
    rows: list[tuple[object, ...]] = []
    for record in track(dataset.records, description="pseudolabel", disable=not progress):
        sample = dataset.load(record)
        for folder, image in (("ir", record.ir_path), ("vi", record.vi_path)):
            link_or_copy(image, out / record.split / folder / f"{record.name}{image.suffix}")
        for label in complete_labels(record, sample, params, teacher, seed):
            path = write_label(out, record, label, sample.ir.shape)
            rows.append((record.split, record.name, label.kind, label.source, round(label.confidence, 4),
                         label.method, path.relative_to(out).as_posix()))
        measured = quality.images < params.quality_max_images
        if record.mask_path is not None and record.box_paths and measured:
            quality.measure(sample, params, seed)
    provenance = pd.DataFrame(rows, columns=list(PROVENANCE_COLUMNS))
    provenance.to_csv(out / params.provenance, index=False)
    metrics = {**label_metrics(provenance), **quality.metrics()}
    FlatMetrics(metrics).write(params.metrics)
    return PrepareResult(provenance=provenance, metrics=metrics)
