"""Task losses for joint TSJNet training: frozen task networks judge the fused image.

The task networks' parameters are frozen (`freeze`), yet the losses stay differentiable with respect
to the input images, which is how detection and segmentation drive the fusion network.

torchvision detectors only return losses in train mode. `detection_loss` therefore switches the
detector to train mode for the call, but keeps BatchNorm in eval (no batch statistics, no running
stat updates: our detectors are trained from scratch, so they use plain BatchNorm, not
FrozenBatchNorm) and dropout off, and restores every module's mode afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torchvision.models.detection import FasterRCNN

from tsjnet.data.types import IGNORE_INDEX, NUM_SEG_CLASSES
from tsjnet.errors import DataError
from tsjnet.tasks.inputs import as_rgb

BOX_TERMS = ("loss_box_reg", "loss_rpn_box_reg")


def freeze(model: nn.Module) -> nn.Module:
    """Stop `model` from learning: no parameter gradients, eval mode."""
    model.requires_grad_(False)
    return model.eval()


def _require_frozen(model: nn.Module) -> None:
    if any(parameter.requires_grad for parameter in model.parameters()):
        raise ValueError("task losses need a frozen network: call tsjnet.tasks.losses.freeze(model) first")


@contextmanager
def frozen_mode(model: nn.Module, train: bool) -> Iterator[nn.Module]:
    """`model.train(train)` but BatchNorm and dropout always in eval; every module's mode restored after.

    `train=True` is what torchvision detectors need to return losses.
    """
    modes = {module: module.training for module in model.modules()}
    model.train(train)
    for module in model.modules():
        if isinstance(module, (_BatchNorm, nn.Dropout)):
            module.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.train(training)


def detection_loss(
    detector: FasterRCNN,
    images: torch.Tensor,
    targets: Sequence[dict[str, torch.Tensor]],
    terms: Sequence[str] = BOX_TERMS,
    include_objectness: bool = False,
) -> torch.Tensor:
    """Sum of the frozen detector's chosen loss terms on (B, 1|3, H, W) images in [0, 1].

    `targets` are torchvision targets (`tsjnet.tasks.detector.sample_target`). The default terms are
    the box-regression losses of the RPN and the box head; `include_objectness` adds the RPN's.
    """
    _require_frozen(detector)
    wanted = list(terms) + (["loss_objectness"] if include_objectness else [])
    with frozen_mode(detector, train=True):
        losses = detector(list(as_rgb(images)), list(targets))
    unknown = sorted(set(wanted) - set(losses))
    if unknown or not wanted:
        raise ValueError(f"detection loss terms {unknown or wanted} invalid; choose from {sorted(losses)}")
    return torch.stack([losses[name] for name in wanted]).sum()


def check_mask(mask: torch.Tensor, num_classes: int) -> None:
    """Masks are integer class ids (or IGNORE_INDEX); a float mask means it was scaled like an image."""
    if mask.dtype.is_floating_point:
        raise DataError(f"segmentation masks must hold integer class ids, got {mask.dtype}: do not scale masks by 1/255")
    valid = (mask < num_classes) | (mask == IGNORE_INDEX)
    if not bool(valid.all()):
        raise DataError(f"segmentation mask values must be 0..{num_classes - 1} or {IGNORE_INDEX}, got {mask.unique().tolist()}")


def segmentation_loss(segmenter: nn.Module, fused_rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (ignoring IGNORE_INDEX) of the frozen segmenter on (B, 1|3, H, W) images vs (B, H, W) ids."""
    _require_frozen(segmenter)
    check_mask(mask, NUM_SEG_CLASSES)
    with frozen_mode(segmenter, train=False):
        logits = segmenter(fused_rgb)
    return F.cross_entropy(logits, mask.long(), ignore_index=IGNORE_INDEX)
