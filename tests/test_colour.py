"""BT.601 conversions, colour recombination and the one model-input definition (tsjnet.colour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb
from PIL import Image

from tsjnet.colour import fuse_colour, is_gray, luminance, prepare_pair, to_tensor, to_tensor_y, to_uint8
from tsjnet.data.io import read_ir, read_vi
from tsjnet.errors import DataError


def colour_grid() -> np.ndarray:
    """Every combination of 18 levels per channel (0, 15, ..., 255): (18, 324, 3) uint8."""
    levels = np.arange(0, 256, 15, dtype=np.uint8)
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(len(levels), -1, 3)


def test_round_trip_within_one_grey_level() -> None:
    grid = colour_grid()
    back = to_uint8(ycbcr_to_rgb(rgb_to_ycbcr(to_tensor(grid))))
    assert np.abs(back.astype(int) - grid.astype(int)).max() <= 1


def test_matches_jpeg_ycbcr_in_rgb_order() -> None:
    """PIL's YCbCr is the JPEG (BT.601 full range) convention; a swapped R/B would be far off."""
    grid = colour_grid()
    expected = np.asarray(Image.fromarray(grid).convert("YCbCr")).astype(int)
    ours = to_uint8(rgb_to_ycbcr(to_tensor(grid))).astype(int)
    assert np.abs(ours - expected).max() <= 1


def test_pure_red_has_red_chroma() -> None:
    ycbcr = rgb_to_ycbcr(torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)).flatten()
    assert ycbcr[0].item() == pytest.approx(0.299, abs=1e-6)
    assert ycbcr[2] > 0.5 > ycbcr[1]  # Cr above neutral, Cb below


def test_luminance_weights_and_gray_passthrough() -> None:
    rgb = torch.tensor([0.2, 0.6, 1.0]).view(1, 3, 1, 1)
    assert luminance(rgb).item() == pytest.approx(0.299 * 0.2 + 0.587 * 0.6 + 0.114 * 1.0, abs=1e-6)
    gray = torch.rand(2, 1, 4, 5)
    assert luminance(gray) is gray
    assert torch.equal(luminance(gray.expand(2, 3, 4, 5)), gray)


def test_is_gray_per_image() -> None:
    images = torch.rand(2, 1, 4, 4).expand(2, 3, 4, 4).clone()
    images[1, 0, 0, 0] += 0.1
    assert is_gray(images).tolist() == [True, False]


def test_fuse_colour_with_own_luminance_returns_the_image() -> None:
    rgb = torch.rand(2, 3, 8, 9)
    assert torch.allclose(fuse_colour(luminance(rgb), rgb), rgb, atol=1e-5)


def test_fuse_colour_takes_fused_luminance_and_vis_chroma() -> None:
    rgb = 0.4 + 0.2 * torch.rand(1, 3, 8, 9)  # low saturation: every new luminance stays in gamut
    fused = 0.2 + 0.6 * torch.rand(1, 1, 8, 9)
    out = rgb_to_ycbcr(fuse_colour(fused, rgb))
    assert torch.allclose(out[:, :1], fused, atol=1e-5)
    assert torch.allclose(out[:, 1:], rgb_to_ycbcr(rgb)[:, 1:], atol=1e-5)


def test_fuse_colour_clamps_to_unit_range() -> None:
    out = fuse_colour(torch.rand(1, 1, 8, 9) * 1.4 - 0.2, torch.rand(1, 3, 8, 9))
    assert out.min() >= 0 and out.max() <= 1


def test_gray_vis_stays_gray() -> None:
    fused = torch.rand(2, 1, 6, 7)
    one_channel = torch.rand(2, 1, 6, 7)
    assert torch.equal(fuse_colour(fused, one_channel), fused)
    three_equal = one_channel.expand(2, 3, 6, 7)
    out = fuse_colour(fused, three_equal)
    assert out.shape == (2, 3, 6, 7)
    assert torch.equal(out, fused.expand_as(out))


def test_fuse_colour_rejects_mismatch() -> None:
    with pytest.raises(ValueError, match="does not match"):
        fuse_colour(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 4, 5))


def test_prepare_pair_shapes_and_ir_as_gray() -> None:
    rng = np.random.default_rng(0)
    ir = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    vi = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    ir_y, vi_y, vi_rgb = prepare_pair(ir, vi)
    assert ir_y.shape == vi_y.shape == (1, 5, 7) and vi_rgb.shape == (3, 5, 7)
    assert torch.equal(ir_y, to_tensor(ir))
    assert torch.equal(vi_y, to_tensor_y(vi))
    ir_rgb_y, _, _ = prepare_pair(np.repeat(ir[..., None], 3, axis=2), vi)
    assert torch.equal(ir_rgb_y, ir_y)  # IR stored as three equal channels gives the same input


def test_prepare_pair_gray_vis_gives_three_equal_channels() -> None:
    gray = np.full((4, 4), 77, dtype=np.uint8)
    _, vi_y, vi_rgb = prepare_pair(gray, gray)
    assert vi_rgb.shape == (3, 4, 4) and bool(is_gray(vi_rgb))
    assert torch.equal(vi_y, vi_rgb[:1])


def test_prepare_pair_rejects_bad_input() -> None:
    with pytest.raises(DataError, match="differ"):
        prepare_pair(np.zeros((4, 4), np.uint8), np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(DataError, match="8-bit"):
        prepare_pair(np.zeros((4, 4), np.uint16), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DataError, match="alpha"):
        prepare_pair(np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8))


def test_to_uint8_shapes() -> None:
    assert to_uint8(torch.ones(1, 2, 3)).shape == (2, 3)
    rgb = to_uint8(torch.tensor([0.0, 0.5, 1.0]).view(3, 1, 1))
    assert rgb.shape == (1, 1, 3) and rgb.dtype == np.uint8 and rgb.ravel().tolist() == [0, 128, 255]


@pytest.mark.realdata
def test_real_msrs_pair_recombines_to_the_visible_image(ivf_dev: Path) -> None:
    name = "00556D.png"
    vi = read_vi(ivf_dev / "MSRS/train/vi" / name)
    ir_y, vi_y, vi_rgb = prepare_pair(read_ir(ivf_dev / "MSRS/train/ir" / name), vi)
    assert ir_y.shape == vi_y.shape == (1, 480, 640)
    back = to_uint8(fuse_colour(vi_y, vi_rgb))
    assert np.abs(back.astype(int) - vi.astype(int)).max() <= 1
