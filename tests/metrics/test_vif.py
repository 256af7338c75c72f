"""VIFp: the reference window and filtering, and its defining values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import convolve2d

from tests.metrics.conftest import textured
from tsjnet.metrics.vif import filter_valid, gaussian_window_1d, vifp


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB's fspecial('gaussian', size, sigma) written out in 2-D."""
    half = (size - 1) / 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return h / h.sum()


@pytest.mark.parametrize("size", [17, 9, 5, 3])
def test_separable_valid_filter_equals_2d_fspecial_window(size: int) -> None:
    image = textured(30, 34, seed=size).astype(np.float64)
    window = gaussian_window_1d(size)
    expected = convolve2d(image, fspecial_gaussian(size, size / 5), mode="valid")
    np.testing.assert_allclose(filter_valid(image, window), expected, atol=1e-9)


def test_vifp_of_an_image_with_itself_is_one() -> None:
    a = textured(64, 64, seed=1).astype(np.float64)
    assert vifp(a, a) == pytest.approx(1.0, abs=1e-9)


def test_vifp_drops_with_noise_and_is_zero_for_a_flat_distortion() -> None:
    a = textured(64, 64, seed=2).astype(np.float64)
    noisy = np.clip(a + np.random.default_rng(0).normal(0, 20, a.shape), 0, 255)
    assert 0.0 < vifp(a, noisy) < 1.0
    assert vifp(a, np.full_like(a, 128.0)) == 0.0  # g = 0 wherever the distorted image is flat


def test_vifp_of_a_flat_reference_is_undefined() -> None:
    flat = np.full((64, 64), 50.0)
    assert math.isnan(vifp(flat, textured(64, 64, seed=3).astype(np.float64)))
