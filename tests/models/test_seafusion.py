"""SeAFusion baseline: size, range, gradients, determinism, and the paper's size/compute budget."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tsjnet.models.registry import create_model
from tsjnet.models.seafusion import SeAFusion


def pair(height: int, width: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(batch, 1, height, width, generator=generator),
            torch.rand(batch, 1, height, width, generator=generator))


def test_registered_and_trainable() -> None:
    model = create_model("seafusion")
    assert isinstance(model, SeAFusion) and model.trainable


def test_parameter_count_matches_the_paper() -> None:
    count = sum(p.numel() for p in SeAFusion().parameters())
    assert abs(count - 0.17e6) / 0.17e6 < 0.10


def test_macs_at_480x640_match_the_paper() -> None:
    """~51 GMAC per 480x640 pair (1 MAC = 2 FLOP), counted on the meta device: no real compute."""
    with torch.device("meta"):
        model, image = SeAFusion().eval(), torch.empty(1, 1, 480, 640)
        counter = FlopCounterMode(display=False)
        with counter:
            model.fuse(image, image)
    assert abs(counter.get_total_flops() / 2 / 51e9 - 1) < 0.10


def test_backward_reaches_every_parameter() -> None:
    model = SeAFusion().train()
    ir, vi = pair(24, 30, batch=2)
    out = model(ir, vi)
    assert out.shape == (2, 1, 24, 30)
    out.mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_odd_size_range_and_eval_determinism() -> None:
    model = SeAFusion().eval()
    ir, vi = pair(97, 131)
    with torch.no_grad():
        first, second = model(ir, vi), model(ir, vi)
    assert first.shape == (1, 1, 97, 131)
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, second)


def test_rejects_mismatched_pair() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        SeAFusion().fuse(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
