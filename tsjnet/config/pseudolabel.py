"""Params for the pseudolabel stage: how missing masks and boxes are derived, and the optional teacher.

Values come from conf/config.yaml. Confidences are the values written to the provenance table for labels
whose quality cannot be measured per image; the stage's quality metrics (on data with full ground truth)
are what justifies them.
"""

from typing import Literal

from pydantic import Field, model_validator

from tsjnet.config.base import Section


class TeacherParams(Section):
    """`pseudolabel.teacher:` a pretrained detector that labels images that have no label at all."""

    enabled: bool
    # A detector checkpoint (models/detector/infrared.pt) or an MLflow URI (models:/tsjnet-detector@champion).
    uri: str | None
    score_threshold: float = Field(ge=0.0, le=1.0)
    device: str  # auto | cpu | cuda[:N]

    @model_validator(mode="after")
    def _uri_needed(self) -> "TeacherParams":
        if self.enabled and not self.uri:
            raise ValueError("pseudolabel.teacher.uri is required when the teacher is enabled "
                             "(a checkpoint path or models:/tsjnet-detector@champion)")
        return self


class PseudolabelParams(Section):
    """`pseudolabel:` section: complete labels of data.out written to `out`, with provenance and quality."""

    out: str
    provenance: str  # written inside `out`, so it travels with the labels it describes
    metrics: str
    # Boxes from masks: connected components smaller than this (pixels) are noise, not objects.
    min_component_area: int = Field(ge=1)
    component_gap_px: int = Field(ge=0)  # regions <= 2x this apart are one object (cut by occluders)
    # Masks from boxes (GrabCut inside each box).
    grabcut_iterations: int = Field(ge=1)
    grabcut_margin: float = Field(ge=0.0)  # context around a box, as a fraction of its longer side
    grabcut_upscale_limit: int = Field(ge=1)  # px; empty cuts are retried on 2x, 4x... enlarged crops
    min_box_side: int = Field(ge=2)  # thinner boxes are too small for GrabCut's colour models: ignored
    boundary_px: int = Field(ge=0)  # band inside GrabCut's outline left ignore (precision vs IoU)
    outside_boxes: Literal["background", "ignore"]  # see tsjnet/labels/from_boxes.py
    # Provenance confidence of derived boxes (a derived mask gets GrabCut's agreement with its boxes instead):
    # from masks ~ their measured precision on SynthScenes (0.84); copied from another modality's boxes, lower.
    box_from_mask_confidence: float = Field(ge=0.0, le=1.0)
    box_transfer_confidence: float = Field(ge=0.0, le=1.0)
    # Images with no label and no teacher: fail (false), or keep them with provenance "none".
    allow_unlabeled: bool
    # Quality of the derivations is measured on at most this many fully labelled images (GrabCut is slow).
    quality_max_images: int = Field(ge=0)
    teacher: TeacherParams
