"""The one rule for what a task network sees: 3-channel images in [0, 1].

Colour images (visible, and fused images rendered back to RGB) pass through; single-channel images
(infrared, or a fused luminance) are replicated to gray RGB, because both task networks are built
for 3 channels and must accept IR, VIS and fused inputs alike.
"""

from __future__ import annotations

import torch

from tsjnet.colour import to_tensor
from tsjnet.data.types import Sample


def as_rgb(images: torch.Tensor) -> torch.Tensor:
    """(B, 1|3, H, W) or (1|3, H, W) float in [0, 1] -> the same with 3 channels."""
    channels = images.shape[-3] if images.dim() >= 3 else None
    if channels == 3:
        return images
    if channels == 1:
        return images.expand(*images.shape[:-3], 3, *images.shape[-2:])
    raise ValueError(f"task networks take 1- or 3-channel images, got {channels} channels (shape {tuple(images.shape)})")


def sample_image(sample: Sample, modality: str) -> torch.Tensor:
    """A sample's infrared or visible image as a (3, H, W) float tensor in [0, 1]."""
    arrays = {"infrared": sample.ir, "visible": sample.vi}
    if modality not in arrays:
        raise ValueError(f"modality must be 'infrared' or 'visible', got {modality!r}")
    return as_rgb(to_tensor(arrays[modality])).contiguous()
