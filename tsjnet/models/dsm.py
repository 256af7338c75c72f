"""DSM: TSJNet's detail-salience branch of the local significant-feature module (LSM).

Two parallel paths on one feature map, summed:

* path A keeps full resolution and sharpens local detail: conv-BN-ReLU, a residual 1x1 refinement
  (x + ReLU(1x1 conv x)), conv-BN-ReLU, channel dropout, 1x1 projection;
* path B looks for salient (high-contrast) detail at half resolution: conv + LeakyReLU, max-pool + avg-pool
  (peaks and local mean), squeeze-excitation channel weights, then a stride-2 transposed conv back to full size.

Deviations from the reference code, each deliberate:
* the reference evaluates its path-B conv twice (once per pool) with the same weights; it is evaluated once here
  (identical result, half the cost);
* the channel weights come from timm's ``SEModule`` (1x1 convs on the pooled vector, the same maths as the
  reference's bias-free linear layers);
* the reference also builds a spatial-attention module it never uses; it is left out.
"""

from __future__ import annotations

import torch
from timm.layers import SEModule
from torch import nn


def conv_bn_relu(in_chs: int, out_chs: int) -> nn.Sequential:
    """3x3 conv, batch norm, ReLU: the basic full-resolution unit of path A."""
    return nn.Sequential(nn.Conv2d(in_chs, out_chs, 3, padding=1, bias=False), nn.BatchNorm2d(out_chs), nn.ReLU(inplace=True))


class ResidualRefine(nn.Module):
    """x + ReLU(1x1 conv x): a cheap per-pixel correction that cannot erase the incoming detail."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.conv(x))


class DSMBranch(nn.Module):
    """Detail-salience branch: (B, dim, H, W) -> (B, dim, H, W); H and W must be even (path B halves them).

    ``reduction`` is the squeeze ratio of the channel weights (the reference uses dim -> dim/2 -> dim).
    """

    def __init__(self, dim: int, dropout: float = 0.1, reduction: int = 2) -> None:
        super().__init__()
        self.local = nn.Sequential(
            conv_bn_relu(dim, dim),
            ResidualRefine(dim),
            conv_bn_relu(dim, dim),
            nn.Dropout2d(dropout),
            nn.Conv2d(dim, dim, 1),
        )
        self.salient_conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.salient_act = nn.LeakyReLU(0.2, inplace=True)
        self.max_pool = nn.MaxPool2d(2)
        self.avg_pool = nn.AvgPool2d(2)
        self.channel_weights = SEModule(dim, rd_channels=max(1, dim // reduction), bias=False)
        self.upsample = nn.ConvTranspose2d(dim, dim, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % 2 or x.shape[-1] % 2:
            raise ValueError(f"DSMBranch needs even height and width, got {tuple(x.shape[-2:])}: pad the input first")
        salient = self.salient_act(self.salient_conv(x))
        salient = self.max_pool(salient) + self.avg_pool(salient)
        salient = self.upsample(self.channel_weights(salient))
        return self.local(x) + salient
