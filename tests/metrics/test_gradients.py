"""Sobel convention: the same numbers as MATLAB's conv2 with the reference kernels (zero padding, 'same')."""

from __future__ import annotations

import numpy as np
from scipy.signal import convolve2d

from tests.metrics.conftest import textured
from tsjnet.metrics.gradients import sobel_magnitude, sobel_xy

# The kernels of the reference Qabf code, applied with true convolution like MATLAB's conv2.
H_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
H_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float64)


def test_sobel_matches_conv2_same_with_reference_kernels() -> None:
    image = textured(9, 11, seed=3).astype(np.float64)
    dx, dy = sobel_xy(image)
    np.testing.assert_allclose(-dx, convolve2d(image, H_X, mode="same"), atol=1e-9)
    np.testing.assert_allclose(dy, convolve2d(image, H_Y, mode="same"), atol=1e-9)


def test_sobel_of_horizontal_ramp_points_right_and_sees_the_zero_border() -> None:
    ramp = np.tile(np.arange(5, dtype=np.float64), (5, 1))
    dx, dy = sobel_xy(ramp)
    assert dx[2, 2] == 8.0  # (1+2+1) * (right - left) = 4 * 2
    assert dy[2, 2] == 0.0
    # Row 0: the padded row above is 0, so dy = smoothed row 1 - 0 (not 0 as with replicate padding).
    assert dy[0, 2] == ramp[1, 1] + 2 * ramp[1, 2] + ramp[1, 3]
    np.testing.assert_allclose(sobel_magnitude(ramp), np.hypot(dx, dy))
