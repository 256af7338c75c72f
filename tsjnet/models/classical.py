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
#: Magnitudes this close count as a tie, won by the first source, so that float rounding (which differs between
#: PyTorch and an exported graph) cannot flip the choice between opposite-signed coefficients of equal size.
_TIE = 1e-5


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


def laplacian_pyramid(image: torch.Tensor, levels: int, min_side: int = _MIN_SIDE) -> list[torch.Tensor]:
    """[detail_0 (finest), ..., detail_{n-1}, base], n <= levels (fewer for images with sides below `min_side`;
    0: always `levels`, for callers that know their sizes, so an exported graph has no size-dependent branch)."""
    pyramid = []
    current = image
    for _ in range(levels):
        if min_side and min(current.shape[-2:]) < min_side:
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


def laplacian_bands(a: torch.Tensor, b: torch.Tensor, levels: int,
                    min_side: int = _MIN_SIDE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(base of a, base of b, fused detail) at full size: each base is its pyramid's coarsest level expanded back,
    the detail is every finer level's larger-magnitude coefficient. ``detail + (base_a + base_b) / 2`` is the
    Laplacian rule; with ``a == b`` the three parts add back to the source exactly."""
    pyr_a, pyr_b = laplacian_pyramid(a, levels, min_side), laplacian_pyramid(b, levels, min_side)
    details = [torch.where(da.abs() >= db.abs() - _TIE, da, db) for da, db in zip(pyr_a[:-1], pyr_b[:-1])]
    zeros = [torch.zeros_like(d) for d in details]
    return reconstruct([*zeros, pyr_a[-1]]), reconstruct([*zeros, pyr_b[-1]]), reconstruct([*details, torch.zeros_like(pyr_a[-1])])


def laplacian_detail(image: torch.Tensor, levels: int, min_side: int = _MIN_SIDE) -> torch.Tensor:
    """The finer levels of `image`'s pyramid added back at full size: the image minus its expanded base."""
    pyramid = laplacian_pyramid(image, levels, min_side)
    return image - reconstruct([*(torch.zeros_like(d) for d in pyramid[:-1]), pyramid[-1]])


class LaplacianFusion(ClassicalFusion):
    """Laplacian pyramid fusion: max-abs on detail levels, average on the base."""

    def __init__(self, levels: int = 4) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        self.levels = levels

    def rule(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        base_ir, base_vi, detail = laplacian_bands(ir, vi, self.levels)
        return detail + (base_ir + base_vi) / 2


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
