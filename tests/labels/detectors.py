"""A stand-in teacher detector for the label tests (no weights, fixed answers)."""

from __future__ import annotations

import torch
from torch import nn


class FixedDetector(nn.Module):
    """Answers every image with the same torchvision-style detections (labels are det class + 1)."""

    def __init__(self, boxes: list[list[float]], labels: list[int], scores: list[float]) -> None:
        super().__init__()
        self.output = {"boxes": torch.tensor(boxes).reshape(-1, 4), "labels": torch.tensor(labels, dtype=torch.int64),
                       "scores": torch.tensor(scores)}

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        assert all(image.shape[0] == 3 for image in images)
        return [dict(self.output) for _ in images]
