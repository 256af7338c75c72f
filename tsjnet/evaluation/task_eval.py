"""Task-driven evaluation: the frozen detector and segmenter judge IR, VIS and every method's fused images.

Ground truth is the same for every input, so the rows of the task table are comparable:

* detection: the FUSION-modality boxes (every object visible in either modality), scored as mAP@0.5 and
  mAP@[.5:.95]. IR images go through the IR detector, VIS images through the VIS detector, fused images
  through `detector.fusion_detector`'s. A single modality is thus penalised for the objects it cannot show,
  which is exactly the information fusion is supposed to add.
* segmentation: the masks, one segmenter for all inputs (IR replicated to gray RGB), mIoU with background
  (the headline) and without, per-class IoU, and the confusion matrix.

Images are fed exactly as in pretraining (`tsjnet.tasks.inputs`); boxes are clipped like training targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import track
from torch import nn

from tsjnet.colour import to_tensor
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.data.io import read_vi
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import Sample
from tsjnet.errors import DataError
from tsjnet.evaluation.fuse_split import fused_path
from tsjnet.metrics.task import DetectionMAP, SegmentationIoU
from tsjnet.tasks.detector import boxes_to_target, load_detectors, target_rows
from tsjnet.tasks.inputs import as_rgb, sample_image
from tsjnet.tasks.segmenter import load_segmenter

TRUTH_BOXES = "fusion"  # the one detection truth for every input
SOURCES = ("infrared", "visible")


@dataclass(frozen=True)
class TaskInput:
    """One row of the task table: how to get its image from a sample, and which detector judges it."""

    name: str
    detector: str  # key of `load_detectors`: infrared, visible or fusion
    image: Callable[[Sample], torch.Tensor]  # (3, H, W) float in [0, 1]


def source_input(modality: str) -> TaskInput:
    """The raw IR or VIS image, judged by that modality's own detector."""
    return TaskInput(modality, modality, lambda sample: sample_image(sample, modality))


def fused_input(name: str, folder: str | Path) -> TaskInput:
    """A method's fused PNGs from `folder`, judged by the fusion detector."""
    return TaskInput(name, "fusion", lambda sample: as_rgb(to_tensor(read_vi(fused_path(folder, sample.name)))))


@dataclass
class TaskNets:
    """The frozen task networks, in eval mode on one device (detectors keyed like `load_detectors`)."""

    detectors: dict[str, nn.Module]
    segmenter: nn.Module


def load_task_nets(detector: DetectorParams, segmenter: SegmenterParams, device: torch.device) -> TaskNets:
    """Load the pretrained detectors and segmenter named in params; missing files name the stage to run."""
    detectors = {key: model.to(device) for key, model in load_detectors(detector).items()}
    return TaskNets(detectors, load_segmenter(segmenter.checkpoint).to(device))


@dataclass
class TaskScores:
    """Scores of one input: the JSON-ready metrics and the segmentation confusion matrix (for plots)."""

    metrics: dict[str, object]
    confusion: np.ndarray


def truth(sample: Sample, record_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(fusion boxes as ``[cls, x1, y1, x2, y2]`` rows, mask) of a sample; missing labels name the fix."""
    if TRUTH_BOXES not in sample.boxes:
        raise DataError(f"{record_path}: pair {sample.name!r} has no detection_labels/{TRUTH_BOXES}/ boxes; "
                        "task-driven evaluation scores every input against them: run the pseudolabel stage "
                        "(dvc repro pseudolabel)")
    if sample.mask is None:
        raise DataError(f"{record_path}: pair {sample.name!r} has no Segmentation_labels mask; run the pseudolabel "
                        "stage (dvc repro pseudolabel) so every evaluated pair has one")
    return target_rows(boxes_to_target(sample.boxes[TRUTH_BOXES], sample.ir.shape[:2])), sample.mask


def _scores(detector_key: str | None, det: DetectionMAP | None, seg: SegmentationIoU) -> TaskScores:
    metrics: dict[str, object] = {"detector": detector_key}
    if det is not None:
        result = det.compute()
        metrics |= {"map50": result["mAP50"], "map": result["mAP50_95"], "AP50": result["AP50"]}
    result = seg.compute()
    metrics |= {"miou": result["mIoU"], "miou_no_bg": result["mIoU_no_bg"], "IoU": result["IoU"]}
    return TaskScores(metrics, np.asarray(result["confusion_matrix"], dtype=np.int64))


@torch.inference_mode()
def evaluate_inputs(inputs: Sequence[TaskInput], dataset: PairDataset, nets: TaskNets,
                    device: torch.device) -> dict[str, TaskScores]:
    """Scores per input over every pair of `dataset` (each pair is decoded once for all inputs).

    An input whose detector was not trained (not in detector.modalities) gets segmentation scores only.
    """
    detection = {i.name: DetectionMAP() for i in inputs if i.detector in nets.detectors}
    segmentation = {i.name: SegmentationIoU() for i in inputs}
    for record in track(dataset.records, description="task evaluation", transient=True):
        sample = dataset.load(record)
        boxes, mask = truth(sample, record.ir_path)
        for task_input in inputs:
            image = task_input.image(sample).to(device)
            if task_input.name in detection:
                prediction = nets.detectors[task_input.detector]([image])[0]
                detection[task_input.name].update(target_rows(prediction), boxes)
            labels = nets.segmenter(image[None]).argmax(1)[0].cpu()
            segmentation[task_input.name].update(labels, mask)
    return {i.name: _scores(i.detector if i.name in detection else None, detection.get(i.name), segmentation[i.name])
            for i in inputs}
