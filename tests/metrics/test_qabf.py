"""Qabf: the perfect-preservation value from the constants, weighting, and the gS == gF rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.metrics.conftest import textured
from tsjnet.metrics.qabf import edge_preservation, qabf

# Q^SF at G = 1 and A = 1, from the published constants.
PERFECT = 0.9994 / (1 + math.exp(-15 * (1 - 0.5))) * 0.9879 / (1 + math.exp(-22 * (1 - 0.8)))


def test_fused_equal_to_both_sources_scores_the_product_of_the_sigmoids_at_one() -> None:
    a = textured(20, 24, seed=1).astype(np.float64)
    assert qabf(a, a, a) == pytest.approx((PERFECT, PERFECT, PERFECT))


def test_weak_edges_preserved_exactly_still_count_as_perfect() -> None:
    # Gradients below 1 (a 0..2 image): public code sets G = gF there and would score less than PERFECT.
    weak = np.tile([0.0, 0.5, 1.0, 1.5, 2.0, 1.5, 1.0], (7, 1))
    combined, _, _ = qabf(weak, weak, weak)
    assert combined == pytest.approx(PERFECT)


def test_strength_ratio_is_min_over_max() -> None:
    g_src, g_fused, angle = np.array([2.0, 4.0, 0.0]), np.array([4.0, 2.0, 0.0]), np.zeros(3)
    q = edge_preservation(g_src, angle, g_fused, angle)
    half = 0.9994 / (1 + math.exp(-15 * (0.5 - 0.5))) * 0.9879 / (1 + math.exp(-22 * (1 - 0.8)))
    np.testing.assert_allclose(q, [half, half, PERFECT])


def test_swapping_sources_swaps_parts_and_keeps_the_combined_value() -> None:
    a, b = textured(20, 24, seed=2).astype(np.float64), textured(20, 24, seed=3).astype(np.float64)
    f = (a + b) / 2
    combined, part_a, part_b = qabf(a, b, f)
    assert qabf(b, a, f) == pytest.approx((combined, part_b, part_a))
    assert 0.0 < combined < PERFECT
    assert min(part_a, part_b) <= combined <= max(part_a, part_b)  # a weighted mean of the parts


def test_sources_without_edges_are_undefined() -> None:
    flat = np.full((8, 8), 10.0)
    # Zero padding makes the border an edge, so only an all-zero image has no edge at all.
    zero = np.zeros((8, 8))
    assert all(math.isnan(v) for v in qabf(zero, zero, flat))
