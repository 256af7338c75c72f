"""Image readers normalise every storage variant to (H, W) IR / (H, W, 3) RGB VIS, and name bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsjnet.data.io import is_gray, read_ir, read_mask, read_vi
from tsjnet.errors import DataError

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (6, 8), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8)


def _save(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    image = Image.fromarray(arr)
    (image.convert(mode) if mode else image).save(path)
    return path


def test_gray_ir_is_returned_unchanged(tmp_path: Path) -> None:
    out = read_ir(_save(tmp_path / "ir.png", GRAY))
    assert out.dtype == np.uint8 and out.shape == (6, 8)
    np.testing.assert_array_equal(out, GRAY)


def test_ir_with_three_equal_channels_becomes_gray_losslessly(tmp_path: Path) -> None:
    out = read_ir(_save(tmp_path / "ir.png", np.repeat(GRAY[..., None], 3, axis=2)))
    assert out.shape == (6, 8)
    np.testing.assert_array_equal(out, GRAY)


def test_colour_ir_uses_bt601_luma(tmp_path: Path) -> None:
    out = read_ir(_save(tmp_path / "ir.png", COLOUR))
    luma = COLOUR.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert out.shape == (6, 8)
    assert np.abs(out.astype(float) - luma).max() <= 1.0


def test_gray_vi_becomes_three_equal_channels(tmp_path: Path) -> None:
    out = read_vi(_save(tmp_path / "vi.png", GRAY))
    assert out.shape == (6, 8, 3) and out.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], GRAY)


def test_rgba_vi_drops_alpha(tmp_path: Path) -> None:
    out = read_vi(_save(tmp_path / "vi.png", COLOUR, mode="RGBA"))
    np.testing.assert_array_equal(out, COLOUR)


def test_palette_mask_keeps_class_ids(tmp_path: Path) -> None:
    ids = RNG.integers(0, 9, (6, 8), dtype=np.uint8)
    image = Image.fromarray(ids, mode="L").convert("P")
    image.putpalette([v for i in range(256) for v in (i * 7 % 256, i * 13 % 256, i * 29 % 256)])
    image.save(tmp_path / "mask.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.png"), ids)


def test_colour_mask_is_refused(tmp_path: Path) -> None:
    path = _save(tmp_path / "mask_vis.png", COLOUR)
    with pytest.raises(DataError, match="mask_vis.png.*colour"):
        read_mask(path)


def test_is_gray() -> None:
    assert is_gray(GRAY)
    assert is_gray(np.repeat(GRAY[..., None], 3, axis=2))
    assert not is_gray(COLOUR)


def test_truncated_png_names_the_file(tmp_path: Path) -> None:
    path = _save(tmp_path / "broken.png", COLOUR)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match=r"broken\.png.*re-export"):
        read_vi(path)


def test_garbage_bytes_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(b"not an image at all")
    with pytest.raises(DataError, match=r"noise\.jpg"):
        read_ir(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"absent\.png.*not found"):
        read_ir(tmp_path / "absent.png")


def test_16_bit_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(GRAY.astype(np.uint16) * 200).save(path)
    with pytest.raises(DataError, match=r"deep\.png.*8-bit"):
        read_ir(path)
