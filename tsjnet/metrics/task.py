"""Task metrics that judge fused images through the downstream networks: detection mAP and segmentation mIoU.

Detection: COCO-style average precision from torchmetrics' ``MeanAveragePrecision`` (pycocotools backend,
101-point interpolation, up to 100 detections per image). ``mAP50`` is AP at IoU 0.5, ``mAP50_95`` the mean
over IoU 0.50:0.05:0.95; both are means over the classes present in the ground truth. A class with no
ground-truth box is not scored and reported as NaN (COCO's -1).

Segmentation: a confusion matrix over all pixels of the dataset (torchmetrics), pixels whose target is the
ignore index (255) left out. IoU_c = TP / (TP + FP + FN). The headline ``mIoU`` averages all classes
including background (class 0), as SeAFusion's MSRS segmentation tables do; ``mIoU_no_bg`` averages
classes 1-8 only. A class absent from both prediction and target is NaN and skipped.

Both metrics also keep what each image contributed (COCO matches per IoU threshold; a confusion matrix), so
``compute_on(images)`` scores any multiset of the images without running a network or the COCO matching again:
that is what a bootstrap over images (`tsjnet.metrics.bootstrap.resample`) recomputes hundreds of times. For
detection it pools the kept matches the way pycocotools' ``accumulate`` does (tests check it equals
``compute()``), in milliseconds instead of a fresh pycocotools evaluation per resample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torchmetrics.detection import MeanAveragePrecision
from torchmetrics.functional.classification import multiclass_confusion_matrix

from tsjnet.data.types import DET_CLASSES, IGNORE_INDEX, SEG_CLASSES


def _boxes(array: np.ndarray, columns: int, what: str, num_classes: int) -> dict[str, torch.Tensor]:
    """torchmetrics' box dict from our ``[cls, x1, y1, x2, y2(, score)]`` rows."""
    rows = np.asarray(array, dtype=np.float32)
    if rows.size == 0:
        rows = rows.reshape(0, columns)
    if rows.ndim != 2 or rows.shape[1] != columns:
        raise ValueError(f"{what}: expected an (N, {columns}) array, got shape {np.shape(array)}")
    labels = rows[:, 0]
    if ((labels < 0) | (labels >= num_classes) | (labels != np.round(labels))).any():
        raise ValueError(f"{what}: class ids must be integers in 0..{num_classes - 1}")
    if (rows[:, 3] < rows[:, 1]).any() or (rows[:, 4] < rows[:, 2]).any():
        raise ValueError(f"{what}: boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1 (pixels)")
    out = {"boxes": torch.from_numpy(rows[:, 1:5].copy()), "labels": torch.from_numpy(labels.astype(np.int64))}
    if columns == 6:
        out["scores"] = torch.from_numpy(rows[:, 5].copy())
    return out


def _per_class(result: dict[str, torch.Tensor], class_names: Sequence[str]) -> dict[str, float]:
    """Name -> AP from torchmetrics' ``map_per_class``/``classes``; unscored classes (-1 or absent) -> NaN."""
    per_class = dict.fromkeys(class_names, float("nan"))
    for cls, ap in zip(result["classes"].reshape(-1).tolist(), result["map_per_class"].reshape(-1).tolist()):
        per_class[class_names[int(cls)]] = ap if ap >= 0 else float("nan")
    return per_class


def _score(value: torch.Tensor) -> float:
    return float(value) if float(value) >= 0 else float("nan")


#: COCO's evaluation grid as torchmetrics hands it to pycocotools: IoU thresholds and recall points from a float32
#: ``torch.linspace`` (0.55 is 0.550000011920929, not 0.55: it decides ties at exact recall values), and the
#: detections kept per image and class.
IOU_THRESHOLDS = np.array(torch.linspace(0.5, 0.95, 10).tolist())
RECALL_POINTS = np.array(torch.linspace(0.0, 1.0, 101).tolist())
MAX_DETECTIONS = 100


