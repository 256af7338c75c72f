"""NAT-Mini backbone and TSJNet's NAT branch: shapes, gradients, size of the default model."""

from __future__ import annotations

import pytest
import torch

from tsjnet.models.nat import NATBranch, NATMini

TINY = {"embed_dim": 8, "depths": (1, 1, 1, 1), "num_heads": (1, 1, 2, 2), "kernel_size": 3, "drop_path_rate": 0.0}


def test_branch_keeps_shape_and_every_parameter_learns():
    torch.manual_seed(0)
    branch = NATBranch(dim=4, **TINY)
    x = torch.randn(2, 4, 32, 64, requires_grad=True)  # H/32 = 1 x 2: the 3x3 window is clamped to the map
    y = branch(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    silent = [name for name, p in branch.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"parameters without gradient: {silent}"
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_backbone_levels_halve_resolution_and_double_channels():
    features = NATMini(in_chans=3, **TINY)(torch.randn(1, 3, 64, 96))
    assert [tuple(f.shape) for f in features] == [(1, 8, 16, 24), (1, 16, 8, 12), (1, 32, 4, 6), (1, 64, 2, 3)]


def test_branch_rejects_sizes_that_are_not_multiples_of_32():
    with pytest.raises(ValueError, match="multiples of 32"):
        NATBranch(dim=4, **TINY)(torch.randn(1, 4, 48, 64))


def test_default_nat_mini_has_the_published_size():
    # NAT-Mini is published as 20M parameters with its 1000-class head (512*1000 + 1000) and final norm (1024)
    count = sum(p.numel() for p in NATMini(in_chans=3).parameters())
    assert count == 19_470_150
    assert abs(count + 512 * 1000 + 1000 + 1024 - 20e6) < 0.05e6
