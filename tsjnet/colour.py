"""Colour handling shared by training, evaluation and serving: fuse luminance, keep the visible chroma.

Fusion models see luminance only (tsjnet.models.fusion). The conversion is ITU-R BT.601 full range (the JPEG
convention: Y = 0.299 R + 0.587 G + 0.114 B, chroma centred on 0.5) in R, G, B channel order, via kornia.
`prepare_pair` is the single definition of a model input (Y of VIS, IR as gray), used by the training dataset
and by inference alike, so the two can never disagree.
"""

from __future__ import annotations

import numpy as np
import torch
from kornia.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb

from tsjnet.errors import DataError

#: Chroma value of a neutral (gray) pixel in full-range YCbCr on [0, 1].
NEUTRAL_CHROMA = 0.5


def _check_channels(image: torch.Tensor) -> None:
    if image.dim() < 3 or image.shape[-3] not in (1, 3):
        raise ValueError(f"expected a (..., 1 or 3, H, W) image tensor, got shape {tuple(image.shape)}")


def is_gray(image: torch.Tensor) -> torch.Tensor:
    """Per image: True when it has one channel or three equal channels. Shape: image.shape[:-3]."""
    _check_channels(image)
    if image.shape[-3] == 1:
        return torch.ones(image.shape[:-3], dtype=torch.bool, device=image.device)
    equal = (image[..., 0:1, :, :] == image).all(dim=-3)
    return equal.flatten(-2).all(dim=-1)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """BT.601 luma Y, shape (..., 1, H, W); a gray image (one or three equal channels) keeps its exact value."""
    _check_channels(image)
    if image.shape[-3] == 1:
        return image
    return torch.where(is_gray(image)[..., None, None, None], image[..., 0:1, :, :], rgb_to_y(image))


def fuse_colour(fused_y: torch.Tensor, vi_rgb: torch.Tensor) -> torch.Tensor:
    """Recombine the fused luminance with the chroma of the visible image, clamped to [0, 1].

    A gray VIS, as one channel or as three equal channels, gives a gray result of the same channel count:
    its chroma is forced to exactly neutral so no colour cast from rounding can appear.
    """
    _check_channels(vi_rgb)
    if fused_y.shape[-3] != 1 or fused_y.shape[:-3] != vi_rgb.shape[:-3] or fused_y.shape[-2:] != vi_rgb.shape[-2:]:
        raise ValueError(f"fused luminance {tuple(fused_y.shape)} does not match VIS {tuple(vi_rgb.shape)}: "
                         "expected (..., 1, H, W) with the VIS batch and size")
    fused_y = fused_y.clamp(0.0, 1.0)
    if vi_rgb.shape[-3] == 1:
        return fused_y
    chroma = rgb_to_ycbcr(vi_rgb)[..., 1:, :, :]
    gray = is_gray(vi_rgb)[..., None, None, None]
    chroma = torch.where(gray, torch.full_like(chroma, NEUTRAL_CHROMA), chroma)
    return ycbcr_to_rgb(torch.cat([fused_y, chroma], dim=-3)).clamp(0.0, 1.0)


def to_tensor(image_u8: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) uint8 array -> float (C, H, W) tensor in [0, 1]."""
    if not isinstance(image_u8, np.ndarray) or image_u8.dtype != np.uint8:
        kind = image_u8.dtype if isinstance(image_u8, np.ndarray) else type(image_u8).__name__
        raise DataError(f"expected an 8-bit (uint8) image array, got {kind}; read images with tsjnet.data.io "
                        "or convert 16-bit/float images to 8-bit first")
    if image_u8.ndim == 2:
        image_u8 = image_u8[..., None]
    if image_u8.ndim != 3 or image_u8.shape[2] not in (1, 3):
        raise DataError(f"expected a (H, W) gray or (H, W, 3) RGB image, got shape {image_u8.shape}; "
                        "drop the alpha channel / convert the image to RGB first")
    return torch.from_numpy(np.ascontiguousarray(image_u8.transpose(2, 0, 1))).float().div_(255.0)


def to_tensor_y(image_u8: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, 3) uint8 array -> its luminance as a float (1, H, W) tensor in [0, 1]."""
    return luminance(to_tensor(image_u8))


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor in [0, 1] -> (H, W) uint8 for one channel, (H, W, C) otherwise (rounded, clamped)."""
    if image.dim() != 3:
        raise ValueError(f"expected one (C, H, W) image, got shape {tuple(image.shape)}; index the batch first")
    array = image.detach().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).cpu().numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def prepare_pair(ir_u8: np.ndarray, vi_u8: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The model input of one pair: (IR gray (1,H,W), VIS luminance (1,H,W), VIS RGB (3,H,W)), all in [0, 1].

    IR stored as RGB is reduced to its luminance (exact for three equal channels); a gray VIS gives three
    equal RGB channels, which `fuse_colour` keeps gray.
    """
    ir = to_tensor(ir_u8)
    vi = to_tensor(vi_u8)
    if ir.shape[-2:] != vi.shape[-2:]:
        raise DataError(f"IR size {tuple(ir.shape[-2:])} and VIS size {tuple(vi.shape[-2:])} differ (H, W); "
                        "register or crop the pair so both have the same size")
    vi_rgb = vi.expand(3, -1, -1).contiguous() if vi.shape[0] == 1 else vi
    return luminance(ir), luminance(vi_rgb), vi_rgb