@dataclass(frozen=True)
class ImageMatches:
    """One image's detections matched to its ground truth as pycocotools matches them, at every IoU threshold."""

    labels: np.ndarray  # (N,) class of each kept detection; per class in descending score order
    scores: np.ndarray  # (N,)
    hits: np.ndarray  # (N, len(IOU_THRESHOLDS)) bool: the detection matched a ground-truth box at that IoU
    truth: np.ndarray  # (K,) ground-truth boxes per class


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes, in float64 like pycocotools."""
    a, b = a.astype(np.float64)[:, None], b.astype(np.float64)[None]
    width = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(min=0)
    height = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(min=0)
    inter = width * height
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
             - inter)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _match_class(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N, T) hits of score-sorted `boxes` against `truth` of one class: each detection in turn takes the free
    ground-truth box of highest IoU >= the threshold (the last of equals, as pycocotools' loop does)."""
    iou = _iou(boxes, truth)
    hits = np.zeros((len(boxes), len(IOU_THRESHOLDS)), dtype=bool)
    taken = np.zeros((len(IOU_THRESHOLDS), len(truth)), dtype=bool)
    for i in range(len(boxes) if len(truth) else 0):
        free = np.where(taken | (iou[i] < IOU_THRESHOLDS[:, None]), -1.0, iou[i])
        best = len(truth) - 1 - np.argmax(free[:, ::-1], axis=1)
        hits[i] = free[np.arange(len(free)), best] >= 0
        taken[hits[i], best[hits[i]]] = True
    return hits


def match_image(prediction: dict[str, torch.Tensor], target: dict[str, torch.Tensor],
                num_classes: int) -> ImageMatches:
    """COCO matching of one image per class: the top MAX_DETECTIONS by score (stable order on ties)."""
    labels, scores = prediction["labels"].numpy(), prediction["scores"].numpy()
    truth_labels = target["labels"].numpy()
    kept = []
    for cls in range(num_classes):
        mine = np.flatnonzero(labels == cls)
        kept.append(mine[np.argsort(-scores[mine], kind="mergesort")][:MAX_DETECTIONS])
    hits = [_match_class(prediction["boxes"].numpy()[rows], target["boxes"].numpy()[truth_labels == cls])
            for cls, rows in enumerate(kept)]
    order = np.concatenate(kept).astype(np.int64)
    return ImageMatches(labels[order], scores[order], np.concatenate(hits),
                        np.bincount(truth_labels, minlength=num_classes))


def pooled_average_precision(images: Sequence[ImageMatches], num_classes: int) -> np.ndarray:
    """(T, K) AP per IoU threshold and class over `images` (pycocotools' ``accumulate``); NaN: no ground truth."""
    labels = np.concatenate([image.labels for image in images])
    scores = np.concatenate([image.scores for image in images])
    hits = np.concatenate([image.hits for image in images])
    truth = np.sum([image.truth for image in images], axis=0)
    ap = np.full((len(IOU_THRESHOLDS), num_classes), np.nan)
    for cls in np.flatnonzero(truth):
        mine = np.flatnonzero(labels == cls)
        tp = np.cumsum(hits[mine[np.argsort(-scores[mine], kind="mergesort")]], axis=0)
        if not len(tp):
            ap[:, cls] = 0.0
            continue
        rank = np.arange(1, len(tp) + 1)[:, None]
        recall = tp / truth[cls]
        precision = np.maximum.accumulate((tp / (rank + np.spacing(1)))[::-1], axis=0)[::-1]  # COCO's envelope
        for t in range(len(IOU_THRESHOLDS)):
            at = np.searchsorted(recall[:, t], RECALL_POINTS, side="left")
            ap[t, cls] = np.where(at < len(tp), precision[np.minimum(at, len(tp) - 1), t], 0.0).mean()
    return ap


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


