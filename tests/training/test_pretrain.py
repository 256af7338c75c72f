import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.params import section
from tests.tasks.samples import TINY_DETECTOR, MemoryPairs, make_sample
from tsjnet.data.labels import write_yolo
from tsjnet.tasks.detector import build_detector, load_detector
from tsjnet.tasks.segmenter import load_segmenter
from tsjnet.checkpoints import load_checkpoint
from tsjnet.training.fusion_data import file_digest
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.errors import DataError
from tsjnet.training.pretrain import class_weights, initial_detector, pretrain_detectors, pretrain_segmenter


@pytest.fixture(scope="module")
def msrs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny MSRS-layout dataset: 2 train and 2 val pairs of 64 x 64 with masks and IR/VIS boxes."""
    root = tmp_path_factory.mktemp("msrs")
    for split in ("train", "val"):
        for index in range(2):
            sample = make_sample(f"{split}{index}D", split, seed=index)
            Image.fromarray(sample.ir).save(root / _mkdir(root / split / "ir") / f"{sample.name}.png")
            Image.fromarray(sample.vi).save(root / _mkdir(root / split / "vi") / f"{sample.name}.png")
            Image.fromarray(sample.mask).save(_mkdir(root / split / "Segmentation_labels") / f"{sample.name}.png")
            for modality, boxes in sample.boxes.items():
                write_yolo(_mkdir(root / "detection_labels" / modality / split) / f"{sample.name}.txt", boxes, 64, 64)
    return root


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_detector_pretraining_trains_saves_and_resumes(msrs_root: Path, tmp_path: Path) -> None:
    params = TINY_DETECTOR.model_copy(update={
        "modalities": ("infrared",), "fusion_detector": "infrared", "init_from": {}, "train_mix": {}, "epochs": 1, "batch_size": 2,
        "checkpoint_dir": str(tmp_path / "det"), "metrics": str(tmp_path / "det.json")})
    logged: list[tuple[dict, int]] = []
    results = pretrain_detectors(params, msrs_root, seed=0, log_metrics=lambda m, step: logged.append((m, step)))
    checkpoint = tmp_path / "det" / "infrared.pt"
    assert load_checkpoint(checkpoint)["epoch"] == 1
    assert json.loads((tmp_path / "det.json").read_text()).keys() == {"infrared"}
    assert set(results["infrared"]) == {"train_loss", "map50"} and logged[0][1] == 1

    torch.manual_seed(0)  # the same initialisation pretraining started from
    fresh = build_detector(params, (64, 64)).roi_heads.box_predictor.state_dict()
    trained = load_detector(checkpoint).roi_heads.box_predictor.state_dict()
    assert all(not torch.equal(fresh[k], trained[k]) for k in fresh)  # the box head was trained and saved

    mtime = checkpoint.stat().st_mtime_ns
    pretrain_detectors(params, msrs_root, seed=0)  # finished: nothing to do
    assert checkpoint.stat().st_mtime_ns == mtime
    pretrain_detectors(params.model_copy(update={"epochs": 2}), msrs_root, seed=0)
    assert load_checkpoint(checkpoint)["epoch"] == 2  # continued from epoch 1


def test_validation_runs_every_val_every_epochs_and_after_the_last(msrs_root: Path, tmp_path: Path) -> None:
    params = section("segmenter", epochs=3, val_every=2, batch_size=2, checkpoint=str(tmp_path / "seg.pt"),
                     metrics=str(tmp_path / "seg.json"), train_modalities=["visible"])
    logged: list[tuple[dict, int]] = []
    results = pretrain_segmenter(params, msrs_root, seed=0, log_metrics=lambda m, step: logged.append((m, step)))
    validated = [step for metrics, step in logged if "segmenter/miou" in metrics]
    assert [step for _, step in logged] == [1, 2, 3] and validated == [2, 3]
    assert "miou" in results and "miou" in load_checkpoint(tmp_path / "seg.pt")["metrics"]


def test_blend_detector_is_fine_tuned_from_the_infrared_one(msrs_root: Path, tmp_path: Path) -> None:
    params = TINY_DETECTOR.model_copy(update={
        "modalities": ("infrared", "blend"), "fusion_detector": "blend", "init_from": {"blend": "infrared"},
        "epochs": 1, "batch_size": 2, "checkpoint_dir": str(tmp_path / "det"), "metrics": str(tmp_path / "det.json")})
    results = pretrain_detectors(params, msrs_root, seed=0)
    assert set(results) == {"infrared", "blend"}
    infrared = load_checkpoint(tmp_path / "det" / "infrared.pt")
    assert infrared["init_from"] is None
    assert load_checkpoint(tmp_path / "det" / "blend.pt")["init_from"]["modality"] == "infrared"

    start, source = initial_detector(params, "blend", (64, 64))
    assert source == {"modality": "infrared", "digest": file_digest([tmp_path / "det" / "infrared.pt"])}
    assert all(torch.equal(value, infrared["model"][key]) for key, value in start.state_dict().items())
    assert initial_detector(params, "infrared", (64, 64))[1] is None


def test_only_the_detector_whose_image_mix_changed_is_retrained(msrs_root: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    params = TINY_DETECTOR.model_copy(update={
        "modalities": ("infrared", "blend"), "fusion_detector": "blend", "init_from": {"blend": "infrared"},
        "train_mix": {"blend": ("infrared", "blend")}, "epochs": 1, "batch_size": 2,
        "checkpoint_dir": str(tmp_path / "det"), "metrics": str(tmp_path / "det.json")})
    pretrain_detectors(params, msrs_root, seed=0)
    assert load_checkpoint(tmp_path / "det" / "blend.pt")["train_mix"] == ["infrared", "blend"]
    assert load_checkpoint(tmp_path / "det" / "infrared.pt")["train_mix"] is None
    capsys.readouterr()

    pretrain_detectors(params.model_copy(update={"train_mix": {}}), msrs_root, seed=0)
    log = capsys.readouterr().err
    assert "detector_infrared: resuming" in log and "detector_blend: resuming" not in log
    assert load_checkpoint(tmp_path / "det" / "blend.pt")["train_mix"] is None


def test_segmenter_pretraining_writes_checkpoint_and_resumes(msrs_root: Path, tmp_path: Path) -> None:
    params = section("segmenter", epochs=1, batch_size=2, checkpoint=str(tmp_path / "seg.pt"),
                     metrics=str(tmp_path / "seg.json"), train_modalities=["infrared", "visible"])
    results = pretrain_segmenter(params, msrs_root, seed=0)
    assert set(results) == {"train_loss", "miou_infrared", "miou_visible", "miou"}
    assert np.isclose(results["miou"], (results["miou_infrared"] + results["miou_visible"]) / 2)
    first = load_checkpoint(tmp_path / "seg.pt")
    pretrain_segmenter(params.model_copy(update={"epochs": 2}), msrs_root, seed=0)
    second = load_checkpoint(tmp_path / "seg.pt")
    assert (first["epoch"], second["epoch"]) == (1, 2)
    assert load_segmenter(tmp_path / "seg.pt")(torch.rand(1, 1, 64, 64)).shape == (1, 9, 64, 64)


def _masked_pairs(mask: np.ndarray) -> MemoryPairs:
    return MemoryPairs([replace(make_sample("a", size=mask.shape[0]), mask=mask)])


def test_inverse_sqrt_frequency_weights_favour_rare_classes_and_keep_the_loss_scale() -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[:2], mask[2, :5], mask[-1] = 2, 3, IGNORE_INDEX  # 65 background, 20 person, 5 bike, 10 ignored
    pairs = _masked_pairs(mask)
    weight = class_weights(pairs, "inverse_sqrt_frequency")
    counts = torch.tensor([65.0, 20.0, 5.0])
    assert torch.allclose(weight[[0, 2, 3]], counts.sum().sqrt() / counts.sqrt() / (counts / counts.sum()).sqrt().sum())
    assert torch.allclose((weight[[0, 2, 3]] * counts).sum(), counts.sum())  # a labelled pixel weighs 1 on average
    assert not weight[[1, 4, 5, 6, 7, 8]].any()  # absent classes are never a target
    assert class_weights(pairs, "uniform") is None


def test_masks_without_labelled_pixels_cannot_be_weighted() -> None:
    with pytest.raises(DataError, match="segmenter.class_weights: uniform"):
        class_weights(_masked_pairs(np.full((8, 8), IGNORE_INDEX, np.uint8)), "inverse_sqrt_frequency")


def test_segmenter_trains_with_class_weights(msrs_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    params = section("segmenter", epochs=1, batch_size=2, checkpoint=str(tmp_path / "seg.pt"), metrics=str(tmp_path / "seg.json"),
                     class_weights="inverse_sqrt_frequency", train_modalities=["visible"])
    results = pretrain_segmenter(params, msrs_root, seed=0)
    assert np.isfinite(results["train_loss"]) and 0 <= results["miou"] <= 1
    assert "inverse_sqrt_frequency class weights background" in capsys.readouterr().err
    assert load_checkpoint(tmp_path / "seg.pt")["config"]["class_weights"] == "inverse_sqrt_frequency"


def test_changed_settings_restart_training(msrs_root: Path, tmp_path: Path) -> None:
    params = section("segmenter", epochs=1, batch_size=2, checkpoint=str(tmp_path / "seg.pt"),
                     metrics=str(tmp_path / "seg.json"), train_modalities=["visible"])
    pretrain_segmenter(params, msrs_root, seed=0)
    steps: list[int] = []
    pretrain_segmenter(params.model_copy(update={"lr": 1e-4, "epochs": 2}), msrs_root, seed=0,
                       log_metrics=lambda metrics, step: steps.append(step))
    state = load_checkpoint(tmp_path / "seg.pt")
    assert steps == [1, 2]  # trained from scratch: resuming would have run epoch 2 only
    assert state["epoch"] == 2 and state["config"]["lr"] == 1e-4


@pytest.mark.parametrize("task", ["detector", "segmenter"])
def test_changed_data_restarts_training_instead_of_resuming(msrs_root: Path, tmp_path: Path, task: str) -> None:
    """A finished checkpoint of other data is never resumed (the ingested dataset changed: retrain on the new one)."""
    import shutil

    root = Path(shutil.copytree(msrs_root, tmp_path / "data"))
    if task == "detector":
        params = TINY_DETECTOR.model_copy(update={
            "modalities": ("infrared",), "fusion_detector": "infrared", "init_from": {}, "train_mix": {}, "epochs": 1, "batch_size": 2,
            "checkpoint_dir": str(tmp_path / "det"), "metrics": str(tmp_path / "m.json")})
        train = pretrain_detectors
    else:
        params = section("segmenter", epochs=1, batch_size=2, checkpoint=str(tmp_path / "seg.pt"),
                         metrics=str(tmp_path / "m.json"), train_modalities=["visible"])
        train = pretrain_segmenter
    train(params, root, seed=0)
    image = root / "train" / ("ir" if task == "detector" else "vi") / "train0D.png"
    Image.fromarray(255 - np.asarray(Image.open(image))).save(image)  # the same names, other pixels
    steps: list[int] = []
    train(params, root, seed=0, log_metrics=lambda metrics, step: steps.append(step))
    assert steps == [1]  # trained again: resuming the finished run would have logged no epoch
