import numpy as np
import pytest
import torch

from tests.params import section
from tests.tasks.samples import OBJECTS, TINY_DETECTOR, make_sample
from torchvision.ops import FrozenBatchNorm2d

from tsjnet.errors import DataError
from tsjnet.tasks.detector import (NUM_DET_LABELS, boxes_to_target, build_detector, load_detector,
                                   sample_target)
from tsjnet.checkpoints import save_checkpoint


@pytest.fixture
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a builder tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


def test_build_detector_offline_keeps_image_size(no_downloads: None) -> None:
    model = build_detector(section("detector"), (64, 96))
    assert model.roi_heads.box_predictor.cls_score.out_features == NUM_DET_LABELS == 4
    assert not any(isinstance(m, FrozenBatchNorm2d) for m in model.modules())  # BatchNorm learns from scratch
    assert model.transform.min_size == (64,) and model.transform.max_size == 96
    model.eval()
    with torch.no_grad():
        images, _ = model.transform([torch.rand(3, 64, 96)])
    assert images.tensors.shape[-2:] == (64, 96)  # not upscaled to 800 px


def test_boxes_to_target_shifts_labels_clips_and_drops_degenerate() -> None:
    boxes = np.array([[0, 1, 2, 10, 12], [2, -5, 3, 70, 20], [1, 30, 30, 30.5, 40]], dtype=np.float32)
    target = boxes_to_target(boxes, (64, 64))
    assert target["labels"].tolist() == [1, 3]
    assert target["boxes"].tolist() == [[1, 2, 10, 12], [0, 3, 64, 20]]
    empty = boxes_to_target(np.zeros((0, 5), np.float32), (64, 64))
    assert empty["boxes"].shape == (0, 4) and empty["labels"].dtype == torch.int64


def test_boxes_to_target_rejects_unknown_class() -> None:
    with pytest.raises(DataError, match="class ids"):
        boxes_to_target(np.array([[3, 1, 1, 5, 5]], np.float32), (64, 64))


def test_sample_target_uses_that_modalitys_boxes() -> None:
    sample = make_sample()
    assert sample_target(sample, "infrared")["labels"].tolist() == (OBJECTS[:, 0] + 1).tolist()
    assert sample_target(sample, "visible")["labels"].tolist() == [3]
    sample.boxes["fusion"] = OBJECTS[:1].copy()
    assert sample_target(sample, "blend")["labels"].tolist() == [1]  # blends show every object: fusion boxes
    del sample.boxes["fusion"]
    with pytest.raises(DataError, match="detection_labels/fusion"):
        sample_target(sample, "blend")
    del sample.boxes["visible"]
    with pytest.raises(DataError, match="detection_labels/visible"):
        sample_target(sample, "visible")


def test_box_head_learns_from_a_few_steps() -> None:
    torch.manual_seed(0)
    model = build_detector(TINY_DETECTOR, (64, 64)).train()
    sample = make_sample()
    image, target = torch.from_numpy(sample.ir).float().div(255).expand(3, -1, -1), sample_target(sample, "infrared")
    head = {k: v.clone() for k, v in model.roi_heads.box_predictor.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        optimizer.zero_grad()
        sum(model([image, image], [target, target]).values()).backward()
        optimizer.step()
    for name, before in head.items():
        assert not torch.equal(before, model.roi_heads.box_predictor.state_dict()[name]), name


def test_load_detector_round_trip(tmp_path) -> None:
    params = TINY_DETECTOR
    model = build_detector(params, (64, 64)).eval()
    path = tmp_path / "infrared.pt"
    save_checkpoint(path, {"model": model.state_dict(), "config": params.model_dump(), "image_size": (64, 64)})
    loaded = load_detector(path)
    assert not loaded.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name


def test_a_checkpoint_from_before_val_every_still_loads(tmp_path) -> None:
    params = TINY_DETECTOR
    model = build_detector(params, (64, 64)).eval()
    path = tmp_path / "infrared.pt"
    config = {key: value for key, value in params.model_dump().items() if key != "val_every"}
    save_checkpoint(path, {"model": model.state_dict(), "config": config, "image_size": (64, 64)})
    assert all(torch.equal(value, load_detector(path).state_dict()[name]) for name, value in model.state_dict().items())
    with pytest.raises(ValueError, match="arch"):  # a field that shapes the network is never filled in
        type(params).from_checkpoint({key: value for key, value in config.items() if key != "arch"})


def test_load_detector_missing_file_names_it(tmp_path) -> None:
    with pytest.raises(DataError, match="missing.pt"):
        load_detector(tmp_path / "missing.pt")
