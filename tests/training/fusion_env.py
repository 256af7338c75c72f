"""A tiny, complete fusion-training environment for the trainer tests: data, task networks, params.

SynthScenes in the MSRS layout (complete labels, as the pseudolabel stage writes them) with 4 train and 2 val
pairs of 64 x 64, untrained (randomly initialised) detectors and segmenter saved in the pretraining checkpoint
format, and `train:` settings that run tsjnet_tiny on 64 x 64 crops for an epoch or two (the committed conf/
values otherwise, tests.params).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch

from tests.params import section, write_params as write_full_params
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.config.train import FusionTrainParams
from tsjnet.data.synthscenes import write_synthscenes
from tsjnet.tasks.detector import build_detector, detector_checkpoint
from tsjnet.tasks.segmenter import build_segmenter
from tsjnet.checkpoints import save_checkpoint
from tsjnet.tracking import PARENT_ENV
from tsjnet.training.joint import FusionJob

SIZE = 64
REPO = Path(__file__).resolve().parents[2]
SMALL_DETECTOR = {"rpn_batch_size_per_image": 16, "box_batch_size_per_image": 16}


def detector_params(root: Path) -> DetectorParams:
    return section("detector", checkpoint_dir=str(root / "detector"), **SMALL_DETECTOR)


def segmenter_params(root: Path) -> SegmenterParams:
    return section("segmenter", checkpoint=str(root / "segmenter.pt"))


def run_section(root: Path, stem: str, **overrides: Any) -> dict[str, Any]:
    """Settings small enough for a test (tiny network, 64 x 64 crops, batches of 2, one lr throughout), outputs
    under `root`."""
    section = {"model": "tsjnet_tiny", "epochs": 1, "anneal_epochs": 0, "batch_size": 2, "crop": [SIZE, SIZE],
               "n_log_images": 1,
               "checkpoint": str(root / "checkpoints" / f"{stem}.pt"), "out": str(root / "models" / f"{stem}.pt"),
               "metrics": str(root / "metrics" / f"{stem}.json")}
    return section | overrides


def train_section(root: Path, **overrides: Any) -> dict[str, Any]:
    """`train:` of the test params file: both task losses (weight 1) from the first epoch, from scratch; the
    fusion-only ablation's outputs under `root` too."""
    ablation = {"ablation_checkpoint": str(root / "checkpoints" / "fusion_only.pt"),
                "ablation_out": str(root / "models" / "fusion_only.pt"),
                "ablation_metrics": str(root / "metrics" / "fusion_only.json"),
                "warmup_checkpoint": str(root / "checkpoints" / "warmup.pt")}
    joint = {"w_det": 1.0, "w_seg": 1.0, "task_warmup_epochs": 0, "init_from": None}
    return run_section(root, "tsjnet", **ablation, **joint) | overrides


def write_env(root: Path, n_test: int = 1) -> Path:
    """Write the data and the untrained task networks under `root`; return the data root."""
    data = root / "prepared"
    write_synthscenes(data, section("data.synth", n_train=4, n_val=2, n_test=n_test, height=SIZE, width=SIZE),
                      progress=False)
    detector = detector_params(root)
    torch.manual_seed(0)
    for modality in detector.modalities:
        save_checkpoint(detector_checkpoint(detector, modality), {
            "model": build_detector(detector, (SIZE, SIZE)).state_dict(), "config": detector.model_dump(),
            "image_size": [SIZE, SIZE]})
    segmenter = segmenter_params(root)
    save_checkpoint(segmenter.checkpoint, {"model": build_segmenter(segmenter).state_dict(),
                                           "config": segmenter.model_dump()})
    return data


def make_job(root: Path, params: FusionTrainParams | None = None, name: str = "tsjnet",
             model_kwargs: dict[str, Any] | None = None) -> FusionJob:
    """A job on the environment under `root` (default: the test `train:` section)."""
    return FusionJob(name=name, params=params or section("train", **train_section(root)), loss=section("loss"),
                     detector=detector_params(root), segmenter=segmenter_params(root), data_root=root / "prepared",
                     model_kwargs=model_kwargs or {})


def write_params(root: Path, train: dict[str, Any]) -> Path:
    """A params.yaml for the stage scripts: this environment, MLflow in `root`, the given `train:` section."""
    return write_full_params(root / "params.yaml", {
        "mlflow": {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}", "artifact_location": str(root / "mlartifacts")},
        "pseudolabel": {"out": str(root / "prepared")},
        "detector": {"checkpoint_dir": str(root / "detector"), **SMALL_DETECTOR},
        "segmenter": {"checkpoint": str(root / "segmenter.pt")},
        "train": train,
    })


def stage_command(params: Path, *launcher: str) -> list[str]:
    """`python [launcher...] stages/train.py --params PARAMS` for this checkout."""
    return [sys.executable, *launcher, str(REPO / "stages" / "train.py"), "--params", str(params)]


def stage_env() -> dict[str, str]:
    """The environment of a stage subprocess: this checkout importable, wide console lines, no parent run."""
    env = {k: v for k, v in os.environ.items() if k != PARENT_ENV}
    return env | {"PYTHONPATH": str(REPO), "COLUMNS": "250"}
