"""SeAFusion (Tang et al., "Image fusion in the loop of high-level vision tasks", Information Fusion 2022).

A light two-stream CNN used as the comparison baseline: each modality goes through a 3x3 conv and two
gradient residual dense blocks (GRDB), the streams are concatenated and a 4-layer conv decoder maps them to
the fused luminance. Fully convolutional with stride 1, so any H, W works and the output keeps the size.
"""

from __future__ import annotations

import torch
from torch import nn

from tsjnet.models.fusion import FusionModel, check_pair
from tsjnet.models.registry import register_model

_SOBEL_X = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def _conv_act(in_ch: int, out_ch: int, norm: bool = False, slope: float = 0.2) -> nn.Sequential:
    """3x3 conv (+ BatchNorm) + LeakyReLU, the unit every SeAFusion layer is made of."""
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 3, padding=1)]
    if norm:
        layers.append(nn.BatchNorm2d(out_ch))
    layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


def sobel_convs(channels: int) -> tuple[nn.Conv2d, nn.Conv2d]:
    """Depthwise 3x3 convs (no bias) initialised to the Sobel x and y kernels, as in the original GRDB.

    Shared with the port of the released network (tsjnet.models.seafusion_release), which names them differently.
    """
    conv_x, conv_y = (nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False) for _ in range(2))
    with torch.no_grad():
        conv_x.weight.copy_(_SOBEL_X.expand_as(conv_x.weight))
        conv_y.weight.copy_(_SOBEL_X.T.expand_as(conv_y.weight))
    return conv_x, conv_y


class SobelBranch(nn.Module):
    """Depthwise |Gx| + |Gy| initialised to the Sobel kernels and left trainable, as in the original."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_x, self.conv_y = sobel_convs(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.conv_x(x).abs() + self.conv_y(x).abs()


class GRDB(nn.Module):
    """Gradient residual dense block: dense 3x3 convs (main path) + Sobel gradient branch (residual)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.dense1 = _conv_act(in_ch, in_ch)
        self.dense2 = _conv_act(2 * in_ch, in_ch)
        self.fuse_dense = nn.Conv2d(3 * in_ch, out_ch, 1)
        self.gradient = SobelBranch(in_ch)
        self.fuse_gradient = nn.Conv2d(in_ch, out_ch, 1)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        dense = torch.cat([x, self.dense1(x)], dim=1)
        dense = torch.cat([dense, self.dense2(dense)], dim=1)
        return self.act(self.fuse_dense(dense) + self.fuse_gradient(self.gradient(x)))


def _stream(channels: tuple[int, int, int]) -> nn.Sequential:
    """Feature extractor of one modality: conv, then two GRDBs widening the channels."""
    c1, c2, c3 = channels
    return nn.Sequential(_conv_act(1, c1), GRDB(c1, c2), GRDB(c2, c3))


class SeAFusion(FusionModel):
    """Two-stream GRDB fusion network; ~0.17 M parameters with the default (16, 32, 48) widths."""

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 48)) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.ir_stream = _stream(channels)
        self.vi_stream = _stream(channels)
        self.decoder = nn.Sequential(
            _conv_act(2 * c3, 2 * c2, norm=True),
            _conv_act(2 * c2, 2 * c1, norm=True),
            _conv_act(2 * c1, c1, norm=True),
            nn.Conv2d(c1, 1, 3, padding=1),
            nn.BatchNorm2d(1),
            nn.Tanh(),
        )

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        """Fused luminance in [0, 1] (tanh / 2 + 0.5), same size as the inputs."""
        check_pair(ir, vi)
        features = torch.cat([self.vi_stream(vi), self.ir_stream(ir)], dim=1)
        return self.decoder(features) / 2 + 0.5


@register_model
def seafusion(**kwargs: object) -> SeAFusion:
    """SeAFusion baseline (trained with `tsjnet.losses.seafusion_loss` plus a segmentation loss)."""
    return SeAFusion(**kwargs)
