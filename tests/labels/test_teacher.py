"""Teacher boxes: score threshold, fusion = merged sensors, confidence from the scores; loading a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.labels.detectors import FixedDetector
from tests.params import section
from tests.tasks.samples import TINY_DETECTOR
from tsjnet.data.types import Sample
from tsjnet.labels.teacher import Teacher, load_teacher
from tsjnet.tasks.detector import build_detector
from tsjnet.checkpoints import save_checkpoint


def _sample() -> Sample:
    return Sample("00001D", "train", np.zeros((32, 48), np.uint8), np.zeros((32, 48, 3), np.uint8))


def test_threshold_merge_and_confidence() -> None:
    detector = FixedDetector([[1, 2, 11, 22], [30, 5, 40, 25]], labels=[1, 3], scores=[0.9, 0.3])
    found = Teacher(detector, score_threshold=0.5, device=torch.device("cpu")).detect(_sample())
    assert set(found) == {"infrared", "visible", "fusion"}
    boxes, confidence = found["infrared"]
    assert boxes.tolist() == [[0, 1, 2, 11, 22]] and confidence == pytest.approx(0.9)
    assert found["fusion"][0].tolist() == [[0, 1, 2, 11, 22]]  # the same person on both sensors is one box


def test_nothing_kept_is_confident_in_proportion_to_the_best_rejected_score() -> None:
    detector = FixedDetector([[1, 2, 11, 22]], labels=[2], scores=[0.2])
    boxes, confidence = Teacher(detector, 0.5, torch.device("cpu")).detect(_sample())["visible"]
    assert boxes.shape == (0, 5) and confidence == pytest.approx(0.8)


def test_load_teacher_from_a_detector_checkpoint(tmp_path) -> None:
    params = TINY_DETECTOR
    path = tmp_path / "infrared.pt"
    save_checkpoint(path, {"model": build_detector(params, (32, 48)).state_dict(), "config": params.model_dump(),
                           "image_size": (32, 48)})
    teacher = load_teacher(section("pseudolabel.teacher", enabled=True, uri=str(path), score_threshold=0.0,
                                   device="cpu"))
    found = teacher.detect(_sample())
    for boxes, confidence in found.values():
        assert boxes.shape[1] == 5 and 0.0 <= confidence <= 1.0


def test_enabled_teacher_needs_a_uri() -> None:
    with pytest.raises(ValueError, match="teacher.uri is required"):
        section("pseudolabel.teacher", enabled=True)
