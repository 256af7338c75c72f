"""Generic paired folders match by stem across extensions and refuse anything that is not a clean pairing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsjnet.data import PRESETS, open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.errors import DataError

REAL_PRESETS = {"roadscene": ("RoadScene", 3), "tno": ("TNO", 3), "llvip": ("LLVIP", 2), "m3fd": ("M3FD", 1)}


def _pair(root: Path, ir_name: str, vi_name: str, size: tuple[int, int] = (16, 12)) -> None:
    for folder, name, mode in (("ir", ir_name, "L"), ("vi", vi_name, "RGB")):
        (root / folder).mkdir(parents=True, exist_ok=True)
        Image.new(mode, size, 128).save(root / folder / name)


def test_stems_match_across_extensions(tmp_path: Path) -> None:
    _pair(tmp_path, "b.png", "b.jpg")
    _pair(tmp_path, "a.bmp", "a.PNG")
    (tmp_path / "vi" / "notes.md").write_text("not an image")
    ds = open_dataset("paired", tmp_path, preset="tno")
    assert [(r.name, r.split, r.ir_path.name, r.vi_path.name) for r in ds.records] == [
        ("a", "test", "a.bmp", "a.PNG"), ("b", "test", "b.png", "b.jpg")]
    sample = next(iter(ds))
    assert sample.ir.shape == (12, 16) and sample.vi.shape == (12, 16, 3) and sample.mask is None
    assert sample.boxes == {}


def test_explicit_dirs_and_split_label(tmp_path: Path) -> None:
    _pair(tmp_path, "x.png", "x.png")
    ds = open_dataset("paired", tmp_path, split="val", ir_dir="ir", vi_dir="vi")
    assert [(r.name, r.split) for r in ds.records] == [("x", "val")]


def test_missing_partner_lists_names_and_folder(tmp_path: Path) -> None:
    _pair(tmp_path, "a.png", "a.png")
    _pair(tmp_path, "b.png", "c.png")
    with pytest.raises(DataError, match=r"missing from .*/vi: b; 1 name\(s\) missing from .*/ir: c"):
        open_dataset("paired", tmp_path, ir_dir="ir", vi_dir="vi")


def test_two_files_with_one_stem(tmp_path: Path) -> None:
    _pair(tmp_path, "a.png", "a.png")
    Image.new("L", (16, 12)).save(tmp_path / "ir" / "a.jpg")
    with pytest.raises(DataError, match=r"a\.jpg and a\.png share the name 'a'"):
        open_dataset("paired", tmp_path, preset="m3fd")


def test_size_mismatch_names_both_files(tmp_path: Path) -> None:
    _pair(tmp_path, "a.png", "a.png")
    Image.new("RGB", (17, 12)).save(tmp_path / "vi" / "a.png")
    ds = open_dataset("paired", tmp_path, preset="tno")
    with pytest.raises(DataError, match=r"ir/a\.png is 16x12, .*vi/a\.png is 17x12"):
        ds.load(ds.records[0])


def test_empty_and_absent_folders(tmp_path: Path) -> None:
    (tmp_path / "ir").mkdir()
    (tmp_path / "vi").mkdir()
    with pytest.raises(DataError, match=r"/ir: no images found"):
        open_dataset("paired", tmp_path, preset="tno")
    with pytest.raises(DataError, match=r"Test_LLVIP_ir: folder not found"):
        open_dataset("paired", tmp_path, preset="llvip")
    with pytest.raises(DataError, match="no image pairs found"):
        PairDataset(tmp_path, [])


def test_roadscene_hr_visible_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"crop_HR_visible: not pixel-aligned.*crop_LR_visible"):
        open_dataset("paired", tmp_path, ir_dir="cropinfrared", vi_dir="crop_HR_visible")


def test_api_misuse() -> None:
    with pytest.raises(ValueError, match="unknown paired preset 'flir'"):
        open_dataset("paired", ".", preset="flir")
    with pytest.raises(ValueError, match="not both"):
        open_dataset("paired", ".", preset="tno", ir_dir="ir")
    with pytest.raises(ValueError, match="ir_dir= and vi_dir="):
        open_dataset("paired", ".", ir_dir="ir")
    with pytest.raises(ValueError, match="unknown dataset kind 'coco'"):
        open_dataset("coco", ".")


@pytest.mark.realdata
@pytest.mark.parametrize("preset", sorted(REAL_PRESETS))
def test_ivf_dev_presets_load_aligned_pairs(ivf_dev: Path, preset: str) -> None:
    folder, count = REAL_PRESETS[preset]
    ds = open_dataset("paired", ivf_dev / folder, preset=preset)
    assert len(ds) == count
    assert all(r.ir_path.parent.name == PRESETS[preset][0] and r.vi_path.parent.name == PRESETS[preset][1]
               for r in ds.records)
    for sample in ds:
        assert sample.ir.ndim == 2 and sample.ir.dtype == np.uint8
        assert sample.vi.shape == (*sample.ir.shape, 3) and sample.vi.dtype == np.uint8


@pytest.mark.realdata
@pytest.mark.parametrize("preset", ["tno", "llvip"])
def test_ivf_dev_rgb_stored_ir_comes_out_gray_unchanged(ivf_dev: Path, preset: str) -> None:
    ds = open_dataset("paired", ivf_dev / REAL_PRESETS[preset][0], preset=preset)
    for record in ds.records:
        raw = np.asarray(Image.open(record.ir_path))
        assert raw.ndim == 3 and raw.shape[2] == 3
        np.testing.assert_array_equal(ds.load(record).ir, raw[..., 0])
