"""Boxes from masks: exact pixel-edge boxes per connected region, gaps bridged, specks dropped."""

from __future__ import annotations

import numpy as np
import pytest

from tsjnet.labels.from_masks import boxes_from_mask

PERSON, BIKE, CAR, CURVE = 2, 3, 1, 4


def test_two_persons_and_a_car_give_exact_boxes() -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[5:20, 3:8] = PERSON  # x 3..8, y 5..20
    mask[10:30, 40:46] = PERSON
    mask[22:35, 10:30] = CAR
    mask[0:3, 50:60] = CURVE  # not a boxed class
    boxes = boxes_from_mask(mask, min_area=10)
    expected = {(0, 3, 5, 8, 20), (0, 40, 10, 46, 30), (2, 10, 22, 30, 35)}
    assert boxes.dtype == np.float32 and boxes.shape == (3, 5)
    assert {tuple(int(v) for v in row) for row in boxes} == expected
    assert boxes[:, 0].tolist() == sorted(boxes[:, 0].tolist())  # grouped by detection class


def test_gap_joins_an_occluded_object_and_min_area_drops_specks() -> None:
    mask = np.zeros((30, 40), np.uint8)
    mask[10:20, 5:15] = CAR
    mask[10:20, 17:27] = CAR  # the same car behind a 2-px pole
    mask[25:27, 35:37] = BIKE  # 4 px: a speck
    assert len(boxes_from_mask(mask, min_area=10, gap=0)) == 2
    joined = boxes_from_mask(mask, min_area=10, gap=2)
    assert joined.tolist() == [[2, 5, 10, 27, 20]]
    assert boxes_from_mask(mask, min_area=1, gap=0)[:, 0].tolist() == [1, 2, 2]


def test_rejects_a_non_2d_mask() -> None:
    with pytest.raises(ValueError, match="class-id mask"):
        boxes_from_mask(np.zeros((4, 4, 3), np.uint8), min_area=1)
