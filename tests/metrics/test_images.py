"""Gray conversion rules: BT.601 with round-half-up, equal channels kept, bad input refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.metrics.conftest import write_image
from tsjnet.errors import DataError
from tsjnet.metrics.images import load_gray, round_half_up, to_gray


def test_rgb_uses_bt601_and_rounds_exact_halves_up() -> None:
    rgb = np.array([[[0, 36, 12], [0, 22, 49], [10, 20, 30], [255, 0, 0]]], dtype=np.uint8)
    # 0.587*36 + 0.114*12 = 22.5 -> 23;  0.587*22 + 0.114*49 = 18.5 -> 19;  2.99+11.74+3.42 = 18.15 -> 18;
    # 0.299*255 = 76.245 -> 76
    np.testing.assert_array_equal(to_gray(rgb), [[23, 19, 18, 76]])


def test_round_half_up_differs_from_numpy_round_on_halves() -> None:
    np.testing.assert_array_equal(round_half_up(np.array([0.5, 1.5, 2.5, 2.49])), [1, 2, 3, 2])


def test_equal_channels_are_gray_unchanged() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = to_gray(np.repeat(gray[..., None], 3, axis=2))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, gray)


@pytest.mark.parametrize("bad", [np.full((2, 2), 256.0), np.full((2, 2), -1.0), np.full((2, 2), np.nan)])
def test_values_outside_0_255_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="0-255"):
        to_gray(bad, "fused")


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        to_gray(np.zeros((2, 2, 4)), "ir")


def test_load_gray_reads_png_and_names_a_corrupt_file(tmp_path: Path) -> None:
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 1] = 100  # 0.587 * 100 = 58.7 -> 59
    np.testing.assert_array_equal(load_gray(write_image(tmp_path / "a.png", rgb)), np.full((2, 3), 59.0))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match="broken.png"):
        load_gray(broken)
