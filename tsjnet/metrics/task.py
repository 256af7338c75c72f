"""Task metrics that judge fused images through the downstream networks: detection mAP and segmentation mIoU.

Detection: COCO-style average precision from torchmetrics' ``MeanAveragePrecision`` (pycocotools backend,
101-point interpolation, up to 100 detections per image). ``mAP50`` is AP at IoU 0.5, ``mAP50_95`` the mean
over IoU 0.50:0.05:0.95; both are means over the classes present in the ground truth. A class with no
ground-truth box is not scored and reported as NaN (COCO's -1).

Segmentation: a confusion matrix over all pixels of the dataset (torchmetrics), pixels whose target is the
ignore index (255) left out. IoU_c = TP / (TP + FP + FN). The headline ``mIoU`` averages all classes
including background (class 0), as SeAFusion's MSRS segmentation tables do; ``mIoU_no_bg`` averages
classes 1-8 only. A class absent from both prediction and target is NaN and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchmetrics.classification import MulticlassConfusionMatrix
from torchmetrics.detection import MeanAveragePrecision

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


class DetectionMAP:
    """Streaming mAP@0.5 and mAP@[.5:.95] with per-class AP, fed one image at a time."""

    def __init__(self, class_names: Sequence[str] = DET_CLASSES) -> None:
        self.class_names = tuple(class_names)
        common = {"box_format": "xyxy", "iou_type": "bbox", "class_metrics": True, "backend": "pycocotools"}
        self._coco = MeanAveragePrecision(**common)
        self._at50 = MeanAveragePrecision(iou_thresholds=[0.5], **common)

    def update(self, predictions: np.ndarray, targets: np.ndarray) -> None:
        """Add one image: predictions (N, 6) ``[cls, x1, y1, x2, y2, score]``, targets (M, 5) without score."""
        k = len(self.class_names)
        pred, target = [_boxes(predictions, 6, "predictions", k)], [_boxes(targets, 5, "targets", k)]
        self._coco.update(pred, target)
        self._at50.update(pred, target)

    def compute(self) -> dict[str, object]:
        """``mAP50``, ``mAP50_95`` and the per-class dicts ``AP50`` and ``AP50_95`` (class name -> AP)."""
        coco, at50 = self._coco.compute(), self._at50.compute()
        return {"mAP50": _score(coco["map_50"]), "mAP50_95": _score(coco["map"]),
                "AP50": _per_class(at50, self.class_names), "AP50_95": _per_class(coco, self.class_names)}


class SegmentationIoU:
    """Streaming per-class IoU from a dataset-wide confusion matrix (rows: target, columns: prediction)."""

    def __init__(self, class_names: Sequence[str] = SEG_CLASSES, ignore_index: int = IGNORE_INDEX) -> None:
        self.class_names = tuple(class_names)
        self._matrix = MulticlassConfusionMatrix(num_classes=len(self.class_names), ignore_index=ignore_index)

    def update(self, prediction: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> None:
        """Add one (H, W) predicted class map and its (H, W) target (class ids or the ignore index)."""
        pred, tgt = torch.as_tensor(np.asarray(prediction)).long(), torch.as_tensor(np.asarray(target)).long()
        if pred.shape != tgt.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(tgt.shape)} must have one shape")
        self._matrix.update(pred.reshape(-1), tgt.reshape(-1))

    def confusion_matrix(self) -> np.ndarray:
        """(C, C) pixel counts, rows = target class, columns = predicted class."""
        return self._matrix.compute().numpy().astype(np.int64)

    def compute(self) -> dict[str, object]:
        """``mIoU`` (with background, the headline), ``mIoU_no_bg``, ``IoU`` per class name and the matrix."""
        matrix = self.confusion_matrix()
        tp = np.diag(matrix).astype(np.float64)
        union = matrix.sum(axis=0) + matrix.sum(axis=1) - tp
        iou = np.divide(tp, union, out=np.full_like(tp, np.nan), where=union > 0)
        with np.errstate(invalid="ignore"):
            miou = float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")
            miou_no_bg = float(np.nanmean(iou[1:])) if np.isfinite(iou[1:]).any() else float("nan")
        return {"mIoU": miou, "mIoU_no_bg": miou_no_bg,
                "IoU": {name: float(v) for name, v in zip(self.class_names, iou)},
                "confusion_matrix": matrix.tolist()}
