"""TSJNet's L_MFF: each term on inputs with a known answer, the weighted total, gradients, params."""

from __future__ import annotations

import pytest
import torch

from tests.params import section
from tsjnet.config import ParamsError
from tsjnet.losses import mff_loss
from tsjnet.losses.mff import diversity_loss, ssim_loss

HEADS = 8


def images(seed: int, shape: tuple[int, ...] = (2, 1, 16, 16)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def one_hot_heads(height: int = 4, width: int = 6) -> torch.Tensor:
    """Every pixel claimed by exactly one head (heads mutually orthogonal)."""
    owner = torch.arange(height * width).view(height, width) % HEADS
    return torch.nn.functional.one_hot(owner, HEADS).permute(2, 0, 1)[None].float()


def test_ssim_loss_is_zero_when_all_agree_and_grows_apart() -> None:
    x = images(0)
    assert ssim_loss(x, x, x, window=11).item() == pytest.approx(0.0, abs=1e-5)
    assert ssim_loss(x, images(1), x, window=11).item() > 0.5


@pytest.mark.parametrize("value", [0.0, 0.3, 1.0])
def test_diversity_of_identical_heads_is_one(value: float) -> None:
    assert diversity_loss(torch.full((2, HEADS, 4, 6), value)).item() == pytest.approx(1.0)


def test_diversity_of_orthogonal_heads_is_minimal() -> None:
    assert diversity_loss(one_hot_heads()).item() == pytest.approx(1 / HEADS)
    random_heads = diversity_loss(images(2, (2, HEADS, 4, 6))).item()
    assert 1 / HEADS < random_heads < 1.0


def test_diversity_rejects_single_head() -> None:
    with pytest.raises(ValueError, match="K>=2"):
        diversity_loss(torch.rand(1, 1, 4, 4))


def batch(requires_grad: bool = False) -> dict[str, torch.Tensor]:
    tensors = {
        "ir": images(3),
        "vi": images(4),
        "fused": images(5),
        "attention": images(6, (2, HEADS, 16, 16)),
        "ir_recon": images(7),
        "vi_recon": images(8),
    }
    for name in ("fused", "attention", "ir_recon", "vi_recon"):
        tensors[name].requires_grad_(requires_grad)
    return tensors


def test_total_is_the_weighted_sum_with_paper_defaults() -> None:
    params = section("loss.tsjnet")
    assert (params.diversity, params.recon_vi, params.recon_ir) == (0.1, 6.0, 1.0)
    terms = mff_loss(params, **batch())
    expected = sum(getattr(params, name) * value for name, value in terms.items() if name != "total")
    assert set(terms) == {"diversity", "ssim", "recon_vi", "recon_ir", "intensity", "texture", "weighted_ssim",
                          "total"}
    assert terms["total"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_paper_only_weights_drop_the_content_terms() -> None:
    params = section("loss.tsjnet", intensity=0.0, texture=0.0, weighted_ssim=0.0)
    terms = mff_loss(params, **batch())
    paper = 0.1 * terms["diversity"] + terms["ssim"] + 6 * terms["recon_vi"] + 1 * terms["recon_ir"]
    assert terms["total"].item() == pytest.approx(paper.item(), rel=1e-6)


def test_perfect_reconstruction_has_zero_mse() -> None:
    tensors = batch()
    tensors["ir_recon"], tensors["vi_recon"] = tensors["ir"], tensors["vi"]
    terms = mff_loss(section("loss.tsjnet"), **tensors)
    assert terms["recon_ir"].item() == 0.0 and terms["recon_vi"].item() == 0.0


def test_gradients_flow_to_every_network_output() -> None:
    tensors = batch(requires_grad=True)
    mff_loss(section("loss.tsjnet"), **tensors)["total"].backward()
    for name in ("fused", "attention", "ir_recon", "vi_recon"):
        grad = tensors[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_params_validate() -> None:
    assert section("loss").seafusion.texture == 10.0
    with pytest.raises(ParamsError, match="loss.tsjnet.ssim_window: .*odd"):
        section("loss.tsjnet", ssim_window=8)
    with pytest.raises(ParamsError, match="loss.tsjnet.diversity: .*greater than or equal"):
        section("loss.tsjnet", diversity=-1)
    with pytest.raises(ParamsError, match="loss.tsjnet.alpha1: Extra inputs"):
        section("loss.tsjnet", alpha1=0.1)
