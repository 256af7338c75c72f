"""The register stage's library entry: fusion candidate + gate + both teachers, nothing registered on bad input;
teachers registered as weights-only files that a tampered registry cannot turn into code execution."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pytest
import torch

from tests.params import section
from tsjnet.config.registry import RegisterParams
from tsjnet.errors import DataError
from tsjnet.labels.teacher import load_teacher
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.register import CANDIDATE, CHAMPION, load_task_model, register_all, register_task_model
from tsjnet.registry.teachers import TEACHER_FILE, TeacherCheckpoint
from tsjnet.tasks.detector import build_detector
from tsjnet.tasks.segmenter import Segmenter, build_segmenter
from tsjnet.checkpoints import save_checkpoint

SEGMENTER = section("segmenter", encoder="mobilenet_v2")  # the smallest encoder: keeps the logged file small
IMAGE_SIZE = (64, 64)


@pytest.fixture(scope="module")
def teachers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Untrained detector and segmenter checkpoints in the format the pretrain stage writes."""
    root = tmp_path_factory.mktemp("teachers")
    detector = section("detector")
    save_checkpoint(root / "detector.pt", {"model": build_detector(detector, IMAGE_SIZE).state_dict(),
                                           "config": detector.model_dump(), "image_size": IMAGE_SIZE})
    save_checkpoint(root / "segmenter.pt", {"model": build_segmenter(SEGMENTER).state_dict(),
                                            "config": SEGMENTER.model_dump()})
    return root / "detector.pt", root / "segmenter.pt"


def params_for(name: str, checkpoint: Path, teachers: tuple[Path, Path], metrics: Path, report: Path) -> RegisterParams:
    return section("register", model_name=name, checkpoint=str(checkpoint), detector_name=f"{name}-detector",
                   detector_checkpoint=str(teachers[0]), segmenter_name=f"{name}-segmenter",
                   segmenter_checkpoint=str(teachers[1]), metrics_files=[str(metrics)], report=str(report))


def test_registers_fusion_and_teachers(tracking: str, checkpoint: Path, teachers: tuple[Path, Path],
                                       model_name: str, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"fused_miou": 0.4, "fused_map50": 0.3, "ssim": 0.6, "psnr": 60.0}))
    params = params_for(model_name, checkpoint, teachers, metrics, tmp_path / "promotion.json")
    with mlflow.start_run():
        summary = register_all(params, "judges")
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
    uri = f"models:/{params.detector_name}@{CHAMPION}"
    teacher = load_teacher(section("pseudolabel.teacher", enabled=True, uri=uri, device="cpu"))
    with torch.inference_mode():
        assert set(teacher.model([torch.rand(3, *IMAGE_SIZE)])[0]) == {"boxes", "labels", "scores"}
    assert sorted(path.name for path in stored_teacher(params.detector_name).parent.iterdir()) == [TEACHER_FILE]
    with pytest.raises(DataError, match=f"models:/{model_name}@{CANDIDATE} has no {TEACHER_FILE}"):
        load_task_model(f"models:/{model_name}@{CANDIDATE}", device="cpu")


def test_bad_input_registers_nothing(tracking: str, checkpoint: Path, teachers: tuple[Path, Path],
                                     model_name: str, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"fused_miou": 0.4, "ssim": 0.6}))
    params = params_for(model_name, checkpoint, teachers, metrics, tmp_path / "promotion.json")
    with mlflow.start_run(), pytest.raises(DataError, match=r"lacks gate metric\(s\) \['fused_map50'\]"):
        register_all(params, "judges")
    metrics.write_text(json.dumps({"fused_miou": 0.4, "fused_map50": 0.3, "ssim": 0.6}))
    swapped = params_for(model_name, checkpoint, teachers[::-1], metrics, tmp_path / "promotion.json")
    with mlflow.start_run(), pytest.raises(DataError, match=f"teacher file {teachers[1]} lacks an 'image_size'"):
        register_all(swapped, "judges")
    assert mlflow.MlflowClient().search_registered_models(f"name = '{model_name}'") == []


class RunsCode:
    """Unpickling this calls `exec`: the payload a tampered registry file would carry (here it only makes `marker`)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def stored_teacher(name: str) -> Path:
    """Where the tracking store keeps the teacher file of `name`@champion (to tamper with it, as an attacker would)."""
    client = mlflow.MlflowClient()
    location = client.get_model_version_download_uri(name, client.get_model_version_by_alias(name, CHAMPION).version)
    return Path(urlparse(location).path) / TEACHER_FILE


def test_tampered_teacher_is_refused_naming_the_file(tracking: str, teachers: tuple[Path, Path], model_name: str,
                                                     tmp_path: Path) -> None:
    with mlflow.start_run():
        register_task_model(TeacherCheckpoint.read(teachers[1], "segmenter"), model_name)
    uri = f"models:/{model_name}@{CHAMPION}"
    assert isinstance(load_task_model(uri, device="cpu"), Segmenter)
    stored, marker = stored_teacher(model_name), tmp_path / "code-ran"
    torch.save(RunsCode(marker), stored)
    torch.load(stored, weights_only=False)  # the payload is real: an unsafe load runs it
    assert marker.exists()
    marker.unlink()
    refused = f"teacher file {uri}/{TEACHER_FILE} cannot be read: the weights-only loader refused it"
    with pytest.raises(DataError, match=rf"{refused} \(Unsupported global: GLOBAL exec was not an allowed global"):
        load_task_model(uri, device="cpu")
    assert not marker.exists()
    stored.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match=rf"teacher file {uri}/{TEACHER_FILE} cannot be read"):
        load_task_model(uri, device="cpu")


def test_teacher_file_round_trips_and_names_a_wrong_file(teachers: tuple[Path, Path], tmp_path: Path) -> None:
    detector_checkpoint, segmenter_checkpoint = teachers
    teacher = TeacherCheckpoint.read(detector_checkpoint, "detector")
    saved = TeacherCheckpoint.read(teacher.save(tmp_path / TEACHER_FILE))  # the task comes from the file now
    assert saved.task == "detector" and saved.image_size == IMAGE_SIZE and saved.config == teacher.config
    assert saved.build().state_dict().keys() == teacher.state_dict.keys()
    with pytest.raises(DataError, match=f"teacher file {tmp_path / TEACHER_FILE} is a 'detector' model, expected segm"):
        TeacherCheckpoint.read(tmp_path / TEACHER_FILE, "segmenter")
    with pytest.raises(DataError, match=f"teacher file {detector_checkpoint} names no task"):
        TeacherCheckpoint.read(detector_checkpoint)
    with pytest.raises(DataError, match=f"teacher file {segmenter_checkpoint} lacks an 'image_size'"):
        TeacherCheckpoint.read(segmenter_checkpoint, "detector")
    with pytest.raises(DataError, match=f"teacher file {detector_checkpoint}: the segmenter weights do not fit"):
        TeacherCheckpoint.read(detector_checkpoint, "segmenter").build()
