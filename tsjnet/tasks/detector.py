"""Faster R-CNN detectors (one per modality) and the conversion of our boxes to torchvision targets.

Built with ``weights=None`` and ``weights_backbone=None``: nothing downloads and every layer, box
head included, is trained by `tsjnet.training.pretrain` (the reference implementation attached fresh,
never-trained box heads). Without pretrained backbone weights torchvision uses plain BatchNorm, so
BatchNorm must be in eval mode whenever the frozen detector is used (see `tsjnet.tasks.losses`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import mobilenet_backbone, resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead

from tsjnet.config.tasks import DetectorParams
from tsjnet.data.types import DET_CLASSES, Sample
from tsjnet.errors import DataError
from tsjnet.tasks.inputs import BOX_LABELS
from tsjnet.tasks.nms import TopKRegionProposalNetwork, rebuild_rpn
from tsjnet.tasks.roi_align import MatmulMultiScaleRoIAlign
from tsjnet.checkpoints import load_checkpoint

# Label 0 is Faster R-CNN's background; our detection ids 0..2 become labels 1..3.
NUM_DET_LABELS = len(DET_CLASSES) + 1
MIN_BOX_SIDE = 1.0  # pixels; torchvision rejects boxes with zero width or height
MOBILENET_ANCHORS = (32, 64, 128, 256, 512)  # torchvision's mobilenet detector, on every level


def _backbone(arch: str) -> nn.Module:
    """The architecture's FPN backbone, untrained, with trainable BatchNorm (torchvision's default when
    no weights are loaded; its backbone helpers would otherwise freeze an identity BatchNorm)."""
    if arch == "fasterrcnn_resnet50_fpn":
        return resnet_fpn_backbone(backbone_name="resnet50", weights=None, norm_layer=nn.BatchNorm2d, trainable_layers=5)
    # Stride-8, -16 and -32 stages (torchvision's mobilenet detector drops stride 8, too coarse for small objects).
    return mobilenet_backbone(backbone_name="mobilenet_v3_large", weights=None, fpn=True, norm_layer=nn.BatchNorm2d,
                              trainable_layers=6, returned_layers=[2, 3, 5])


def build_detector(params: DetectorParams, image_size: tuple[int, int]) -> FasterRCNN:
    """A randomly initialised Faster R-CNN for (height, width) images, kept at their own size.

    Same network as torchvision's `params.arch` builder with ``weights=None, weights_backbone=None``,
    except for knobs the CPU profile turns down: anchors (`params.anchor_sizes`, on every FPN level) and
    the mobilenet's stride-8 level for the small objects of road scenes, and the box head's width
    (`params.box_head_dim`; torchvision: 1024), whose matrix products dominate a CPU training step.
    The box head pools with torchvision's default RoIAlign (4 levels, 7x7, 2 samples per bin axis), computed
    on the CPU by `MatmulMultiScaleRoIAlign` (same numbers, several times faster backward), and the RPN's NMS
    stops at the proposals it keeps (`TopKRegionProposalNetwork`: same proposals, a tenth of the time).
    """
    height, width = image_size
    backbone = _backbone(params.arch)
    anchors = None  # FasterRCNN's default: one size per level, as torchvision's resnet50 detector
    if params.anchor_sizes or params.arch == "fasterrcnn_mobilenet_v3_large_fpn":
        levels = len(backbone.body.return_layers) + 1  # + the max-pool level FPN adds
        sizes = tuple(params.anchor_sizes or MOBILENET_ANCHORS)
        anchors = AnchorGenerator((sizes,) * levels, ((0.5, 1.0, 2.0),) * levels)
    resolution = 7  # torchvision's RoIAlign output size
    detector = FasterRCNN(
        backbone,
        rpn_anchor_generator=anchors,
        box_roi_pool=MatmulMultiScaleRoIAlign(["0", "1", "2", "3"], resolution, sampling_ratio=2),
        box_head=TwoMLPHead(backbone.out_channels * resolution**2, params.box_head_dim),
        box_predictor=FastRCNNPredictor(params.box_head_dim, NUM_DET_LABELS),
        min_size=params.min_size or min(height, width),
        max_size=params.max_size or max(height, width),
        rpn_batch_size_per_image=params.rpn_batch_size_per_image,
        box_batch_size_per_image=params.box_batch_size_per_image,
        rpn_post_nms_top_n_train=params.rpn_post_nms_top_n_train,
        rpn_post_nms_top_n_test=params.rpn_post_nms_top_n_test,
        box_score_thresh=params.score_threshold,
    )
    detector.rpn = rebuild_rpn(detector.rpn, TopKRegionProposalNetwork)
    return detector


def boxes_to_target(boxes: np.ndarray, image_size: tuple[int, int]) -> dict[str, torch.Tensor]:
    """(N, 5) ``[det_class, x1, y1, x2, y2]`` pixels -> torchvision's ``{"boxes", "labels"}``.

    Boxes are clipped to the image; boxes thinner than a pixel after clipping carry no learnable
    signal and would make torchvision raise, so they are dropped.
    """
    height, width = image_size
    array = np.asarray(boxes, dtype=np.float32).reshape(-1, 5)
    classes = array[:, 0]
    if len(classes) and (classes.min() < 0 or classes.max() >= len(DET_CLASSES) or np.any(classes % 1)):
        raise DataError(f"detection class ids must be integers 0..{len(DET_CLASSES) - 1}, got {np.unique(classes)}")
    xyxy = array[:, 1:].copy()
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    keep = ((xyxy[:, 2] - xyxy[:, 0]) >= MIN_BOX_SIDE) & ((xyxy[:, 3] - xyxy[:, 1]) >= MIN_BOX_SIDE)
    return {
        "boxes": torch.from_numpy(xyxy[keep]).reshape(-1, 4),
        "labels": torch.from_numpy(classes[keep].astype(np.int64) + 1),
    }


def sample_target(sample: Sample, modality: str) -> dict[str, torch.Tensor]:
    """The target for one sample's `modality` image: that modality's own boxes (blends: the fusion boxes)."""
    labels = BOX_LABELS[modality]
    if labels not in sample.boxes:
        raise DataError(
            f"sample {sample.name!r} ({sample.split}) has no {labels!r} boxes: the detector for {modality} is "
            f"trained on detection_labels/{labels}/; add that label file or drop {modality!r} from detector.modalities"
        )
    return boxes_to_target(sample.boxes[labels], sample.ir.shape[:2])


def target_rows(target: dict[str, torch.Tensor]) -> np.ndarray:
    """A torchvision target or prediction -> our rows ``[det_class, x1, y1, x2, y2(, score)]`` (labels - 1)."""
    columns = [target["labels"].float().sub(1).unsqueeze(1), target["boxes"].float()]
    if "scores" in target:
        columns.append(target["scores"].float().unsqueeze(1))
    return torch.cat(columns, dim=1).detach().cpu().numpy()


def load_detector(path: str | Path) -> FasterRCNN:
    """Rebuild a pretrained detector from its checkpoint (config and image size are stored in it)."""
    state = load_checkpoint(path, required=("model", "config", "image_size"))
    model = build_detector(DetectorParams.from_checkpoint(state["config"]), tuple(state["image_size"]))
    model.load_state_dict(state["model"])
    return model.eval()


def load_detectors(params: DetectorParams) -> dict[str, nn.Module]:
    """Detectors for every modality; fused images use `params.fusion_detector`'s (same object)."""
    detectors = {modality: load_detector(detector_checkpoint(params, modality)) for modality in params.modalities}
    detectors["fusion"] = detectors[params.fusion_detector]
    return detectors


def detector_checkpoint(params: DetectorParams, modality: str) -> Path:
    """Where the detector for `modality` is saved."""
    return Path(params.checkpoint_dir) / f"{modality}.pt"
