"""Folding for inference keeps every fusion network's outputs and removes its batch norms and radix sums."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from timm.models.resnest import ResNestBottleneck
from torch import nn

from tests.models.heads import as_if_trained
from tsjnet.models.inference import ConvActivation, FoldedResNestBottleneck, fold_for_inference
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import build_fusion_model, read_checkpoint

SHIPPED = Path(__file__).parents[2] / "models/pretrained/tsjnet_lite_msrs.pt"

MODELS = [("tsjnet_tiny", {}), ("tsjnet_tiny", {"use_dsm": False}), ("tsjnet_tiny", {"blend_residual": 0.25, "blend_levels": 4}),
          ("tsjnet_tiny", {"blend_residual": 0.25, "blend_levels": 4, "blend_prior": 30.0, "blend_detail": 0.5}),
          ("tsjnet_lite", {}),
          ("seafusion", {"channels": (4, 4, 4)}), ("seafusion_release", {})]


def trained_looking(model: nn.Module) -> nn.Module:
    """Random batch-norm statistics and affine terms, so a wrong fold cannot hide behind the identity init."""
    as_if_trained(model)
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.running_mean.shape
            module.running_mean.copy_(torch.randn(shape, generator=generator) * 0.3)
            module.running_var.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(shape, generator=generator) * 0.1)
    return model.eval()


@pytest.mark.parametrize(("name", "kwargs"), MODELS, ids=[f"{n}{'-' + str(k) if k else ''}" for n, k in MODELS])
def test_folded_model_computes_the_same_maths(name: str, kwargs: dict) -> None:
    """In float64, so the check is of the algebra: in float32 the folded weights' rounding, amplified by random
    statistics through a deep stack, reaches 1e-4 (trained weights: about 1e-6, see the next test)."""
    torch.manual_seed(0)
    model = trained_looking(create_model(name, **kwargs)).double()
    folded = fold_for_inference(copy.deepcopy(model))
    ir, vi = torch.rand(2, 2, 1, 64, 70, dtype=torch.float64).unbind(0)
    with torch.inference_mode():
        torch.testing.assert_close(folded.fuse(ir, vi), model.fuse(ir, vi), rtol=0, atol=1e-10)


def test_shipped_weights_fuse_alike_in_float32() -> None:
    state = read_checkpoint(SHIPPED)
    model = build_fusion_model(state["model"], state["kwargs"], state["state_dict"])
    folded = fold_for_inference(copy.deepcopy(model))
    ir, vi = torch.rand(2, 1, 1, 96, 128).unbind(0)
    with torch.inference_mode():  # far below half a grey level (1/510)
        torch.testing.assert_close(folded.fuse(ir, vi), model.fuse(ir, vi), rtol=0, atol=1e-5)


def test_tsjnet_keeps_no_batch_norm_and_no_timm_bottleneck() -> None:
    folded = fold_for_inference(trained_looking(create_model("tsjnet_tiny")))
    kinds = {type(module) for module in folded.modules()}
    assert nn.BatchNorm2d not in kinds and ResNestBottleneck not in kinds
    assert FoldedResNestBottleneck in kinds and ConvActivation in kinds
    assert fold_for_inference(folded) is folded  # folding twice changes nothing


def test_training_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a model in eval mode"):
        fold_for_inference(create_model("tsjnet_tiny").train())


def test_unsupported_bottleneck_is_refused_not_folded_wrongly() -> None:
    block = ResNestBottleneck(16, 4, radix=1).eval()  # radix 1 gates with a sigmoid, not a softmax over splits
    with pytest.raises(ValueError, match="radix 1"):
        FoldedResNestBottleneck(block)


ACTIVATIONS = [nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.Sigmoid()]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("with_residual", [False, True])
@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format], ids=["channels_last", "nchw"])
def test_fused_conv_activation_matches_the_separate_ops(activation: nn.Module, with_residual: bool,
                                                        layout: torch.memory_format) -> None:
    """The oneDNN kernel (fp32, no autograd) computes activation(conv(x) + residual) like the two modules do."""
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 4, 3, padding=1, dilation=1).to(memory_format=layout)
    x = torch.randn(2, 6, 17, 23).contiguous(memory_format=layout)
    residual = torch.randn(2, 4, 17, 23).contiguous(memory_format=layout) if with_residual else None
    expected = activation(conv(x) + residual if residual is not None else conv(x))
    fused = ConvActivation(conv, activation)
    with torch.inference_mode():
        got = fused(x, residual)
    torch.testing.assert_close(got, expected.detach(), rtol=0, atol=1e-6)
    assert got.is_contiguous(memory_format=layout)


def test_conv_activation_trains_through_the_separate_ops() -> None:
    """With autograd (the fused kernel has no backward) the gradient is the plain modules' gradient."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 9, 11, requires_grad=True)
    ConvActivation(conv, nn.ReLU())(x).sum().backward()
    expected = torch.autograd.grad(torch.relu(conv(x)).sum(), x)[0]
    torch.testing.assert_close(x.grad, expected)


def test_conv_activation_refuses_what_the_kernel_cannot_fuse() -> None:
    with pytest.raises(ValueError, match="cannot fuse"):
        ConvActivation(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), nn.ReLU())
    with pytest.raises(ValueError, match="cannot fuse"):
        ConvActivation(nn.Conv2d(3, 4, 3, padding=1), nn.GELU())
