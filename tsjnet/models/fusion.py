"""The one fusion interface every method shares, so evaluation and serving treat them alike.

A fusion model is an ``nn.Module`` whose ``fuse(ir, vi)`` takes IR and VIS luminance tensors of shape
(B, 1, H, W) in [0, 1] (any H, W) and returns the fused luminance (B, 1, H, W) in [0, 1].
Colour is handled outside the model (tsjnet.colour): fuse the luminance, keep the VIS chroma.
"""

from __future__ import annotations

import torch
from torch import nn


class FusionModel(nn.Module):
    """Base class: subclasses implement `fuse`; `forward` defaults to it."""

    #: True when the method has weights to train (classical rules set False).
    trainable: bool = True
    #: Credit (licence, copyright) that must be shown with the results of a third-party method; None for ours.
    attribution: str | None = None
    #: True when `fuse` runs its activations channels-last: inference loaders then give it channels-last weights.
    channels_last: bool = False

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.fuse(ir, vi)


def check_pair(ir: torch.Tensor, vi: torch.Tensor) -> None:
    """Fail early, with shapes, on a pair the models cannot fuse."""
    if ir.dim() != 4 or vi.dim() != 4 or ir.shape[1] != 1 or vi.shape[1] != 1:
        raise ValueError(f"expected (B,1,H,W) luminance tensors, got ir {tuple(ir.shape)} and vi {tuple(vi.shape)}")
    if ir.shape != vi.shape:
        raise ValueError(f"IR {tuple(ir.shape)} and VIS {tuple(vi.shape)} differ in shape: register/crop the pair first")
