"""Task-driven evaluation: the frozen detector and segmenter judge IR, VIS and every method's fused images.

Ground truth is the same for every input, so the rows of the task table are comparable:

* detection: the union of the IR and VIS boxes, duplicates merged (same class, IoU >= 0.5): the objects present in
  the scene, whichever sensor shows them. Not the `fusion` label set, which real datasets (MSRS) draw on one
  particular fused image. Scored as mAP@0.5 and mAP@[.5:.95]. IR images go through the IR detector, VIS images
  through the VIS detector, a method's fused images through the detector its `TaskInput` names: the shared
  `detector.fusion_detector`, or that method's own judge (`tsjnet.evaluation.judges`). A single modality is thus
  penalised for the objects it cannot show, which is exactly the information fusion is supposed to add.
  A source may also be scored under another detector (`cross_judged` rows, e.g. IR under the fused images'
  judge): comparing fused and source images under ONE detector separates what fusion loses from what the judge
  itself lacks on that kind of image.
* segmentation: the masks, one segmenter for all inputs (IR replicated to gray RGB), mIoU with background
  (the headline) and without, per-class IoU, and the confusion matrix.

Images are fed exactly as in pretraining (`tsjnet.tasks.inputs`); boxes are clipped like training targets.

`with_intervals` adds a 95% bootstrap interval over images to every score: mAP and mIoU are dataset-level
(pooled matches, a pooled confusion matrix), so each draw recomputes them on a resample of the images. All
inputs use the same draws, so `TaskScores.resampled` of two inputs gives the paired interval of their
difference. It is a separate step (about half a second per input for 16 images) so that training, which
scores its val split with `evaluate_inputs` too, does not pay for intervals it does not report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from rich.progress import track
from torch import nn

from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.data.paired import PairDataset
from tsjnet.data.types import Sample
from tsjnet.errors import DataError
from tsjnet.data.boxes import SAME_OBJECT_IOU, merge_boxes
from tsjnet.metrics.bootstrap import Resampled, resample
from tsjnet.metrics.task import DetectionMAP, SegmentationIoU
from tsjnet.tasks.detector import boxes_to_target, load_detectors, target_rows
from tsjnet.tasks.inputs import sample_image
from tsjnet.tasks.segmenter import load_segmenter

SOURCES = ("infrared", "visible")
#: The one detection truth for every input, as the report names it.
TRUTH_NAME = (f"union of the {' and '.join(SOURCES)} boxes, duplicates merged (same class, IoU >= {SAME_OBJECT_IOU})")
#: Joins a source and a detector in the name of a cross-judged row (MLflow metric names allow no '@').
JUDGED_BY = "_judged_by_"
#: Bootstrap draws of the images per input; each recomputes mAP and mIoU (under a millisecond for 16 images).
TASK_RESAMPLES = 1000


@dataclass(frozen=True)
class TaskInput:
    """One row of the task table: how to get its image from a sample, and which detector judges it."""

    name: str
    detector: str  # key of `TaskNets.detectors`: infrared, visible, fusion, or a method's judge
    image: Callable[[Sample], torch.Tensor]  # (3, H, W) float in [0, 1]


def source_input(modality: str, detector: str | None = None) -> TaskInput:
    """The raw IR or VIS image, judged by that modality's own detector, or by `detector` in a row of its own
    (`cross_judged`): the same image under a fused image's judge."""
    judge = detector or modality
    name = modality if judge == modality else cross_judged(modality, judge)
    return TaskInput(name, judge, lambda sample: sample_image(sample, modality))


def cross_judged(modality: str, detector: str) -> str:
    """The row name of `modality`'s raw images judged by `detector` (not its own modality's detector)."""
    return f"{modality}{JUDGED_BY}{detector}"


def split_cross_judged(name: str) -> tuple[str, str] | None:
    """(modality, detector) of a `cross_judged` row name; None for any other row."""
    modality, found, detector = name.partition(JUDGED_BY)
    return (modality, detector) if found and modality in SOURCES else None


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
    """Scores of one input: the JSON-ready metrics, the segmentation confusion matrix (for plots), the metric
    state that can rescore any resample of the images, and (after `with_intervals`) the scores on every
    bootstrap draw (for paired comparisons between inputs)."""

    metrics: dict[str, object]
    confusion: np.ndarray
    detection: DetectionMAP | None
    segmentation: SegmentationIoU
    resampled: Resampled | None = None


