"""Inference-time rewrites that keep a trained network's maths and cut its memory passes on CPU.

A narrow full-resolution network such as ``tsjnet_lite`` spends as much time streaming activations through
memory as multiplying: each batch norm, and each step of a split-attention unit's weighted radix sum, is a
full pass over a full-size map. For a network in eval mode (frozen statistics) these are linear maps that fold
into the convolution next to them:

* every ``Conv2d`` followed by a ``BatchNorm2d`` inside an ``nn.Sequential`` becomes one conv
  (torch's ``fuse_conv_bn_eval``);
* every timm ``ResNestBottleneck`` becomes a `FoldedResNestBottleneck`: its four batch norms folded, and the
  radix-weighted sum ``conv3(sum_r a_r * y_r)`` written as ``[conv3, ..., conv3](a * y)``, one in-place scale
  and one conv instead of a reshape, a product and a reduction over a strided view;
* every ``Conv2d`` followed by an activation inside an ``nn.Sequential`` (and each conv of a folded bottleneck,
  with its residual sum) becomes a `ConvActivation`: on the CPU without autograd one oneDNN call applies the
  activation (and the sum) to each output tile while it is still in cache, instead of another full-size pass.

Outputs match the unfolded network to float rounding (tests check every registered fusion model); the weights
are the same numbers, regrouped. The result is for inference only: its state dict no longer matches the
checkpoint layout, so checkpoints are always written from the training-time modules.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.models.resnest import ResNestBottleneck
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def _post_op(activation: nn.Module) -> tuple[str, list[float]] | None:
    """oneDNN's name and scalars for `activation` as a convolution post-op; None where it has none."""
    if type(activation) is nn.ReLU:
        return "relu", []
    if type(activation) is nn.ReLU6:
        return "hardtanh", [0.0, 6.0]
    if type(activation) is nn.LeakyReLU:
        return "leaky_relu", [activation.negative_slope]
    if type(activation) is nn.Sigmoid:
        return "sigmoid", []
    return None


def _fusable(conv: nn.Module, activation: nn.Module) -> bool:
    """Whether `conv` then `activation` maps onto oneDNN's conv + post-op kernel."""
    return (type(conv) is nn.Conv2d and _post_op(activation) is not None and isinstance(conv.padding, tuple)
            and conv.padding_mode == "zeros")


class ConvActivation(nn.Module):
    """``activation(conv(x) + residual)`` (residual optional), as one oneDNN call where that kernel applies.

    The fused call (torch's ``mkldnn._convolution_pointwise``, what inductor emits for conv + pointwise) runs for
    fp32 CPU tensors without autograd; while a graph is being exported, on other devices and for training the
    conv and the activation run as separate modules, the same maths.
    """

    def __init__(self, conv: nn.Conv2d, activation: nn.Module) -> None:
        super().__init__()
        if not _fusable(conv, activation):
            raise ValueError(f"cannot fuse {conv} with {activation}: needs zero padding given as sizes and a ReLU, "
                             "ReLU6, LeakyReLU or Sigmoid")
        self.conv, self.activation = conv, activation
        self.post_op, self.scalars = _post_op(activation)  # type: ignore[misc]

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:  # noqa: D102
        conv = self.conv
        layout = (conv.weight, conv.bias, list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)
        fused = _fused_kernels_apply(x)
        if fused and residual is None:
            return torch.ops.mkldnn._convolution_pointwise(x, *layout, self.post_op, self.scalars, "")
        if fused and self.post_op == "relu":  # the conv + sum kernel takes no other activation
            return torch.ops.mkldnn._convolution_pointwise.binary(x, residual, *layout, "add", None, "relu", [], "")
        y = conv(x)
        return self.activation(y if residual is None else y.add_(residual))


def _fused_kernels_apply(x: torch.Tensor) -> bool:
    """oneDNN's fused conv kernels: fp32 on the CPU, no autograd (they have no backward), not inside an export."""
    return (x.device.type == "cpu" and x.dtype == torch.float32 and not torch.is_grad_enabled()
            and torch.backends.mkldnn.is_available() and not torch.compiler.is_exporting())


class FoldedResNestBottleneck(nn.Module):
    """A ResNeSt bottleneck in eval mode with its batch norms and radix sum folded (see the module docstring).

    Supports the form TSJNet builds: stride 1 (no avd pooling), cardinality 1, radix >= 2 (radix 1 is a sigmoid
    gate, not a softmax over splits); anything else is refused rather than folded wrongly.
    """

    def __init__(self, block: ResNestBottleneck) -> None:
        super().__init__()
        split = block.conv2
        if (block.avd_first, block.avd_last) != (None, None) or split.rsoftmax.cardinality != 1 or split.radix < 2:
            raise ValueError(f"cannot fold this ResNeSt bottleneck (avd {block.avd_first or block.avd_last}, "
                             f"cardinality {split.rsoftmax.cardinality}, radix {split.radix}); only the stride-1, "
                             "cardinality-1, radix >= 2 form is supported")
        self.radix = split.radix
        self.conv1 = ConvActivation(fuse_conv_bn_eval(block.conv1, block.bn1), nn.ReLU(inplace=True))
        self.conv2 = ConvActivation(fuse_conv_bn_eval(split.conv, split.bn0), nn.ReLU(inplace=True))
        self.fc1 = fuse_conv_bn_eval(split.fc1, split.bn1)
        self.fc2 = split.fc2
        conv3 = fuse_conv_bn_eval(block.conv3, block.bn3)
        # one copy of conv3's weights per radix split: conv3 of the weighted sum = this conv of the weighted splits
        conv3.weight = nn.Parameter(conv3.weight.detach().repeat(1, self.radix, 1, 1))
        self.conv3 = ConvActivation(conv3, nn.ReLU(inplace=True))
        self.shortcut = fuse_conv_bn_eval(*block.downsample) if block.downsample is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        splits = self.conv2(self.conv1(x))  # (B, radix * C, H, W)
        batch, channels = splits.shape[:2]
        pooled = splits.mean((2, 3), keepdim=True).view(batch, self.radix, -1).sum(1)[..., None, None]
        logits = self.fc2(F.relu(self.fc1(pooled), inplace=True))
        weights = logits.view(batch, self.radix, -1).softmax(1).view(batch, channels, 1, 1)  # timm's RadixSoftmax
        return self.conv3(splits.mul_(weights), residual=self.shortcut(x))


def _fold_sequential(sequence: nn.Sequential) -> None:
    """Fold each Conv2d -> BatchNorm2d pair of `sequence` into the conv, then each Conv2d -> activation pair into a
    `ConvActivation`; the folded modules become identities."""
    names = list(sequence._modules)
    for first, second in zip(names, names[1:]):
        conv, norm = sequence._modules[first], sequence._modules[second]
        if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
            sequence._modules[first] = fuse_conv_bn_eval(conv, norm)
            sequence._modules[second] = nn.Identity()
    names = [name for name in sequence._modules if not isinstance(sequence._modules[name], nn.Identity)]
    for first, second in zip(names, names[1:]):
        conv, activation = sequence._modules[first], sequence._modules[second]
        if _fusable(conv, activation):
            sequence._modules[first] = ConvActivation(conv, activation)
            sequence._modules[second] = nn.Identity()


def fold_for_inference(model: nn.Module) -> nn.Module:
    """Fold `model` in place (it must be in eval mode) and return it; see the module docstring."""
    if model.training:
        raise ValueError("fold_for_inference needs a model in eval mode: folding freezes the batch-norm statistics")
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, ResNestBottleneck):
                setattr(module, name, FoldedResNestBottleneck(child))
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            _fold_sequential(module)
    return model
