"""Shared fixtures: the real ivf-dev set (a missing copy fails loudly) and a tiny synthetic MSRS tree.

Real-data tests are marked ``@pytest.mark.realdata`` (marker registered in pyproject.toml). They never skip:
without the data they fail with the place to put it; deselect them explicitly with ``-m "not realdata"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.tiny_setup import tiny  # noqa: F401 (session fixture of the evaluation and tasks tests)
from tsjnet.bench.quality import IVF_DEV_ENV

# Tests use tiny tensors: one thread is faster (no thread hand-off) and makes timings independent of load.
torch.set_num_threads(1)

DEFAULT_IVF_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ivf-dev"

# The tiny MSRS tree: split -> names; images are TINY_W x TINY_H.
TINY_SPLITS = {"train": ["00001D", "00002N"], "test": ["00003D"]}
TINY_W, TINY_H = 32, 24
# One YOLO line per modality (person at the image centre); 00002N's visible file is empty (no object).
TINY_YOLO = "0 0.5 0.5 0.25 0.5\n"


@pytest.fixture(scope="session")
def ivf_dev() -> Path:
    """Path of ivf-dev: $TSJNET_IVF_DEV or ../shared/data/ivf-dev next to the project."""
    path = Path(os.environ.get(IVF_DEV_ENV, DEFAULT_IVF_DEV)).resolve()
    if not (path / "MSRS").is_dir():
        pytest.fail(f"real-data tests need the ivf-dev set at {path}: clone ivf-dev next to the project as "
                    f"../shared/data/ivf-dev or set {IVF_DEV_ENV}=/path/to/ivf-dev "
                    "(or deselect them with -m 'not realdata')", pytrace=False)
    return path


@pytest.fixture(autouse=True)
def _realdata_requires_ivf_dev(request: pytest.FixtureRequest) -> None:
    """Every realdata test needs ivf-dev, even one that does not ask for the fixture: fail, never skip."""
    if request.node.get_closest_marker("realdata") is not None:
        request.getfixturevalue("ivf_dev")


def _save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


@pytest.fixture
def tmp_msrs(tmp_path: Path) -> Path:
    """A valid MSRS-layout folder (train: 00001D 00002N, test: 00003D) with masks and YOLO labels.

    Tests break one piece of it to check the error raised for that piece.
    """
    root = tmp_path / "MSRS"
    rng = np.random.default_rng(0)
    for split, names in TINY_SPLITS.items():
        for name in names:
            _save(root / split / "ir" / f"{name}.png", rng.integers(0, 256, (TINY_H, TINY_W), dtype=np.uint8))
            _save(root / split / "vi" / f"{name}.png", rng.integers(0, 256, (TINY_H, TINY_W, 3), dtype=np.uint8))
            mask = rng.integers(0, 9, (TINY_H, TINY_W), dtype=np.uint8)
            mask[0, 0] = 255
            _save(root / split / "Segmentation_labels" / f"{name}.png", mask)
            for modality in ("infrared", "visible", "fusion"):
                label = root / "detection_labels" / modality / split / f"{name}.txt"
                label.parent.mkdir(parents=True, exist_ok=True)
                label.write_text("" if (name, modality) == ("00002N", "visible") else TINY_YOLO)
    return root
