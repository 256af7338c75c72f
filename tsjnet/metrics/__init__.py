"""Evaluation: fusion metrics with fixed, tested definitions (docs/metrics.md) and task metrics (mAP, mIoU)."""

from tsjnet.metrics.evaluate import evaluate_folders
from tsjnet.metrics.suite import METRIC_KEYS, fusion_metrics

__all__ = ["METRIC_KEYS", "evaluate_folders", "fusion_metrics"]