def truth_target(sample: Sample, record_path: Path) -> dict[str, torch.Tensor]:
    """The TRUTH_NAME boxes of a sample as a torchvision target, clipped like training targets; missing labels
    name the fix."""
    for modality in SOURCES:
        if modality not in sample.boxes:
            raise DataError(f"{record_path}: pair {sample.name!r} has no detection_labels/{modality}/ boxes; "
                            f"task-driven evaluation scores every input against the {TRUTH_NAME}: run the "
                            "pseudolabel stage (dvc repro pseudolabel)")
    return boxes_to_target(merge_boxes([sample.boxes[modality] for modality in SOURCES]), sample.ir.shape[:2])


def truth(sample: Sample, record_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(TRUTH_NAME boxes as ``[cls, x1, y1, x2, y2]`` rows, mask) of a sample; missing labels name the fix."""
    boxes = target_rows(truth_target(sample, record_path))
    if sample.mask is None:
        raise DataError(f"{record_path}: pair {sample.name!r} has no Segmentation_labels mask; run the pseudolabel "
                        "stage (dvc repro pseudolabel) so every evaluated pair has one")
    return boxes, sample.mask


def _named(detection: Mapping[str, object] | None, segmentation: Mapping[str, object]) -> dict[str, object]:
    """Our names for a DetectionMAP / SegmentationIoU result (of all images or of one bootstrap draw)."""
    named = {} if detection is None else {"map50": detection["mAP50"], "map": detection["mAP50_95"],
                                          "AP50": detection["AP50"]}
    return named | {"miou": segmentation["mIoU"], "miou_no_bg": segmentation["mIoU_no_bg"],
                    "IoU": segmentation["IoU"]}


def _flat(scores: Mapping[str, object]) -> dict[str, float]:
    """Scalars as they are, per-class groups as ``group/class``: the statistics one bootstrap draw yields."""
    flat: dict[str, float] = {}
    for key, value in scores.items():
        flat |= ({f"{key}/{name}": v for name, v in value.items()} if isinstance(value, Mapping) else {key: value})
    return flat


def _with_intervals(scores: Mapping[str, object], resampled: Resampled) -> dict[str, object]:
    """`scores` with each interval right after its value: ``<key>_ci_low``/``_ci_high`` numbers for a score,
    ``<group>_ci_low``/``_ci_high`` dicts for a per-class group (new keys, so readers of the values keep working)."""
    out: dict[str, object] = {}
    for key, value in scores.items():
        if not isinstance(value, Mapping):
            out |= resampled.interval(key).fields(key)
            continue
        intervals = {name: resampled.interval(f"{key}/{name}") for name in value}
        out |= {key: value, f"{key}_ci_low": {name: interval.low for name, interval in intervals.items()},
                f"{key}_ci_high": {name: interval.high for name, interval in intervals.items()}}
    return out


def _scores(detector_key: str | None, det: DetectionMAP | None, seg: SegmentationIoU) -> TaskScores:
    segmentation = seg.compute()
    metrics = {"detector": detector_key} | _named(det.compute() if det is not None else None, segmentation)
    return TaskScores(metrics, np.asarray(segmentation["confusion_matrix"], dtype=np.int64), det, seg)


def with_intervals(scores: TaskScores, n_resamples: int = TASK_RESAMPLES) -> TaskScores:
    """`scores` with the interval fields in its metrics and its bootstrap draws in `resampled`: the reference
    (torchmetrics) scores, with percentile intervals of the same scores recomputed on each draw (`compute_on`)."""
    det, seg = scores.detection, scores.segmentation

    def on_images(images: np.ndarray) -> dict[str, float]:
        return _flat(_named(det.compute_on(images) if det is not None else None, seg.compute_on(images)))

    reference = _named(det.compute() if det is not None else None, seg.compute_on())
    resampled = resample(on_images, len(seg.matrices), n_resamples).with_values(_flat(reference))
    metrics = {"detector": scores.metrics["detector"]} | _with_intervals(reference, resampled)
    return replace(scores, metrics=metrics, resampled=resampled)


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
