"""Task metrics: mAP on perfect and shifted boxes (worked out by hand), mIoU on a tiny confusion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsjnet.data.types import SEG_CLASSES
from tsjnet.metrics.task import DetectionMAP, SegmentationIoU

# Two 100 x 100 boxes: a person and a car.
TARGETS = np.array([[0, 10, 10, 110, 110], [2, 200, 50, 300, 150]], dtype=np.float32)


def _shifted(dx: float) -> np.ndarray:
    boxes = TARGETS.copy()
    boxes[:, [1, 3]] += dx
    return np.c_[boxes, np.full(len(boxes), 0.9, np.float32)]


def test_perfect_predictions_score_one_and_unseen_classes_are_nan() -> None:
    metric = DetectionMAP()
    metric.update(_shifted(0.0), TARGETS)
    result = metric.compute()
    assert result["mAP50"] == pytest.approx(1.0) and result["mAP50_95"] == pytest.approx(1.0)
    assert result["AP50"]["person"] == pytest.approx(1.0) and result["AP50_95"]["car"] == pytest.approx(1.0)
    assert math.isnan(result["AP50"]["bicycle"])  # no bicycle in the ground truth: not scored


def test_shifted_boxes_lose_the_strict_thresholds() -> None:
    # A 20 px shift gives IoU 80*100 / (120*100) = 0.667: matched at 0.50, 0.55, 0.60, 0.65 of the ten
    # thresholds 0.50:0.05:0.95, so AP50 = 1 and AP50_95 = 4 / 10.
    metric = DetectionMAP()
    metric.update(_shifted(20.0), TARGETS)
    result = metric.compute()
    assert result["mAP50"] == pytest.approx(1.0)
    assert result["mAP50_95"] == pytest.approx(0.4)
    # A 60 px shift gives IoU 40 / 160 = 0.25: nothing matches.
    metric = DetectionMAP()
    metric.update(_shifted(60.0), TARGETS)
    assert metric.compute()["mAP50"] == pytest.approx(0.0)


def test_missed_class_counts_zero_and_accumulates_over_images() -> None:
    metric = DetectionMAP()
    metric.update(_shifted(0.0), TARGETS)
    metric.update(np.zeros((0, 6)), np.array([[1, 5, 5, 40, 40]], dtype=np.float32))  # bicycle missed
    result = metric.compute()
    assert result["AP50"]["bicycle"] == 0.0
    assert result["mAP50"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("bad", [np.zeros((2, 5)),  # no score column
                                 np.array([[5, 0, 0, 10, 10, 0.5]]),  # unknown class
                                 np.array([[0, 10, 0, 5, 10, 0.5]])])  # x2 < x1
def test_malformed_predictions_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="predictions"):
        DetectionMAP().update(bad, TARGETS)


def test_miou_by_hand_with_ignore_index() -> None:
    target = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    # Counted pixels (target, pred): (0,0) (0,1) (1,1) (1,1) (2,2); the 255 pixel is ignored.
    # IoU0 = 1 / (2 + 1 - 1) = 1/2, IoU1 = 2 / (2 + 3 - 2) = 2/3, IoU2 = 1 / (1 + 1 - 1) = 1.
    metric = SegmentationIoU()
    metric.update(pred, target)
    result = metric.compute()
    assert result["IoU"]["background"] == pytest.approx(0.5)
    assert result["IoU"]["car"] == pytest.approx(2 / 3)
    assert result["IoU"]["person"] == pytest.approx(1.0)
    assert math.isnan(result["IoU"]["bump"])  # absent from prediction and target: skipped
    assert result["mIoU"] == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    assert result["mIoU_no_bg"] == pytest.approx((2 / 3 + 1.0) / 2)
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (len(SEG_CLASSES), len(SEG_CLASSES)) and matrix.sum() == 5 and matrix[0, 1] == 1


def test_miou_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="one shape"):
        SegmentationIoU().update(np.zeros((2, 2)), np.zeros((2, 3)))
