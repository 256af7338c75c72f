"""Torch datasets for pretraining the task networks: one item per (pair, modality) image.

Images become [0, 1] float tensors through `tsjnet.tasks.inputs.sample_image` (IR, VIS, or a blend of
both); masks stay integer class ids (int64, IGNORE_INDEX kept) and are never scaled like images (the
reference's ToTensor on masks divided them by 255 and turned every class into background). Random horizontal flips move
image, boxes and mask together through torchvision's transforms v2.

`DetectionImages` serves any other image of a pair with any target (the per-method judges of the evaluate stage
train on a method's fused images with the union truth).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from tsjnet.data.paired import PairDataset
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.data.types import Sample
from tsjnet.errors import DataError
from tsjnet.tasks.detector import sample_target
from tsjnet.tasks.inputs import sample_image

Task = Literal["detection", "segmentation"]
DetectionTarget = dict[str, torch.Tensor]  # torchvision's {"boxes": (N, 4) xyxy, "labels": (N,) int64}


def flipped_detection(flip: v2.Transform, image: torch.Tensor, target: DetectionTarget
                      ) -> tuple[torch.Tensor, DetectionTarget]:
    """`image` and its target's boxes through `flip` together (the same draw for both)."""
    image = tv_tensors.Image(image)
    boxes = tv_tensors.BoundingBoxes(target["boxes"], format="XYXY", canvas_size=tuple(image.shape[-2:]))
    image, boxes = flip(image, boxes)
    return image.as_subclass(torch.Tensor), {"boxes": boxes.as_subclass(torch.Tensor), "labels": target["labels"]}


class TaskImages(Dataset):
    """(image (3, H, W), target) items: a torchvision detection target, or an int64 (H, W) mask."""

    def __init__(self, pairs: PairDataset, modalities: Sequence[str], task: Task, train: bool = False,
                 hflip: bool = False, crop: tuple[int, int] | None = None, mix: Sequence[str] = ()) -> None:
        """`mix` (training only): each item's image kind is drawn from these instead (params detector.train_mix)."""
        if not modalities:
            raise ValueError("at least one training modality is needed")
        if mix and not train:
            raise ValueError("a mix of image kinds is for training: evaluation scores one kind at a time")
        self.pairs = pairs
        self.task = task
        self.items = [(record, modality) for record in pairs.records for modality in modalities]
        self.train = train
        self.mix = tuple(mix)
        self.flip = v2.RandomHorizontalFlip(p=0.5) if hflip else v2.Identity()
        if crop is not None and task != "segmentation":
            raise ValueError("random crops are for segmentation: a crop would cut detection boxes")
        # Masks are padded with IGNORE_INDEX where a crop is larger than the image, so padding never trains.
        self.crop = (v2.RandomCrop(crop, pad_if_needed=True, fill={tv_tensors.Image: 0.0, tv_tensors.Mask: IGNORE_INDEX})
                     if crop is not None else v2.Identity())

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Any]:
        record, modality = self.items[index]
        if self.mix:  # drawn from torch's global generator, which seed_everything seeds
            modality = self.mix[int(torch.randint(len(self.mix), ()))]
        sample = self.pairs.load(record)
        # Training draws a fresh blend each time; evaluation sees the same blend of an item every time.
        generator = None if self.train else torch.Generator().manual_seed(index)
        image = sample_image(sample, modality, generator)
        if self.task == "detection":
            return flipped_detection(self.flip, image, sample_target(sample, modality))
        if sample.mask is None:
            raise DataError(f"sample {sample.name!r} ({sample.split}) has no segmentation mask: the segmenter "
                            f"is trained on <split>/Segmentation_labels/<name>.png")
        mask = tv_tensors.Mask(torch.from_numpy(sample.mask).long())
        image, mask = self.crop(*self.flip(tv_tensors.Image(image), mask))
        return image.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)


class DetectionImages(Dataset):
    """(image (3, H, W), torchvision target) items, one per pair: `image` and `target` say what each pair gives."""

    def __init__(self, pairs: PairDataset, image: Callable[[Sample], torch.Tensor],
                 target: Callable[[Sample], DetectionTarget], hflip: bool) -> None:
        self.pairs = pairs
        self.image = image
        self.target = target
        self.flip = v2.RandomHorizontalFlip(p=0.5) if hflip else v2.Identity()

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, DetectionTarget]:
        sample = self.pairs.load(self.pairs.records[index])
        return flipped_detection(self.flip, self.image(sample), self.target(sample))


def collate_detection(batch: list[tuple[torch.Tensor, dict]]) -> tuple[list[torch.Tensor], list[dict]]:
    """Faster R-CNN takes lists: images may differ in size and box counts always do."""
    images, targets = zip(*batch)
    return list(images), list(targets)
