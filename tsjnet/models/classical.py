"""Training-free fusion rules: the floor every learned method has to beat, run through the same interface.

Average and max are pixel rules; the Laplacian pyramid rule (Burt & Adelson) keeps, per level, the detail
coefficient of larger magnitude and averages the base, so edges of both sources survive without the
contrast loss of plain averaging. Works at any size, odd included (levels are expanded to the exact size of
the finer level, so the pyramid reconstructs its input exactly).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.geometry.transform import pyrdown

from tsjnet.models.fusion import FusionModel, check_pair
from tsjnet.models.registry import register_model

#: Levels smaller than this (pixels, shorter side) are not halved again.
_MIN_SIDE = 8


class ClassicalFusion(FusionModel):
    """A fixed rule: no parameters, nothing to train."""

    trainable = False

    def rule(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        """Fused luminance in [0, 1], same shape as the inputs."""
        check_pair(ir, vi)
        return self.rule(ir, vi).clamp(0.0, 1.0)


class AverageFusion(ClassicalFusion):
    """(IR + VIS) / 2."""

    def rule(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return (ir + vi) / 2


class MaxFusion(ClassicalFusion):
    """Element-wise max(IR, VIS): keeps hot targets and bright VIS regions."""

    def rule(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.maximum(ir, vi)


def _expand(coarse: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """Upsample a coarser level to the exact (H, W) of the finer one (odd sizes included)."""
    return F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)


def laplacian_pyramid(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[detail_0 (finest), ..., detail_{n-1}, base], n <= levels (fewer for small images)."""
    pyramid = []
    current = image
    for _ in range(levels):
        if min(current.shape[-2:]) < _MIN_SIDE:
            break
        coarse = pyrdown(current)
        pyramid.append(current - _expand(coarse, current.shape[-2:]))
        current = coarse
    pyramid.append(current)
    return pyramid


def reconstruct(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Inverse of `laplacian_pyramid`: exact up to float rounding."""
    image = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        image = detail + _expand(image, detail.shape[-2:])
    return image


class LaplacianFusion(ClassicalFusion):
    """Laplacian pyramid fusion: max-abs on detail levels, average on the base."""

    def __init__(self, levels: int = 4) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        self.levels = levels

    def rule(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ir_pyr = laplacian_pyramid(ir, self.levels)
        vi_pyr = laplacian_pyramid(vi, self.levels)
        details = [torch.where(a.abs() >= b.abs(), a, b) for a, b in zip(ir_pyr[:-1], vi_pyr[:-1])]
        return reconstruct([*details, (ir_pyr[-1] + vi_pyr[-1]) / 2])


@register_model
def classical_average() -> AverageFusion:
    """Pixel average of IR and VIS."""
    return AverageFusion()


@register_model
def classical_max() -> MaxFusion:
    """Pixel max of IR and VIS."""
    return MaxFusion()


@register_model
def classical_laplacian(levels: int = 4) -> LaplacianFusion:
    """Laplacian pyramid fusion with `levels` detail levels."""
    return LaplacianFusion(levels=levels)
