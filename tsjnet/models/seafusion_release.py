"""The SeAFusion network exactly as its authors released it, to put their trained weights beside our models.

`tsjnet.models.seafusion` is our re-implementation, trained here; this module is a port of the release's
``FusionNet`` (public SeAFusion / VIF-Benchmark code, MIT licence, Copyright (c) 2023 Linfeng Tang) whose module
names equal the keys of the released state dict, so ``SeAFusion.pth`` loads with ``strict=True``. It reproduces
the release's forward pass, quirks included: the decoder's ``bn`` layers are stored but never applied. The
weights are not part of the project (``DEFAULT_WEIGHTS`` is a shared folder next to it): methods built on them
are optional everywhere (evaluation, benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from tsjnet.models.fusion import FusionModel, check_pair
from tsjnet.models.registry import register_model
from tsjnet.models.seafusion import sobel_convs

#: Where the released weights live, from the project root (../shared/peers/README.md: source, sha256, layout).
DEFAULT_WEIGHTS = "../shared/peers/seafusion/SeAFusion.pth"
#: Credit to show wherever a result of the released weights is shown (their licence asks for it).
ATTRIBUTION = "SeAFusion released weights: MIT licence, Copyright (c) 2023 Linfeng Tang, VIF-Benchmark"
#: How to get the weights, for the missing-file error.
FETCH = ("get Checkpoint/SeAFusion/SeAFusion.pth of github.com/Linfeng-Tang/VIF-Benchmark (commit 23f2e51) and put "
         f"it there (default {DEFAULT_WEIGHTS}, read in place: never copy it into the repository)")


def _leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def _unit_tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x) / 2 + 0.5


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


class _Conv(nn.Module):
    """`conv` (size-preserving) then an activation: the release's ConvLeakyRelu2d (3x3) and Conv1 (1x1) units."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3,
                 activation: Callable[[torch.Tensor], torch.Tensor] = _leaky_relu) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.activation(self.conv(x))


class _ConvBn(_Conv):
    """The decoder unit: the release stores a `bn` after the conv but its forward skips it, so this one does too."""

    def __init__(self, in_ch: int, out_ch: int,
                 activation: Callable[[torch.Tensor], torch.Tensor] = _leaky_relu) -> None:
        super().__init__(in_ch, out_ch, activation=activation)
        self.bn = nn.BatchNorm2d(out_ch)


class _Dense(nn.Module):
    """Two densely connected 3x3 units: out = [x, a, b] with a = conv1(x), b = conv2([x, a]) (3x the channels)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _Conv(channels, channels)
        self.conv2 = _Conv(2 * channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x = torch.cat([x, self.conv1(x)], dim=1)
        return torch.cat([x, self.conv2(x)], dim=1)


class _Sobel(nn.Module):
    """|Gx| + |Gy| per channel, the release's `Sobelxy` (same computation as seafusion.SobelBranch, its names)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convx, self.convy = sobel_convs(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.convx(x).abs() + self.convy(x).abs()


class _RGBD(nn.Module):
    """Gradient residual dense block: LeakyReLU(0.1)(convdown(dense(x)) + convup(sobel(x)))."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.dense = _Dense(in_ch)
        self.convdown = _Conv(3 * in_ch, out_ch, kernel_size=1, activation=_identity)
        self.sobelconv = _Sobel(in_ch)
        self.convup = _Conv(in_ch, out_ch, kernel_size=1, activation=_identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return F.leaky_relu(self.convdown(self.dense(x)) + self.convup(self.sobelconv(x)), 0.1)


class SeAFusionRelease(FusionModel):
    """The released FusionNet (widths 16, 32, 48; 167 k parameters); the attribute names are the state dict's."""

    attribution = ATTRIBUTION

    def __init__(self) -> None:
        super().__init__()
        self.vis_conv = _Conv(1, 16)
        self.vis_rgbd1 = _RGBD(16, 32)
        self.vis_rgbd2 = _RGBD(32, 48)
        self.inf_conv = _Conv(1, 16)
        self.inf_rgbd1 = _RGBD(16, 32)
        self.inf_rgbd2 = _RGBD(32, 48)
        self.decode4 = _ConvBn(96, 64)
        self.decode3 = _ConvBn(64, 32)
        self.decode2 = _ConvBn(32, 16)
        self.decode1 = _ConvBn(16, 1, activation=_unit_tanh)

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        """Fused luminance in [0, 1], same size: the release's ``net(vis_y, ir)``, VIS features first."""
        check_pair(ir, vi)
        vis = self.vis_rgbd2(self.vis_rgbd1(self.vis_conv(vi)))
        inf = self.inf_rgbd2(self.inf_rgbd1(self.inf_conv(ir)))
        return self.decode1(self.decode2(self.decode3(self.decode4(torch.cat([vis, inf], dim=1)))))


@register_model
def seafusion_release() -> SeAFusionRelease:
    """The released SeAFusion architecture, randomly initialised; the weights load through
    `tsjnet.registry.checkpoint.load_state_dict_model` (with ``fix=FETCH`` when the file is missing)."""
    return SeAFusionRelease()
