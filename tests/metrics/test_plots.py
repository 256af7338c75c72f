"""Plots are written as real PNG files; a wrong matrix shape is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsjnet.data.types import DET_CLASSES
from tsjnet.metrics.plots import plot_confusion_matrix, plot_per_class


def test_per_class_bars_png(tmp_path: Path) -> None:
    path = plot_per_class({"person": 0.8, "bicycle": float("nan"), "car": 0.5}, tmp_path / "p" / "ap.png",
                          title="AP50", ylabel="AP")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 100


def test_confusion_matrix_png_and_shape_check(tmp_path: Path) -> None:
    matrix = np.array([[5, 1, 0], [0, 3, 0], [0, 0, 0]])
    with Image.open(plot_confusion_matrix(matrix, DET_CLASSES, tmp_path / "cm.png", title="cm")) as image:
        assert image.format == "PNG"
    with pytest.raises(ValueError, match="class names"):
        plot_confusion_matrix(matrix, DET_CLASSES[:2], tmp_path / "bad.png", title="bad")
