"""Content terms and SeAFusion's loss against values computed by hand on tiny images."""

from __future__ import annotations

import pytest
import torch

from tests.params import section
from tsjnet.losses import seafusion_loss
from tsjnet.losses.content import intensity_loss, sobel_magnitude, texture_loss, weighted_ssim_loss

IR = torch.tensor([[0.2, 0.8], [0.5, 0.1]]).view(1, 1, 2, 2)
VI = torch.tensor([[0.6, 0.4], [0.5, 0.3]]).view(1, 1, 2, 2)
HALF = torch.full((1, 1, 2, 2), 0.5)
# A vertical step: 0 0 1 on every row.
STEP = torch.tensor([[0.0, 0.0, 1.0]] * 3).view(1, 1, 3, 3)


def test_intensity_loss_by_hand() -> None:
    # max(IR, VI) = [[.6, .8], [.5, .3]]; |0.5 - max| = [[.1, .3], [0, .2]] -> mean 0.15
    assert intensity_loss(IR, VI, HALF).item() == pytest.approx(0.15, abs=1e-6)
    assert intensity_loss(IR, VI, torch.maximum(IR, VI)).item() == 0.0


def test_sobel_magnitude_by_hand() -> None:
    # |Gx| = 4 where the 3x3 window straddles the step (replicated border), |Gy| = 0.
    expected = torch.tensor([[0.0, 4.0, 4.0]] * 3).view(1, 1, 3, 3)
    assert torch.equal(sobel_magnitude(STEP), expected)
    assert torch.equal(sobel_magnitude(STEP.transpose(-1, -2)), expected.transpose(-1, -2))


def test_texture_loss_by_hand() -> None:
    flat = torch.zeros_like(STEP)
    # target = max(|S ir|, |S vi|) = [[0, 4, 4]] * 3; fused flat -> mean 24 / 9
    assert texture_loss(STEP, flat, flat).item() == pytest.approx(24 / 9, abs=1e-6)
    assert texture_loss(STEP, flat, STEP).item() == 0.0


def test_seafusion_loss_weights_the_terms() -> None:
    flat = torch.zeros_like(STEP)
    terms = seafusion_loss(section("loss.seafusion"), STEP, flat, flat)
    # intensity: |0 - max| = 1 on 3 of 9 pixels -> 1/3
    assert terms["intensity"].item() == pytest.approx(1 / 3, abs=1e-6)
    assert terms["total"].item() == pytest.approx(1 / 3 + 10 * 24 / 9, abs=1e-5)
    custom = seafusion_loss(section("loss.seafusion", intensity=2.0, texture=0.0), STEP, flat, flat)
    assert custom["total"].item() == pytest.approx(2 / 3, abs=1e-6)


def test_weighted_ssim_follows_the_textured_source() -> None:
    textured = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    flat = torch.full_like(textured, 0.5)
    # VIS has no gradient -> weight 1 on IR -> fused == IR is perfect.
    assert weighted_ssim_loss(textured, flat, textured, window=7).item() == pytest.approx(0.0, abs=1e-5)
    assert weighted_ssim_loss(textured, flat, flat, window=7).item() > 0.5
    # Two flat sources weigh equally and a flat fused image matches both.
    assert weighted_ssim_loss(flat, flat, flat, window=7).item() == pytest.approx(0.0, abs=1e-5)


def test_gradients_reach_the_fused_image() -> None:
    ir, vi = torch.rand(2, 1, 12, 12), torch.rand(2, 1, 12, 12)
    fused = torch.rand(2, 1, 12, 12, requires_grad=True)
    total = seafusion_loss(section("loss.seafusion"), ir, vi, fused)["total"] + weighted_ssim_loss(ir, vi, fused, 7)
    total.backward()
    assert fused.grad is not None and torch.isfinite(fused.grad).all() and fused.grad.abs().sum() > 0
