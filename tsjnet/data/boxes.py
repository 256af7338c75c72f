"""Operations on pixel box sets ``(N, 5) [det_class, x1, y1, x2, y2]`` shared by derivation and quality."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torchvision.ops import box_iou

from tsjnet.data.labels import empty_boxes
from tsjnet.data.types import MODALITIES

# Two boxes of one class overlapping this much (IoU) are the same object: the usual detection criterion.
SAME_OBJECT_IOU = 0.5


def reference_modalities(available: Iterable[str]) -> list[str]:
    """The modalities whose boxes stand for every object of an image: fusion (annotated on both sensors)
    when present, else all the others, to be merged with `merge_boxes`."""
    present = set(available)
    return ["fusion"] if "fusion" in present else [m for m in MODALITIES if m in present]


def class_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU matrix, 0 between boxes of different classes."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)), np.float32)
    iou = box_iou(torch.as_tensor(a[:, 1:5], dtype=torch.float32), torch.as_tensor(b[:, 1:5], dtype=torch.float32))
    return np.where(a[:, :1] == b[None, :, 0], iou.numpy(), 0.0)


def merge_boxes(sets: list[np.ndarray], iou: float = SAME_OBJECT_IOU) -> np.ndarray:
    """Union of box sets without duplicates: a box is added unless an already kept one of its class covers it.

    Earlier sets win, and boxes within one set never suppress each other (two overlapping people drawn by
    one annotator are two people).
    """
    merged = empty_boxes()
    for boxes in sets:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 5)
        duplicate = (class_iou(boxes, merged) >= iou).any(axis=1)
        merged = np.concatenate([merged, boxes[~duplicate]])
    return merged


def count_matches(predicted: np.ndarray, truth: np.ndarray, iou: float = SAME_OBJECT_IOU) -> int:
    """True positives of a one-to-one greedy matching (highest IoU first) at `iou`, classes must agree."""
    overlap = class_iou(np.asarray(predicted).reshape(-1, 5), np.asarray(truth).reshape(-1, 5))
    matches = 0
    while overlap.size and overlap.max() >= iou:
        row, col = np.unravel_index(overlap.argmax(), overlap.shape)
        overlap[row, :] = 0
        overlap[:, col] = 0
        matches += 1
    return matches
