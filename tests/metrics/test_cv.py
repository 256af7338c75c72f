"""Chen-Varshney: zero for perfect fusion, the MATLAB frequency grid, blkproc-style blocks."""

from __future__ import annotations

import numpy as np
import pytest

from tests.metrics.conftest import textured
from tsjnet.metrics.cv import block_view, chen_varshney, mannos_sakrison


def test_perfect_fusion_has_zero_distortion() -> None:
    a = textured(32, 48, seed=1).astype(np.float64)
    assert chen_varshney(a, a, a) == (0.0, 0.0, 0.0)


def test_parts_and_symmetry() -> None:
    a, b = textured(32, 48, seed=2).astype(np.float64), textured(32, 48, seed=3).astype(np.float64)
    combined, part_a, part_b = chen_varshney(a, b, a)
    assert part_a == 0.0 < part_b  # F = A keeps A perfectly and loses B
    assert 0.0 < combined < part_b
    f = (a + b) / 2
    swapped = chen_varshney(b, a, f)
    original = chen_varshney(a, b, f)
    assert swapped == pytest.approx((original[0], original[2], original[1]))


@pytest.mark.parametrize("shape", [(6, 8), (5, 7)])
def test_csf_is_sampled_on_matlab_freqspace_grid(shape: tuple[int, int]) -> None:
    h, w = shape
    # freqspace([h, w], 'meshgrid') then u = w/8 * u, v = h/8 * v, centred at index floor(n/2).
    u = (np.arange(w) - w // 2) * (2 / w) * (w / 8)
    v = (np.arange(h) - h // 2) * (2 / h) * (h / 8)
    r = np.hypot(*np.meshgrid(u, v))
    centred = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    np.testing.assert_allclose(mannos_sakrison(shape), np.fft.ifftshift(centred)[:, : w // 2 + 1])


def test_blocks_are_zero_padded_to_whole_16x16_tiles() -> None:
    blocks = block_view(np.ones((20, 33)))
    assert blocks.shape == (2, 3, 16, 16)
    assert blocks[0, 0].sum() == 256
    assert blocks[1, 2].sum() == 4 * 1  # rows 16..19, column 32 only
