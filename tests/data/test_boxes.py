"""Box-set operations: de-duplicated unions across sets and one-to-one matching."""

from __future__ import annotations

import numpy as np

from tsjnet.data.boxes import count_matches, merge_boxes, reference_modalities


def _boxes(*rows: list[float]) -> np.ndarray:
    return np.asarray(rows, np.float32).reshape(-1, 5)


def test_merge_keeps_earlier_sets_and_never_merges_within_a_set() -> None:
    ir = _boxes([0, 0, 0, 10, 20], [0, 2, 0, 12, 20])  # two overlapping people drawn on one sensor
    vi = _boxes([0, 1, 0, 11, 20], [2, 30, 30, 50, 40], [1, 0, 0, 10, 20])  # dup person, a car, a bike
    merged = merge_boxes([ir, vi])
    assert merged.tolist() == [*ir.tolist(), [2, 30, 30, 50, 40], [1, 0, 0, 10, 20]]


def test_count_matches_is_one_to_one_and_class_aware() -> None:
    truth = _boxes([0, 0, 0, 10, 10], [2, 20, 20, 40, 40])
    predicted = _boxes([0, 0, 0, 10, 10], [0, 1, 0, 11, 10], [1, 20, 20, 40, 40])
    assert count_matches(predicted, truth) == 1
    assert count_matches(_boxes(), truth) == 0


def test_reference_is_fusion_else_the_sensors() -> None:
    assert reference_modalities({"visible", "fusion", "infrared"}) == ["fusion"]
    assert reference_modalities({"visible", "infrared"}) == ["infrared", "visible"]
