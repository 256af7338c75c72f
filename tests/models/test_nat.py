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


def test_without_relative_position_bias_the_layers_hand_the_attention_to_natten(monkeypatch: pytest.MonkeyPatch):
    """Off, a layer has no bias table and calls natten's fused kernel wherever it can run (CUDA); the result is
    natten's own (its CPU reference path here)."""
    import warnings

    import natten

    from tsjnet.models import attention
    from tsjnet.models.nat import NeighborhoodAttention2D

    torch.manual_seed(0)
    layer = NeighborhoodAttention2D(dim=32, num_heads=2, kernel_size=3, rel_pos_bias=False).eval()  # head dim 16
    assert layer.rpb is None and not any("rpb" in name for name, _ in layer.named_parameters())
    x = torch.randn(1, 9, 13, 32)
    calls, original = [], natten.na2d

    def natten_na2d(*args, **kwargs):
        calls.append(kwargs["kernel_size"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # natten's CPU path warns that flex attention runs uncompiled
            return original(*args, **kwargs)

    monkeypatch.setattr(attention.natten, "na2d", natten_na2d)
    monkeypatch.setattr(attention, "_natten_fused_can_run", lambda q, k, d, rpb: rpb is None)  # as on CUDA
    with torch.no_grad():
        through_natten = layer(x)
        monkeypatch.setattr(attention, "_natten_fused_can_run", lambda q, k, d, rpb: False)  # our tiled kernel
        ours = layer(x)
    assert calls == [3]
    torch.testing.assert_close(through_natten, ours, atol=1e-5, rtol=1e-5)
    with_bias = NeighborhoodAttention2D(dim=8, num_heads=2, kernel_size=3)
    assert with_bias.rpb is not None and with_bias.rpb.shape == (2, 5, 5)


def test_tsjnet_without_relative_position_bias_builds_and_fuses():
    from tsjnet.models.registry import create_model

    model = create_model("tsjnet_tiny", nat_rel_pos_bias=False).eval()
    assert not any(name.endswith("rpb") for name in model.state_dict())
    with torch.no_grad():
        fused = model.fuse(torch.rand(1, 1, 40, 48), torch.rand(1, 1, 40, 48))
    assert fused.shape == (1, 1, 40, 48)
