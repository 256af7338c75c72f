"""PyTorch view of a `PairDataset`: float tensors for the networks, boxes kept per modality.

Boxes stay a list per batch (their count varies per image); masks default to IGNORE_INDEX so a dataset
without segmentation labels contributes no segmentation loss instead of teaching "everything is background".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset
from torchvision.ops import clip_boxes_to_image, remove_small_boxes

from tsjnet.data.paired import PairDataset
from tsjnet.data.types import IGNORE_INDEX, MODALITIES
from tsjnet.errors import DataError

# Boxes narrower or shorter than this after a crop carry no object and are removed.
MIN_CROPPED_BOX_PX = 1.0


def _crop_boxes(boxes: torch.Tensor, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """Shift pixel boxes [cls, x1, y1, x2, y2] into a crop window, clip them, and drop slivers."""
    coords = clip_boxes_to_image(boxes[:, 1:] - torch.tensor([left, top, left, top], dtype=boxes.dtype), (height, width))
    keep = remove_small_boxes(coords, MIN_CROPPED_BOX_PX)
    return torch.cat([boxes[keep, :1], coords[keep]], dim=1)


class FusionDataset(Dataset):
    """Tensors per sample: ir (1,H,W) and vi (3,H,W) float in [0,1], mask (H,W) long, boxes per modality.

    `modality_boxes` names the label modalities to return; a sample lacking one is an error (an absent label
    file must not read as "no object"). `crop_size` (height, width) takes one random crop per access.
    """

    def __init__(self, pairs: PairDataset, modality_boxes: Sequence[str] = (),
                 crop_size: tuple[int, int] | None = None) -> None:
        unknown = sorted(set(modality_boxes) - set(MODALITIES))
        if unknown:
            raise ValueError(f"unknown box modalities {unknown}; choose from {', '.join(MODALITIES)}")
        self.pairs = pairs
        self.modality_boxes = tuple(modality_boxes)
        self.crop_size = crop_size

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.pairs.records[index]
        sample = self.pairs.load(record)
        missing = [m for m in self.modality_boxes if m not in sample.boxes]
        if missing:
            raise DataError(f"{record.ir_path}: no {', '.join(missing)} box labels for {record.name!r}; "
                            "add the label files or drop the modality from modality_boxes")
        ir = torch.from_numpy(sample.ir).float().div(255).unsqueeze(0)
        vi = torch.from_numpy(sample.vi).permute(2, 0, 1).float().div(255)
        if sample.mask is None:
            mask = torch.full(sample.ir.shape, IGNORE_INDEX, dtype=torch.long)
        else:
            mask = torch.from_numpy(sample.mask).long()
        boxes = {m: torch.from_numpy(sample.boxes[m]) for m in self.modality_boxes}
        item = {"name": sample.name, "ir": ir, "vi": vi, "mask": mask, "boxes": boxes}
        return item if self.crop_size is None else self._random_crop(item, record.ir_path)

    def _random_crop(self, item: dict[str, Any], where: Path) -> dict[str, Any]:
        height, width = self.crop_size
        full_h, full_w = item["ir"].shape[-2:]
        if height > full_h or width > full_w:
            raise DataError(f"{where}: image is {full_w}x{full_h}, smaller than the {width}x{height} crop; "
                            "lower the crop size")
        top = int(torch.randint(full_h - height + 1, ()))
        left = int(torch.randint(full_w - width + 1, ()))
        window = (slice(top, top + height), slice(left, left + width))
        return {"name": item["name"], "ir": item["ir"][(..., *window)], "vi": item["vi"][(..., *window)],
                "mask": item["mask"][window],
                "boxes": {m: _crop_boxes(b, top, left, height, width) for m, b in item["boxes"].items()}}


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack images and masks; keep boxes as per-modality lists of (N_i, 5) tensors."""
    sizes = sorted({tuple(item["ir"].shape[-2:]) for item in batch})
    if len(sizes) > 1:
        raise ValueError(f"cannot batch images of different sizes {sizes}; set a crop size or use batch_size=1")
    return {
        "name": [item["name"] for item in batch],
        "ir": torch.stack([item["ir"] for item in batch]),
        "vi": torch.stack([item["vi"] for item in batch]),
        "mask": torch.stack([item["mask"] for item in batch]),
        "boxes": {m: [item["boxes"][m] for item in batch] for m in batch[0]["boxes"]},
    }