class DetectionMAP:
    """Streaming mAP@0.5 and mAP@[.5:.95] with per-class AP, fed one image at a time."""

    def __init__(self, class_names: Sequence[str] = DET_CLASSES) -> None:
        self.class_names = tuple(class_names)
        common = {"box_format": "xyxy", "iou_type": "bbox", "class_metrics": True, "backend": "pycocotools"}
        self._coco = MeanAveragePrecision(**common)
        self._at50 = MeanAveragePrecision(iou_thresholds=[0.5], **common)
        self.images: list[ImageMatches] = []

    def update(self, predictions: np.ndarray, targets: np.ndarray) -> None:
        """Add one image: predictions (N, 6) ``[cls, x1, y1, x2, y2, score]``, targets (M, 5) without score."""
        k = len(self.class_names)
        pred, target = [_boxes(predictions, 6, "predictions", k)], [_boxes(targets, 5, "targets", k)]
        self._coco.update(pred, target)
        self._at50.update(pred, target)
        self.images.append(match_image(pred[0], target[0], k))

    def compute(self) -> dict[str, object]:
        """``mAP50``, ``mAP50_95`` and the per-class dicts ``AP50`` and ``AP50_95`` (class name -> AP)."""
        coco, at50 = self._coco.compute(), self._at50.compute()
        return {"mAP50": _score(coco["map_50"]), "mAP50_95": _score(coco["map"]),
                "AP50": _per_class(at50, self.class_names), "AP50_95": _per_class(coco, self.class_names)}

    def compute_on(self, images: np.ndarray) -> dict[str, object]:
        """`compute()`'s scores over the images at indices `images` (a repeat counts again): a bootstrap replicate."""
        ap = pooled_average_precision([self.images[i] for i in images], len(self.class_names))
        per_class = ap.mean(axis=0)  # COCO's mAP@[.5:.95] per class: the mean over thresholds
        return {"mAP50": _nanmean(ap[0]), "mAP50_95": _nanmean(per_class),
                "AP50": dict(zip(self.class_names, ap[0].tolist())),
                "AP50_95": dict(zip(self.class_names, per_class.tolist()))}


class SegmentationIoU:
    """Per-class IoU from a dataset-wide confusion matrix (rows: target, columns: prediction), kept per image."""

    def __init__(self, class_names: Sequence[str] = SEG_CLASSES, ignore_index: int = IGNORE_INDEX) -> None:
        self.class_names = tuple(class_names)
        self.ignore_index = ignore_index
        self.matrices: list[np.ndarray] = []  # one (C, C) confusion matrix per image

    def update(self, prediction: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> None:
        """Add one (H, W) predicted class map and its (H, W) target (class ids or the ignore index)."""
        pred, tgt = torch.as_tensor(np.asarray(prediction)).long(), torch.as_tensor(np.asarray(target)).long()
        if pred.shape != tgt.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(tgt.shape)} must have one shape")
        matrix = multiclass_confusion_matrix(pred.reshape(-1), tgt.reshape(-1), len(self.class_names),
                                             ignore_index=self.ignore_index)
        self.matrices.append(matrix.numpy().astype(np.int64))

    def confusion_matrix(self, images: np.ndarray | None = None) -> np.ndarray:
        """(C, C) pixel counts over all images (or those at indices `images`), rows = target, columns = predicted."""
        chosen = self.matrices if images is None else [self.matrices[i] for i in images]
        return np.sum(chosen, axis=0, dtype=np.int64) if chosen else np.zeros((len(self.class_names),) * 2, np.int64)

    def compute_on(self, images: np.ndarray | None = None) -> dict[str, object]:
        """``mIoU`` (with background, the headline), ``mIoU_no_bg`` and ``IoU`` per class name, over all images
        or those at indices `images` (a repeat counts again: a bootstrap replicate)."""
        matrix = self.confusion_matrix(images)
        tp = np.diag(matrix).astype(np.float64)
        union = matrix.sum(axis=0) + matrix.sum(axis=1) - tp
        iou = np.divide(tp, union, out=np.full_like(tp, np.nan), where=union > 0)
        return {"mIoU": _nanmean(iou), "mIoU_no_bg": _nanmean(iou[1:]),
                "IoU": {name: float(v) for name, v in zip(self.class_names, iou)}}

    def compute(self) -> dict[str, object]:
        """`compute_on` every image, and the confusion matrix."""
        return {**self.compute_on(), "confusion_matrix": self.confusion_matrix().tolist()}
