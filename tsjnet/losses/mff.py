"""TSJNet's multi-modality feature fusion loss (Jie et al., TSJNet, arXiv 2402.01212).

L_MFF = a1 L_div + L_ssim + a2 L'_mse + a3 L''_mse, where L'_mse / L''_mse compare the VIS / IR images
reconstructed through the shared encoder+decoder with their sources, and L_div keeps the decoder's spatial
attention heads from collapsing onto the same pixels. The authors' released code adds content terms
(tsjnet.losses.content); every term has its own weight in `TsjnetLossParams`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tsjnet.config.loss import TsjnetLossParams
from tsjnet.losses.content import intensity_loss, ssim_per_image, texture_loss, weighted_ssim_loss, with_total


def ssim_loss(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, window: int) -> torch.Tensor:
    """L_ssim = (1 - SSIM(fused, IR)) + (1 - SSIM(fused, VIS)), averaged over the batch; 0 when all agree."""
    return (2 - ssim_per_image(fused, ir, window) - ssim_per_image(fused, vi, window)).mean()


def diversity_loss(attention: torch.Tensor) -> torch.Tensor:
    """L_div = mean(1 - max_k A_k) + mean(A) over (B, K, H, W) attention maps in [0, 1].

    Each pixel should be claimed strongly by some head (first term) while the heads stay sparse overall
    (second term): K identical heads score 1 whatever their value, heads splitting the pixels one-hot
    score the minimum 1/K.
    """
    if attention.dim() != 4 or attention.shape[1] < 2:
        raise ValueError(f"expected (B, K>=2, H, W) attention maps, got shape {tuple(attention.shape)}")
    return (1 - attention.amax(dim=1)).mean() + attention.mean()


def mff_loss(
    params: TsjnetLossParams,
    *,
    ir: torch.Tensor,
    vi: torch.Tensor,
    fused: torch.Tensor,
    attention: torch.Tensor,
    ir_recon: torch.Tensor,
    vi_recon: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Every term (unweighted, for logging) and their weighted "total".

    Args:
        ir, vi: source luminance (B, 1, H, W) in [0, 1].
        fused: the fused image (B, 1, H, W).
        attention: the decoder's head attention maps of the fused pass, (B, K, H', W').
        ir_recon, vi_recon: IR / VIS decoded from their own features, (B, 1, H, W).
    """
    window = params.ssim_window
    terms = {
        "diversity": diversity_loss(attention),
        "ssim": ssim_loss(ir, vi, fused, window),
        "recon_vi": F.mse_loss(vi_recon, vi),
        "recon_ir": F.mse_loss(ir_recon, ir),
        "intensity": intensity_loss(ir, vi, fused),
        "texture": texture_loss(ir, vi, fused),
        "weighted_ssim": weighted_ssim_loss(ir, vi, fused, window),
    }
    return with_total(terms, params)
