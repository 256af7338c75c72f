"""DeepLabV3+ segmenter with its input normalisation inside, so no caller can forget it.

The reference implementation fed DeepLab raw [0, 1] images; here `Segmenter` takes [0, 1] images
with 1 or 3 channels (`tsjnet.tasks.inputs.as_rgb`), applies ImageNet mean/std, pads to the
encoder's output stride and crops the logits back, so any image size works.

BatchNorm after ASPP's global pooling cannot train on a batch of one (a 1x1 map holds one value per
channel): training uses batches of at least two and drops the last incomplete batch; the frozen
segmenter used by the task loss is in eval mode, where batch size one is fine.
"""

from __future__ import annotations

from pathlib import Path

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn

from tsjnet.config.tasks import SegmenterParams
from tsjnet.data.types import NUM_SEG_CLASSES
from tsjnet.tasks.inputs import as_rgb
from tsjnet.checkpoints import load_checkpoint

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Segmenter(nn.Module):
    """[0, 1] images (B, 1|3, H, W) -> class logits (B, NUM_SEG_CLASSES, H, W)."""

    def __init__(self, encoder: str, num_classes: int = NUM_SEG_CLASSES) -> None:
        super().__init__()
        self.net = smp.DeepLabV3Plus(encoder_name=encoder, encoder_weights=None, in_channels=3, classes=num_classes)
        # Channels-last (same maths): oneDNN runs the convolutions without reordering, ~10% faster training on CPU.
        self.net.to(memory_format=torch.channels_last)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        stride = self.net.encoder.output_stride
        normalised = (as_rgb(images) - self.mean) / self.std
        padded = F.pad(normalised, (0, -width % stride, 0, -height % stride), mode="replicate")
        return self.net(padded.contiguous(memory_format=torch.channels_last))[..., :height, :width]


def build_segmenter(params: SegmenterParams) -> Segmenter:
    """A randomly initialised segmenter (encoder_weights=None: nothing downloads)."""
    return Segmenter(params.encoder)


def load_segmenter(path: str | Path) -> Segmenter:
    """Rebuild a pretrained segmenter from its checkpoint."""
    state = load_checkpoint(path)
    model = build_segmenter(SegmenterParams.from_checkpoint(state["config"]))
    model.load_state_dict(state["model"])
    return model.eval()
