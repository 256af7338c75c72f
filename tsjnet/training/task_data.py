"""Torch datasets for pretraining the task networks: one item per (pair, modality) image.

Images become [0, 1] float tensors through `tsjnet.tasks.inputs.sample_image` (IR, VIS, or a blend of
both); masks stay integer class ids (int64, IGNORE_INDEX kept) and are never scaled like images (the
reference's ToTensor on masks divided them by 255 and turned every class into background). Random horizontal flips move
image, boxes and mask together through torchvision's transforms v2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from tsjnet.data.paired import PairDataset
from tsjnet.errors import DataError
from tsjnet.tasks.detector import sample_target
from tsjnet.tasks.inputs import sample_image

Task = Literal["detection", "segmentation"]


class TaskImages(Dataset):
    """(image (3, H, W), target) items: a torchvision detection target, or an int64 (H, W) mask."""

    def __init__(self, pairs: PairDataset, modalities: Sequence[str], task: Task, train: bool = False,
                 hflip: bool = False) -> None:
        if not modalities:
            raise ValueError("at least one training modality is needed")
        self.pairs = pairs
        self.task = task
        self.items = [(record, modality) for record in pairs.records for modality in modalities]
        self.train = train
        self.flip = v2.RandomHorizontalFlip(p=0.5) if hflip else v2.Identity()

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Any]:
        record, modality = self.items[index]
        sample = self.pairs.load(record)
        # Training draws a fresh blend each time; evaluation sees the same blend of an item every time.
        generator = None if self.train else torch.Generator().manual_seed(index)
        image = tv_tensors.Image(sample_image(sample, modality, generator))
        if self.task == "detection":
            target = sample_target(sample, modality)
            boxes = tv_tensors.BoundingBoxes(target["boxes"], format="XYXY", canvas_size=tuple(image.shape[-2:]))
            image, boxes = self.flip(image, boxes)
            return image.as_subclass(torch.Tensor), {"boxes": boxes.as_subclass(torch.Tensor), "labels": target["labels"]}
        if sample.mask is None:
            raise DataError(f"sample {sample.name!r} ({sample.split}) has no segmentation mask: the segmenter "
                            f"is trained on <split>/Segmentation_labels/<name>.png")
        mask = tv_tensors.Mask(torch.from_numpy(sample.mask).long())
        image, mask = self.flip(image, mask)
        return image.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)


def collate_detection(batch: list[tuple[torch.Tensor, dict]]) -> tuple[list[torch.Tensor], list[dict]]:
    """Faster R-CNN takes lists: images may differ in size and box counts always do."""
    images, targets = zip(*batch)
    return list(images), list(targets)
