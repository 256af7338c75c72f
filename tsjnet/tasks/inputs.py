"""The one rule for what a task network sees: 3-channel images in [0, 1].

Colour images (visible, and fused images rendered back to RGB) pass through; single-channel images
(infrared, or a fused luminance) are replicated to gray RGB, because both task networks are built
for 3 channels and must accept IR, VIS and fused inputs alike.

A third training modality, ``blend``, stands in for fused images while no fusion network exists yet: the
luminance of IR and VIS combined by a classical rule drawn per image (a weighted average or the per-pixel
maximum), coloured with the VIS chroma exactly as fused images are (`tsjnet.colour.fuse_colour`), and labelled
with the fusion boxes (every object visible in either source). Task networks that have seen blends judge a
fused image by what it shows, instead of by how much it looks like one of the two sensors they were trained on
(the detector of fused images also keeps seeing IR images: params detector.train_mix).
"""

from __future__ import annotations

import torch

from tsjnet.colour import fuse_colour, luminance, to_tensor
from tsjnet.data.types import Sample

#: Weight range of IR in the weighted-average blend, and the chance of the max rule instead.
BLEND_IR_WEIGHT = (0.3, 0.7)
BLEND_MAX_PROBABILITY = 0.5
#: Which box labels train a detector on each modality's images.
BOX_LABELS = {"infrared": "infrared", "visible": "visible", "blend": "fusion"}


def as_rgb(images: torch.Tensor) -> torch.Tensor:
    """(B, 1|3, H, W) or (1|3, H, W) float in [0, 1] -> the same with 3 channels."""
    channels = images.shape[-3] if images.dim() >= 3 else None
    if channels == 3:
        return images
    if channels == 1:
        return images.expand(*images.shape[:-3], 3, *images.shape[-2:])
    raise ValueError(f"task networks take 1- or 3-channel images, got {channels} channels (shape {tuple(images.shape)})")


def blend_image(ir: torch.Tensor, vi: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """IR (1|3, H, W) and VIS (1|3, H, W) in [0, 1] -> a classical fusion of their luminance in VIS colour."""
    ir_y, vi_y = luminance(ir), luminance(vi)
    draw = torch.rand(2, generator=generator)
    if draw[0] < BLEND_MAX_PROBABILITY:
        fused_y = torch.maximum(ir_y, vi_y)
    else:
        low, high = BLEND_IR_WEIGHT
        weight = low + (high - low) * float(draw[1])
        fused_y = weight * ir_y + (1.0 - weight) * vi_y
    return as_rgb(fuse_colour(fused_y, as_rgb(vi)))


def sample_image(sample: Sample, modality: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample's infrared, visible or blend image as a (3, H, W) float tensor in [0, 1].

    `generator` draws the blend's rule (seed it for a reproducible image, e.g. in validation).
    """
    if modality == "blend":
        return blend_image(to_tensor(sample.ir), to_tensor(sample.vi), generator).contiguous()
    arrays = {"infrared": sample.ir, "visible": sample.vi}
    if modality not in arrays:
        raise ValueError(f"modality must be one of {sorted(BOX_LABELS)}, got {modality!r}")
    return as_rgb(to_tensor(arrays[modality])).contiguous()
