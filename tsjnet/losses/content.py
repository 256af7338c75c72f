"""Content terms that pull a fused image towards the best of both sources; shared by TSJNet and SeAFusion.

All inputs are (B, 1, H, W) luminance in [0, 1]. The "max-selection" targets follow SeAFusion (Tang et al.
2022) and TSJNet's released code: the fused image should keep the brighter intensity (IR targets) and the
stronger texture of the two sources at every pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import spatial_gradient
from pytorch_msssim import ssim

from tsjnet.config.base import Section
from tsjnet.config.loss import SeafusionLossParams

#: Guards the gradient weights of flat (texture-free) pairs, which then weigh both sources equally.
_EPS = 1e-8


def sobel_magnitude(image: torch.Tensor) -> torch.Tensor:
    """|Sobel_x| + |Sobel_y| with the unnormalised 3x3 kernels (the magnitude both reference losses use)."""
    grad = spatial_gradient(image, mode="sobel", order=1, normalized=False)
    return grad.abs().sum(dim=2)


def intensity_loss(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """L1 between the fused image and the element-wise max of the sources."""
    return F.l1_loss(fused, torch.maximum(ir, vi))


def texture_loss(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """L1 between the fused Sobel magnitude and the element-wise max of the source Sobel magnitudes."""
    target = torch.maximum(sobel_magnitude(ir), sobel_magnitude(vi))
    return F.l1_loss(sobel_magnitude(fused), target)


def ssim_per_image(a: torch.Tensor, b: torch.Tensor, window: int) -> torch.Tensor:
    """SSIM of each image pair, shape (B,), on [0, 1] data (pytorch-msssim, Gaussian window sigma 1.5)."""
    return ssim(a, b, data_range=1.0, size_average=False, win_size=window)


def weighted_ssim_loss(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, window: int) -> torch.Tensor:
    """1 - (w_ir SSIM(ir, f) + w_vi SSIM(vi, f)), w from each source's mean Sobel magnitude, per image.

    The source with more texture counts more, so a flat, noisy IR cannot dominate the structure target.
    """
    grad_ir = sobel_magnitude(ir).mean(dim=(1, 2, 3))
    grad_vi = sobel_magnitude(vi).mean(dim=(1, 2, 3))
    weight_ir = (grad_ir + _EPS) / (grad_ir + grad_vi + 2 * _EPS)
    score = weight_ir * ssim_per_image(ir, fused, window) + (1 - weight_ir) * ssim_per_image(vi, fused, window)
    return (1 - score).mean()


def with_total(terms: dict[str, torch.Tensor], weights: Section) -> dict[str, torch.Tensor]:
    """Add "total": the sum of each term times the params field of the same name."""
    total = sum(getattr(weights, name) * value for name, value in terms.items())
    return {**terms, "total": total}


def seafusion_loss(
    params: SeafusionLossParams, ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor
) -> dict[str, torch.Tensor]:
    """SeAFusion's content loss: weighted L_int + L_texture; returns each term and their "total"."""
    terms = {"intensity": intensity_loss(ir, vi, fused), "texture": texture_loss(ir, vi, fused)}
    return with_total(terms, params)
