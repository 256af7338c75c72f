import pytest
import torch

from tests.params import section
from tsjnet.data.types import NUM_SEG_CLASSES
from tsjnet.errors import DataError
from tsjnet.tasks.segmenter import IMAGENET_MEAN, IMAGENET_STD, build_segmenter, load_segmenter
from tsjnet.checkpoints import save_checkpoint


@pytest.fixture(scope="module")
def segmenter() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_segmenter(section("segmenter")).eval()


def test_build_segmenter_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a builder tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    model = build_segmenter(section("segmenter", encoder="resnet18"))
    assert model.net.segmentation_head[0].out_channels == NUM_SEG_CLASSES


@torch.no_grad()
def test_wrapper_applies_imagenet_normalisation(segmenter: torch.nn.Module) -> None:
    images = torch.rand(2, 3, 64, 64)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    wrapped = segmenter(images)
    assert torch.allclose(wrapped, segmenter.net((images - mean) / std), atol=1e-5)
    assert not torch.allclose(wrapped, segmenter.net(images), atol=1e-3)


@torch.no_grad()
def test_gray_input_is_replicated_and_any_size_works(segmenter: torch.nn.Module) -> None:
    gray = torch.rand(1, 1, 50, 70)
    logits = segmenter(gray)
    assert logits.shape == (1, NUM_SEG_CLASSES, 50, 70)
    assert torch.allclose(logits, segmenter(gray.repeat(1, 3, 1, 1)))


def test_load_segmenter_round_trip(tmp_path, segmenter: torch.nn.Module) -> None:
    path = tmp_path / "segmenter.pt"
    save_checkpoint(path, {"model": segmenter.state_dict(), "config": section("segmenter").model_dump()})
    loaded = load_segmenter(path)
    images = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(images), segmenter(images))


def test_a_checkpoint_from_before_class_weights_still_loads(tmp_path, segmenter: torch.nn.Module) -> None:
    path = tmp_path / "segmenter.pt"
    config = {key: value for key, value in section("segmenter").model_dump().items() if key != "class_weights"}
    save_checkpoint(path, {"model": segmenter.state_dict(), "config": config})
    images = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(load_segmenter(path)(images), segmenter(images))


def test_load_segmenter_rejects_foreign_checkpoint(tmp_path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(DataError, match="not written by tsjnet"):
        load_segmenter(path)
