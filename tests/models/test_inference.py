"""Folding for inference keeps every fusion network's outputs and removes its batch norms and radix sums."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from timm.models.resnest import ResNestBottleneck
from torch import nn

from tsjnet.models.inference import FoldedResNestBottleneck, fold_for_inference
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import build_fusion_model, read_checkpoint

SHIPPED = Path(__file__).parents[2] / "models/pretrained/tsjnet_lite_msrs.pt"

MODELS = [("tsjnet_tiny", {}), ("tsjnet_tiny", {"use_dsm": False}), ("tsjnet_lite", {}),
          ("seafusion", {"channels": (4, 4, 4)}), ("seafusion_release", {})]


def trained_looking(model: nn.Module) -> nn.Module:
    """Random batch-norm statistics and affine terms, so a wrong fold cannot hide behind the identity init."""
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
    assert FoldedResNestBottleneck in kinds
    assert fold_for_inference(folded) is folded  # folding twice changes nothing


def test_training_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a model in eval mode"):
        fold_for_inference(create_model("tsjnet_tiny").train())


def test_unsupported_bottleneck_is_refused_not_folded_wrongly() -> None:
    block = ResNestBottleneck(16, 4, radix=1).eval()  # radix 1 gates with a sigmoid, not a softmax over splits
    with pytest.raises(ValueError, match="radix 1"):
        FoldedResNestBottleneck(block)
