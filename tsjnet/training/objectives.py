"""The terms of L_all = L_fusion + w_det L_Det + w_seg L_Seg for one batch.

- L_fusion is the model's own loss: TSJNet's L_MFF (fused image, attention maps, both reconstructions), or
  SeAFusion's content loss.
- L_Det sums the box-regression losses of the FROZEN pretrained detectors on three images: the IR detector
  on the IR reconstruction, the VIS detector on the VIS reconstruction (each with its modality's boxes), and
  ``fusion_detector`` on the fused image (fusion boxes). As in the paper, the IR and VIS terms are taken on
  the reconstructions: on the raw sources they would be constants without any gradient for the fusion
  network, whereas on the reconstructions they make the shared encoder/decoder keep what the detectors need.
  SeAFusion has no reconstructions, so only its fused term exists.
- L_Seg is the cross-entropy of the FROZEN segmenter on the fused image.
- Every judge sees its image as it was trained and as evaluation shows it: the fused image and the VIS
  reconstruction rendered in colour with the VIS chroma (`tsjnet.colour.fuse_colour`, as evaluation and
  serving show fused images; `seg_render: gray` renders the fused image as gray RGB instead, for both task
  losses), the IR reconstruction as gray RGB like the IR images.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torchvision.models.detection import FasterRCNN

from tsjnet.colour import fuse_colour
from tsjnet.config.loss import LossParams
from tsjnet.losses import mff_loss, seafusion_loss
from tsjnet.models.tsjnet import TSJNet
from tsjnet.tasks.detector import boxes_to_target
from tsjnet.tasks.inputs import as_rgb
from tsjnet.tasks.losses import detection_loss, segmentation_loss

#: Which boxes each detector term is judged against (the detection label folder of that modality).
DET_IMAGES = ("infrared", "visible", "fusion")


class FusionPass(nn.Module):
    """(ir, vi) -> (fused, fusion-loss terms incl. "total", reconstructions by modality).

    One module around the fusion network so DistributedDataParallel wraps a single forward that produces
    everything the gradients flow from. With a frozen `anchor` network (the start model of a fine-tuning run) the
    fusion loss gains ``anchor_weight`` times the term ``anchor``: the mean |fused - anchor's fused|.
    """

    def __init__(self, model: nn.Module, loss: LossParams, anchor: nn.Module | None = None,
                 anchor_weight: float = 0.0) -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.anchor = anchor.requires_grad_(False).eval() if anchor is not None else None
        self.anchor_weight = anchor_weight

    def train(self, mode: bool = True) -> "FusionPass":
        """The anchor stays in eval mode: its output is the start model's, BatchNorm statistics included."""
        super().train(mode)
        if self.anchor is not None:
            self.anchor.eval()
        return self

    def forward(self, ir: torch.Tensor, vi: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        if isinstance(self.model, TSJNet):
            fused, ir_rec, vi_rec = self.model.fuse_and_reconstruct(ir, vi)
            terms = mff_loss(self.loss.tsjnet, ir=ir, vi=vi, fused=fused.fused, attention=fused.attn,
                             ir_recon=ir_rec.fused, vi_recon=vi_rec.fused)
            fused_image, recon = fused.fused, {"infrared": ir_rec.fused, "visible": vi_rec.fused}
        else:
            fused_image, recon = self.model.fuse(ir, vi), {}
            terms = seafusion_loss(self.loss.seafusion, ir, vi, fused_image)
        if self.anchor is not None:
            with torch.no_grad():
                start = self.anchor.fuse(ir, vi)
            terms["anchor"] = (fused_image.float() - start.float()).abs().mean()
            terms["total"] = terms["total"] + self.anchor_weight * terms["anchor"]
        return fused_image, terms, recon


@contextmanager
def native_size(detector: FasterRCNN, size: tuple[int, int]) -> Iterator[FasterRCNN]:
    """Run the detector at the images' own size: its transform would rescale training crops to the
    pretraining image size, so objects would look bigger than the detector learned them."""
    transform = detector.transform
    saved = transform.min_size, transform.max_size
    transform.min_size, transform.max_size = (min(size),), max(size)
    try:
        yield detector
    finally:
        transform.min_size, transform.max_size = saved


@dataclass
class TaskJudges:
    """The frozen task networks and how they judge a batch."""

    detectors: dict[str, FasterRCNN]  # infrared, visible, fusion (tsjnet.tasks.detector.load_detectors)
    segmenter: nn.Module
    det_terms: tuple[str, ...]
    include_objectness: bool
    seg_render: str  # "colour" | "gray"

    def detection(self, fused: torch.Tensor, recon: dict[str, torch.Tensor], boxes: dict[str, list[torch.Tensor]],
                  vi_rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """One L_Det term per judged image: ``det_<modality>`` (reconstructions) and ``det_fusion``, each image
        rendered as its detector saw such images in pretraining (gray IR, colour VIS and fused)."""
        colour = {"visible": lambda y: fuse_colour(y.float(), vi_rgb), "fusion": lambda y: self.render(y.float(), vi_rgb)}
        images = {modality: colour.get(modality, as_rgb)(image) for modality, image in {**recon, "fusion": fused}.items()}
        size = tuple(fused.shape[-2:])
        terms = {}
        for modality, image in images.items():
            targets = [{k: v.to(fused.device) for k, v in boxes_to_target(b.numpy(), size).items()}
                       for b in boxes[modality]]
            with native_size(self.detectors[modality], size) as detector:
                terms[f"det_{modality}"] = detection_loss(detector, image.float(), targets, self.det_terms,
                                                          self.include_objectness)
        return terms

    def render(self, fused: torch.Tensor, vi_rgb: torch.Tensor) -> torch.Tensor:
        """The fused luminance as the 3-channel image the segmenter sees."""
        return fuse_colour(fused, vi_rgb) if self.seg_render == "colour" else as_rgb(fused)

    def segmentation(self, fused: torch.Tensor, vi_rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """L_Seg of the frozen segmenter on the rendered fused image."""
        return segmentation_loss(self.segmenter, self.render(fused.float(), vi_rgb), mask)
