"""Fixtures for the evaluator tests: tiny image folders (ivf-dev comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def textured(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth random 8-bit texture: edges everywhere, no flat regions."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 127 + 60 * np.sin(x / 3.0 + seed) * np.cos(y / 4.0) + rng.normal(0, 12, (height, width))
    return np.clip(np.round(base), 0, 255).astype(np.uint8)


def write_image(path: Path, array: np.ndarray) -> Path:
    """Save an 8-bit array in the format the suffix names, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


@pytest.fixture()
def triple_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """ir/, vi/ (RGB, .bmp) and fused/ folders with two 32x40 pairs named p1 and p2."""
    for i, stem in enumerate(("p1", "p2")):
        ir = textured(32, 40, seed=i)
        vi = np.stack([textured(32, 40, seed=10 + i + c) for c in range(3)], axis=2)
        write_image(tmp_path / "ir" / f"{stem}.png", ir)
        write_image(tmp_path / "vi" / f"{stem}.bmp", vi)
        write_image(tmp_path / "fused" / f"{stem}.png", ((ir.astype(np.uint16) + vi[..., 0]) // 2).astype(np.uint8))
    return tmp_path / "ir", tmp_path / "vi", tmp_path / "fused"
