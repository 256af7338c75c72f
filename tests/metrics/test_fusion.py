"""Golden values of the simple fusion metrics, computed by hand on tiny images."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from tests.metrics.conftest import textured
from tsjnet.metrics import fusion

# A 4x4 image whose differences are worked out by hand below.
F4 = np.array([[1, 3, 2, 0],
               [4, 4, 1, 2],
               [0, 2, 5, 3],
               [3, 1, 0, 4]], dtype=np.float64)


def test_constant_image_has_zero_entropy_contrast_and_gradients() -> None:
    flat = np.full((6, 7), 77.0)
    assert fusion.entropy(flat) == 0.0
    assert fusion.standard_deviation(flat) == 0.0
    assert fusion.spatial_frequency(flat) == 0.0
    assert fusion.average_gradient(flat) == 0.0


def test_entropy_counts_bits_of_equally_likely_levels() -> None:
    assert fusion.entropy(np.array([[0.0, 255.0], [0.0, 255.0]])) == pytest.approx(1.0)
    assert fusion.entropy(np.array([[0.0, 10.0], [20.0, 30.0]])) == pytest.approx(2.0)
    # Float levels round half up into bins: 0.5 joins 1, so two levels of frequency 1/2.
    assert fusion.entropy(np.array([[0.5, 1.0], [3.0, 3.4]])) == pytest.approx(1.0)


def test_standard_deviation_is_population() -> None:
    assert fusion.standard_deviation(np.array([[0.0, 2.0]])) == pytest.approx(1.0)  # sample SD would be sqrt(2)


def test_spatial_frequency_by_hand() -> None:
    # Row differences F[i, j+1] - F[i, j], squared, per row: (4,1,4) (0,9,1) (4,9,4) (4,1,16).
    rf2 = (4 + 1 + 4 + 0 + 9 + 1 + 4 + 9 + 4 + 4 + 1 + 16) / 12
    # Column differences F[i+1, j] - F[i, j], squared, per column: (9,16,9) (1,4,1) (1,16,25) (4,1,1).
    cf2 = (9 + 16 + 9 + 1 + 4 + 1 + 1 + 16 + 25 + 4 + 1 + 1) / 12
    assert fusion.spatial_frequency(F4) == pytest.approx(math.sqrt(rf2 + cf2))


def test_average_gradient_by_hand() -> None:
    # (dx, dy) forward differences at each (i, j) of the 3x3 grid, row by row.
    grid = [(2, 3), (-1, 1), (-2, -1),
            (0, -4), (-3, -2), (1, 4),
            (2, 3), (3, -1), (-2, -5)]
    expected = sum(math.sqrt((dx * dx + dy * dy) / 2) for dx, dy in grid) / 9
    assert fusion.average_gradient(F4) == pytest.approx(expected)


def test_mutual_information_in_bits() -> None:
    a = textured(16, 16, seed=1).astype(np.float64)
    assert fusion.mutual_information(a, a) == pytest.approx(fusion.entropy(a))
    assert fusion.mutual_information(255.0 - a, a) == pytest.approx(fusion.entropy(a))  # any bijection
    # Independent halves: every (f, s) combination equally likely -> no shared information.
    f = np.array([[0.0, 0.0], [9.0, 9.0]])
    s = np.array([[0.0, 9.0], [0.0, 9.0]])
    assert fusion.mutual_information(f, s) == pytest.approx(0.0, abs=1e-12)
    # F determines S's one bit but not the other way round: MI = H(S) = 1 bit.
    f = np.array([[0.0, 1.0], [2.0, 3.0]])
    s = np.array([[0.0, 0.0], [50.0, 50.0]])
    assert fusion.mutual_information(f, s) == pytest.approx(1.0)


def test_mse_and_psnr_use_the_8bit_peak() -> None:
    s = textured(8, 8, seed=2).astype(np.float64)
    f = np.clip(s + 1.0, 0, 255)
    f[s == 255] = 254.0  # keep every difference at exactly 1
    assert fusion.mse(f, s) == pytest.approx(1.0)
    assert fusion.psnr_from_mse(1.0) == pytest.approx(10 * math.log10(255**2))
    assert fusion.psnr_from_mse(0.0) == math.inf


def test_pearson_signs_and_undefined_case() -> None:
    x = textured(8, 8, seed=4).astype(np.float64)
    assert fusion.pearson(x, 2 * x + 3) == pytest.approx(1.0)
    assert fusion.pearson(x, -x) == pytest.approx(-1.0)
    assert math.isnan(fusion.pearson(x, np.full_like(x, 5.0)))


def test_ssim_is_one_for_identical_and_matches_scikit_image() -> None:
    a = textured(24, 24, seed=5).astype(np.float64)
    b = textured(24, 24, seed=6).astype(np.float64)
    assert fusion.ssim(a, a) == pytest.approx(1.0)
    reference = structural_similarity(b, a, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=255)
    assert fusion.ssim(b, a) == pytest.approx(reference, abs=1e-12)
    assert 0.0 < fusion.ssim(b, a) < 1.0
