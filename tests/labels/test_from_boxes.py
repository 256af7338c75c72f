"""Masks from boxes: GrabCut finds a blob inside its box; the label policy outside and around it holds."""

from __future__ import annotations

import cv2
import numpy as np

from tests.params import section
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.labels.from_boxes import box_agreement, guide_image, mask_from_boxes

PERSON_SEG = 2


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy dark road with a bright (hot, lit) elliptical person; returns ir, vi and the blob's truth."""
    rng = np.random.default_rng(seed)
    blob = np.zeros((96, 128), np.uint8)
    cv2.ellipse(blob, (60, 50), (10, 22), 0, 0, 360, 1, -1)
    ir = np.clip(60 + 140 * blob + rng.normal(0, 8, blob.shape), 0, 255).astype(np.uint8)
    vi = np.clip(70 + 90 * blob[..., None] + rng.normal(0, 8, (*blob.shape, 3)), 0, 255).astype(np.uint8)
    return ir, vi, blob.astype(bool)


def test_grabcut_finds_the_bright_blob_inside_its_box() -> None:
    ir, vi, blob = _scene()
    boxes = np.array([[0, 46, 24, 75, 76]], np.float32)  # a loose person box around the blob
    mask, confidence = mask_from_boxes(ir, vi, boxes, section("pseudolabel"))
    found = mask == PERSON_SEG
    assert (found & blob).sum() / (found | blob).sum() > 0.7
    assert set(np.unique(mask)) <= {0, PERSON_SEG, IGNORE_INDEX}
    assert (mask[:, :40] == 0).all()  # outside every box: background (default policy)
    assert 0.0 < confidence <= 1.0


def test_policy_outside_ignore_and_inside_background_is_ignored() -> None:
    ir, vi, blob = _scene()
    boxes = np.array([[0, 40, 20, 80, 80]], np.float32)
    mask, _ = mask_from_boxes(ir, vi, boxes, section("pseudolabel", outside_boxes="ignore"))
    assert (mask[:, :40] == IGNORE_INDEX).all()
    in_box_not_object = np.zeros_like(blob)
    in_box_not_object[20:80, 40:80] = mask[20:80, 40:80] != PERSON_SEG
    assert (mask[in_box_not_object] == IGNORE_INDEX).all()


def test_undecidable_boxes_are_ignored_and_lower_confidence() -> None:
    ir, vi, _ = _scene()
    tiny = np.array([[2, 100, 10, 103, 30]], np.float32)  # 3 px wide: below min_box_side
    mask, confidence = mask_from_boxes(ir, vi, tiny, section("pseudolabel"))
    assert (mask[10:30, 100:103] == IGNORE_INDEX).all() and confidence == 0.0
    no_boxes, empty_confidence = mask_from_boxes(ir, vi, np.zeros((0, 5), np.float32), section("pseudolabel"))
    assert (no_boxes == 0).all() and empty_confidence == 1.0


def test_different_classes_claiming_a_pixel_leave_it_ignored() -> None:
    ir, vi, blob = _scene()
    boxes = np.array([[0, 46, 24, 75, 76], [2, 46, 24, 75, 76]], np.float32)  # same region, person and car
    mask, _ = mask_from_boxes(ir, vi, boxes, section("pseudolabel"))
    assert (mask[blob] == IGNORE_INDEX).mean() > 0.9


def test_seeded_and_deterministic() -> None:
    ir, vi, _ = _scene(seed=3)
    boxes = np.array([[0, 46, 24, 75, 76]], np.float32)
    first = mask_from_boxes(ir, vi, boxes, section("pseudolabel"), seed=7)
    second = mask_from_boxes(ir, vi, boxes, section("pseudolabel"), seed=7)
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]


def test_guide_weights_ir_twice_and_agreement_is_box_iou() -> None:
    ir = np.full((4, 4), 200, np.uint8)
    vi = np.zeros((4, 4, 3), np.uint8)
    assert guide_image(ir, vi)[0, 0].tolist() == [200, 0, 200]
    found = np.zeros((10, 10), bool)
    found[0:10, 0:5] = True
    assert box_agreement(found) == 0.5 and box_agreement(np.zeros((3, 3), bool)) == 0.0
