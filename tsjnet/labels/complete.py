"""Which label each image gets, per kind (mask, boxes per modality), and where it came from.

Rules, in order (ground truth is never replaced):

1. An image with no label at all is boxed by the teacher when there is one, else it gets the "none" labels
   (only reached with ``allow_unlabeled``; the stage otherwise stops before writing anything).
2. Missing boxes of a modality: copied from the image's reference boxes (its fusion boxes, else the merged
   union of the modalities it has, `reference_modalities`): annotated instances beat regions of a mask.
   Only an image with a mask and no box at all gets boxes from the mask (`tsjnet.labels.from_masks`).
3. A missing mask: GrabCut inside the reference boxes (`tsjnet.labels.from_boxes`).

"none" labels are an all-ignore mask and empty box files: the segmenter's loss skips every pixel, but an
empty box file reads as "no object", so detection training must drop the names the provenance table marks
"none".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tsjnet.config.pseudolabel import PseudolabelParams
from tsjnet.data.labels import empty_boxes
from tsjnet.data.types import IGNORE_INDEX, MODALITIES, PairRecord, Sample
from tsjnet.data.boxes import merge_boxes, reference_modalities
from tsjnet.labels.from_boxes import mask_from_boxes
from tsjnet.labels.from_masks import boxes_from_mask
from tsjnet.labels.teacher import Teacher

MASK = "mask"
BOX_PREFIX = "boxes_"
SOURCES: tuple[str, ...] = ("gt", "derived", "teacher", "none")


def box_kind(modality: str) -> str:
    """Provenance kind of a modality's boxes (``boxes_infrared``, ...)."""
    return BOX_PREFIX + modality


def kind_modality(kind: str) -> str:
    """The modality of a box kind (``boxes_fusion`` -> ``fusion``)."""
    return kind.removeprefix(BOX_PREFIX)


KINDS: tuple[str, ...] = (MASK, *(box_kind(m) for m in MODALITIES))


@dataclass(frozen=True)
class Label:
    """One label of one image: its content, and the provenance row that describes it.

    `value` is the (H, W) mask or (N, 5) pixel boxes; `gt_path` is set for ground truth, whose file is
    linked into the output as it is instead of being re-encoded.
    """

    kind: str
    source: str
    confidence: float
    method: str
    value: np.ndarray
    gt_path: Path | None = None


def _derived_source(used: list[Label]) -> str:
    """Derived from teacher output is still teacher output; from anything else it is "derived"."""
    return "teacher" if any(label.source == "teacher" for label in used) else "derived"


def _unlabeled(sample: Sample) -> list[Label]:
    mask = np.full(sample.ir.shape, IGNORE_INDEX, np.uint8)
    return [Label(MASK, "none", 0.0, "none", mask)] + [
        Label(box_kind(m), "none", 0.0, "none", empty_boxes()) for m in MODALITIES]


def _given_boxes(record: PairRecord, sample: Sample, teacher: Teacher | None) -> dict[str, Label]:
    """Annotated boxes per modality; the teacher's for an image without any label."""
    if record.box_paths or record.mask_path is not None or teacher is None:
        return {m: Label(box_kind(m), "gt", 1.0, "annotation", sample.boxes[m], path)
                for m, path in record.box_paths.items()}
    return {m: Label(box_kind(m), "teacher", confidence, "detector", boxes)
            for m, (boxes, confidence) in teacher.detect(sample).items()}


def _method(prefix: str, used: list[Label]) -> str:
    """``grabcut:fusion``, ``copy:infrared+visible``: the derivation and the modalities it started from."""
    return prefix + ":" + "+".join(kind_modality(label.kind) for label in used)


def complete_labels(record: PairRecord, sample: Sample, params: PseudolabelParams, teacher: Teacher | None,
                    seed: int = 0) -> list[Label]:
    """One `Label` per kind in `KINDS` (mask first, then boxes in `MODALITIES` order)."""
    given = _given_boxes(record, sample, teacher)
    mask = None if record.mask_path is None else Label(MASK, "gt", 1.0, "annotation", sample.mask, record.mask_path)
    if not given:
        if mask is None:
            return _unlabeled(sample)
        components = boxes_from_mask(mask.value, params.min_component_area, params.component_gap_px)
        return [mask, *(Label(box_kind(m), "derived", params.box_from_mask_confidence, "mask_components", components)
                        for m in MODALITIES)]
    used = [given[m] for m in reference_modalities(given)]
    reference = merge_boxes([label.value for label in used])
    source, confidence = _derived_source(used), min(label.confidence for label in used)
    boxes = [given[m] if m in given else Label(box_kind(m), source, params.box_transfer_confidence * confidence,
                                               _method("copy", used), reference) for m in MODALITIES]
    if mask is None:
        value, agreement = mask_from_boxes(sample.ir, sample.vi, reference, params, seed)
        mask = Label(MASK, source, agreement * confidence, _method("grabcut", used), value)
    return [mask, *boxes]
