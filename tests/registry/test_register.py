"""The register stage's library entry: fusion candidate + gate + both teachers, nothing registered on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import torch

from tsjnet.config.registry import RegisterParams
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.errors import DataError
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.register import CANDIDATE, CHAMPION, load_task_model, register_all
from tsjnet.tasks.detector import build_detector
from tsjnet.tasks.segmenter import Segmenter, build_segmenter
from tsjnet.training.checkpoint import save_checkpoint

SEGMENTER = SegmenterParams(encoder="mobilenet_v2")  # the smallest encoder: keeps the logged pickle small
IMAGE_SIZE = (64, 64)


@pytest.fixture(scope="module")
def teachers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Untrained detector and segmenter checkpoints in the format the pretrain stage writes."""
    root = tmp_path_factory.mktemp("teachers")
    detector = DetectorParams()
    save_checkpoint(root / "detector.pt", {"model": build_detector(detector, IMAGE_SIZE).state_dict(),
                                           "config": detector.model_dump(), "image_size": IMAGE_SIZE})
    save_checkpoint(root / "segmenter.pt", {"model": build_segmenter(SEGMENTER).state_dict(),
                                            "config": SEGMENTER.model_dump()})
    return root / "detector.pt", root / "segmenter.pt"


def params_for(name: str, checkpoint: Path, teachers: tuple[Path, Path], metrics: Path, report: Path) -> RegisterParams:
    return RegisterParams(model_name=name, checkpoint=str(checkpoint), detector_name=f"{name}-detector",
                          detector_checkpoint=str(teachers[0]), segmenter_name=f"{name}-segmenter",
                          segmenter_checkpoint=str(teachers[1]), metrics_files=[str(metrics)], report=str(report))


def test_registers_fusion_and_teachers(tracking: str, checkpoint: Path, teachers: tuple[Path, Path],
                                       model_name: str, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"fused_miou": 0.4, "fused_map50": 0.3, "ssim": 0.6, "psnr": 60.0}))
    params = params_for(model_name, checkpoint, teachers, metrics, tmp_path / "promotion.json")
    with mlflow.start_run():
        summary = register_all(params)
    assert summary["promoted"] and summary["fusion"] == f"{model_name} v1"
    client = mlflow.MlflowClient()
    assert set(client.get_registered_model(model_name).aliases) == {CANDIDATE, CHAMPION}
    assert json.loads((tmp_path / "promotion.json").read_text())["candidate"]["ssim"] == 0.6

    segmenter = load_task_model(f"models:/{params.segmenter_name}@{CHAMPION}", device="cpu")
    assert isinstance(segmenter, Segmenter) and not segmenter.training
    with torch.inference_mode():
        assert segmenter(torch.rand(1, 3, 40, 56)).shape[-2:] == (40, 56)
    with pytest.raises(DataError, match="is not a tsjnet fusion model"):
        load_fusion_model(f"models:/{params.segmenter_name}@{CHAMPION}", device="cpu")
    detector = load_task_model(f"models:/{params.detector_name}@{CHAMPION}", device="cpu")
    with torch.inference_mode():
        assert set(detector([torch.rand(3, *IMAGE_SIZE)])[0]) == {"boxes", "labels", "scores"}


def test_bad_input_registers_nothing(tracking: str, checkpoint: Path, teachers: tuple[Path, Path],
                                     model_name: str, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"fused_miou": 0.4, "ssim": 0.6}))
    params = params_for(model_name, checkpoint, teachers, metrics, tmp_path / "promotion.json")
    with mlflow.start_run(), pytest.raises(DataError, match=r"lacks gate metric\(s\) \['fused_map50'\]"):
        register_all(params)
    assert mlflow.MlflowClient().search_registered_models(f"name = '{model_name}'") == []
