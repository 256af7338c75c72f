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


def _random_image(rng: np.random.Generator, n_truth: int, n_noise: int) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth, and predictions: jittered copies of it plus random boxes, scores on a coarse grid (ties)."""
    def boxes(n: int) -> np.ndarray:
        corner = rng.uniform(0, 200, (n, 2))
        return np.c_[rng.integers(0, 3, n), corner, corner + rng.uniform(5, 60, (n, 2))]

    truth = boxes(n_truth)
    jittered = truth.copy()
    jittered[:, 1:] += rng.normal(0, 6, (n_truth, 4))
    jittered[:, 3:] = np.maximum(jittered[:, 3:], jittered[:, 1:3])
    predictions = np.r_[jittered, boxes(n_noise)]
    scores = np.round(rng.uniform(0, 1, len(predictions)), 1)
    return np.c_[predictions, scores].astype(np.float32), truth.astype(np.float32)


@pytest.mark.filterwarnings("ignore:Encountered more than 100 detections")  # on purpose: the cut is tested
@pytest.mark.parametrize("seed", range(4))
def test_compute_on_every_image_equals_torchmetrics(seed: int) -> None:
    """The fast pooled AP that bootstrap draws use is pycocotools' number (ties, > 100 detections, empty images)."""
    rng = np.random.default_rng(seed)
    metric = DetectionMAP()
    for n_truth, n_noise in [(8, 40), (0, 5), (3, 0), (12, 330), (0, 0), (6, 20)]:
        metric.update(*_random_image(rng, n_truth, n_noise))
    reference, fast = metric.compute(), metric.compute_on(np.arange(len(metric.images)))
    for key in ("mAP50", "mAP50_95"):
        assert fast[key] == pytest.approx(reference[key], abs=1e-6)
    for key in ("AP50", "AP50_95"):
        assert fast[key] == pytest.approx(reference[key], abs=1e-6, nan_ok=True)


def test_compute_on_counts_repeated_images_again() -> None:
    """A bootstrap draw with an image twice scores like a dataset holding that image twice."""
    rng = np.random.default_rng(11)
    boxes = [_random_image(rng, 6, 15) for _ in range(3)]
    masks = [rng.integers(0, 4, (6, 8)) for _ in range(3)]
    labels = [(mask + rng.integers(0, 2, mask.shape)) % 4 for mask in masks]
    detection, segmentation = DetectionMAP(), SegmentationIoU()
    for (predictions, truth), label, mask in zip(boxes, labels, masks):
        detection.update(predictions, truth)
        segmentation.update(label, mask)
    draw = np.array([2, 0, 2])
    again_detection, again_segmentation = DetectionMAP(), SegmentationIoU()
    for index in draw:
        again_detection.update(*boxes[index])
        again_segmentation.update(labels[index], masks[index])
    assert detection.compute_on(draw)["mAP50"] == pytest.approx(again_detection.compute()["mAP50"], abs=1e-6)
    on_draw, expected = segmentation.compute_on(draw), again_segmentation.compute()
    assert on_draw["IoU"] == pytest.approx(expected["IoU"], nan_ok=True)
    assert (on_draw["mIoU"], on_draw["mIoU_no_bg"]) == pytest.approx((expected["mIoU"], expected["mIoU_no_bg"]))
    assert on_draw["mIoU"] != pytest.approx(segmentation.compute()["mIoU"])
