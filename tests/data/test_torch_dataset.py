"""FusionDataset gives the networks [0,1] tensors, ignore-filled masks, cropped boxes; collate keeps box lists."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from tsjnet.data import open_dataset
from tsjnet.data.torch_dataset import FusionDataset, collate
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.errors import DataError


def test_tensors_shapes_and_ranges(tmp_msrs: Path) -> None:
    ds = FusionDataset(open_dataset("msrs", tmp_msrs), modality_boxes=("infrared", "visible"))
    item = ds[0]
    assert item["name"] == "00001D"
    assert item["ir"].shape == (1, 24, 32) and item["ir"].dtype == torch.float32
    assert item["vi"].shape == (3, 24, 32) and 0.0 <= item["vi"].min() and item["vi"].max() <= 1.0
    assert item["mask"].shape == (24, 32) and item["mask"].dtype == torch.long and item["mask"][0, 0] == IGNORE_INDEX
    assert sorted(item["boxes"]) == ["infrared", "visible"]
    torch.testing.assert_close(item["boxes"]["infrared"], torch.tensor([[0.0, 12, 6, 20, 18]]))


def test_absent_mask_is_all_ignore(tmp_path: Path) -> None:
    for folder, mode in (("ir", "L"), ("vi", "RGB")):
        (tmp_path / folder).mkdir()
        Image.new(mode, (8, 6)).save(tmp_path / folder / "a.png")
    item = FusionDataset(open_dataset("paired", tmp_path, preset="tno"))[0]
    assert item["boxes"] == {}
    assert bool((item["mask"] == IGNORE_INDEX).all())


def test_missing_modality_is_an_error(tmp_path: Path, tmp_msrs: Path) -> None:
    with pytest.raises(ValueError, match="thermal"):
        FusionDataset(open_dataset("msrs", tmp_msrs), modality_boxes=("thermal",))
    for path in (tmp_msrs / "detection_labels" / "fusion" / "test").iterdir():
        path.unlink()
    (tmp_msrs / "detection_labels" / "fusion" / "test").rmdir()
    ds = FusionDataset(open_dataset("msrs", tmp_msrs, split="test"), modality_boxes=("fusion",))
    with pytest.raises(DataError, match=r"00003D\.png: no fusion box labels"):
        ds[0]


def test_random_crop_moves_and_clips_boxes(tmp_msrs: Path) -> None:
    torch.manual_seed(0)
    ds = FusionDataset(open_dataset("msrs", tmp_msrs), modality_boxes=("infrared",), crop_size=(16, 16))
    full = FusionDataset(open_dataset("msrs", tmp_msrs), modality_boxes=("infrared",))[0]
    for _ in range(5):
        item = ds[0]
        assert item["ir"].shape == (1, 16, 16) and item["vi"].shape == (3, 16, 16) and item["mask"].shape == (16, 16)
        boxes = item["boxes"]["infrared"]
        assert boxes.shape[1] == 5 and bool((boxes[:, 1:] >= 0).all()) and bool((boxes[:, 1:] <= 16).all())
        # The crop is a window of the full image: find its offset and check the box moved with it.
        offsets = [(t, l) for t in range(9) for l in range(17) if torch.equal(full["ir"][:, t:t + 16, l:l + 16], item["ir"])]
        top, left = offsets[0]
        expected = (full["boxes"]["infrared"][:, 1:] - torch.tensor([left, top, left, top])).clamp(0, 16)
        torch.testing.assert_close(boxes[:, 1:], expected)


def test_crop_larger_than_image(tmp_msrs: Path) -> None:
    ds = FusionDataset(open_dataset("msrs", tmp_msrs), crop_size=(32, 32))
    with pytest.raises(DataError, match=r"00001D\.png: image is 32x24, smaller than the 32x32 crop"):
        ds[0]


def test_collate_stacks_images_and_lists_boxes(tmp_msrs: Path) -> None:
    ds = FusionDataset(open_dataset("msrs", tmp_msrs), modality_boxes=("visible",))
    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=collate)))
    assert batch["name"] == ["00001D", "00002N", "00003D"]
    assert batch["ir"].shape == (3, 1, 24, 32) and batch["vi"].shape == (3, 3, 24, 32)
    assert batch["mask"].shape == (3, 24, 32)
    assert [b.shape[0] for b in batch["boxes"]["visible"]] == [1, 0, 1]


def test_collate_refuses_mixed_sizes(tmp_msrs: Path) -> None:
    item = FusionDataset(open_dataset("msrs", tmp_msrs))[0]
    other = dict(item, ir=item["ir"][:, :10])
    with pytest.raises(ValueError, match="different sizes"):
        collate([item, other])
