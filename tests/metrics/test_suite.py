"""fusion_metrics: the full key set, defining values on F = A = B, symmetry, and input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.metrics.conftest import textured
from tsjnet.metrics import METRIC_KEYS, fusion_metrics
from tsjnet.metrics.fusion import entropy

SYMMETRIC = ("EN", "SD", "SF", "AG", "MI", "MSE", "PSNR", "CC", "SCD", "SSIM", "VIF", "Qabf", "CV")


def test_keys_are_the_headline_metrics_and_their_parts() -> None:
    a = textured(32, 32, seed=1)
    values = fusion_metrics(a, a, a)
    assert tuple(values) == METRIC_KEYS
    assert {"MI_A", "MI_B", "Qabf_A", "CV_B", "PSNR_A"} <= set(values)
    assert "EN_A" not in values  # single-image metrics have no parts


def test_fused_equal_to_both_sources() -> None:
    a = textured(48, 48, seed=2)
    v = fusion_metrics(a, a, a)
    assert v["MSE"] == 0.0 and v["PSNR"] == math.inf
    assert v["SSIM"] == pytest.approx(1.0) and v["CC"] == pytest.approx(1.0)
    assert v["MI"] == pytest.approx(2 * entropy(a.astype(np.float64)))
    assert v["VIF"] == pytest.approx(2.0, abs=1e-8)
    assert v["CV"] == 0.0
    assert math.isnan(v["SCD"])  # F - B is constant: correlation undefined


def test_swapping_sources_keeps_combined_values_and_swaps_parts() -> None:
    a, b = textured(40, 48, seed=3), textured(40, 48, seed=4)
    f = ((a.astype(np.float64) + b) / 2).round()
    forward, backward = fusion_metrics(a, b, f), fusion_metrics(b, a, f)
    for name in SYMMETRIC:
        assert backward[name] == pytest.approx(forward[name], rel=1e-12), name
    for name in ("MI", "CC", "SSIM", "VIF", "Qabf", "CV", "SCD"):
        assert backward[f"{name}_A"] == pytest.approx(forward[f"{name}_B"], rel=1e-12), name


def test_rgb_visible_and_8bit_inputs_are_converted() -> None:
    a = textured(32, 32, seed=5)
    rgb = np.stack([a, a, a], axis=2)
    assert fusion_metrics(a, rgb, a) == pytest.approx(fusion_metrics(a, a, a), nan_ok=True)


def test_size_mismatch_and_bad_range_are_refused() -> None:
    a = textured(32, 32, seed=6)
    with pytest.raises(ValueError, match="one size"):
        fusion_metrics(a, a, a[:16])
    with pytest.raises(ValueError, match="fused"):
        fusion_metrics(a, a, np.full(a.shape, 300.0))
