"""Quality metrics of derived labels against known truth."""

from __future__ import annotations

import numpy as np
import pytest

from tsjnet.data.types import IGNORE_INDEX
from tsjnet.labels.quality import LabelQuality


def test_mask_iou_precision_and_labelled_accuracy() -> None:
    truth = np.zeros((10, 10), np.uint8)
    truth[0:4, 0:4] = 2  # 16 person pixels
    derived = np.zeros_like(truth)
    derived[0:4, 0:2] = 2  # 8 of them found
    derived[0:4, 2:4] = IGNORE_INDEX  # 8 left undecided
    quality = LabelQuality()
    quality.add_mask(derived, truth)
    metrics = quality.metrics()
    assert metrics["quality_mask_iou_person"] == pytest.approx(0.5)
    assert metrics["quality_mask_precision_person"] == pytest.approx(1.0)
    assert metrics["quality_mask_labelled_accuracy"] == pytest.approx(1.0)  # every decided pixel is right
    assert metrics["quality_mask_miou"] == pytest.approx(0.5)  # only classes present count
    assert "quality_mask_iou_car" not in metrics


def test_box_precision_recall_per_modality() -> None:
    quality = LabelQuality()
    truth = np.array([[0, 0, 0, 10, 10], [2, 20, 20, 40, 40]], np.float32)
    derived = np.array([[0, 0, 0, 10, 10], [2, 20, 20, 30, 30], [1, 0, 0, 5, 5]], np.float32)
    quality.add_boxes("fusion", derived, truth)
    metrics = quality.metrics()
    assert metrics["quality_box_precision_fusion"] == pytest.approx(1 / 3)
    assert metrics["quality_box_recall_fusion"] == pytest.approx(1 / 2)
    assert LabelQuality().metrics() == {}
