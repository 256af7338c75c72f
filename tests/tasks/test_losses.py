import pytest
import torch

from tests.params import section
from tests.tasks.samples import TINY_DETECTOR, make_sample
from tsjnet.errors import DataError
from tsjnet.tasks.detector import build_detector, sample_target
from tsjnet.tasks.losses import detection_loss, freeze, segmentation_loss
from tsjnet.tasks.segmenter import build_segmenter

@pytest.fixture(scope="module")
def detector() -> torch.nn.Module:
    torch.manual_seed(0)
    return freeze(build_detector(TINY_DETECTOR, (64, 64)))


@pytest.fixture(scope="module")
def segmenter() -> torch.nn.Module:
    torch.manual_seed(0)
    return freeze(build_segmenter(section("segmenter")))


def _image_and_target() -> tuple[torch.Tensor, list[dict]]:
    sample = make_sample()
    image = torch.from_numpy(sample.ir).float().div(255).view(1, 1, 64, 64).requires_grad_(True)
    return image, [sample_target(sample, "infrared")]


def test_detection_loss_reaches_the_image_not_the_detector(detector: torch.nn.Module) -> None:
    image, targets = _image_and_target()
    bn = next(m for m in detector.modules() if isinstance(m, torch.nn.BatchNorm2d))
    stats = bn.running_mean.clone()
    loss = detection_loss(detector, image, targets)
    loss.backward()
    assert loss.ndim == 0 and loss > 0
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(p.grad is None for p in detector.parameters())
    assert torch.equal(bn.running_mean, stats)  # BatchNorm stayed in eval
    assert not any(m.training for m in detector.modules())  # modes restored


def test_detection_loss_terms(detector: torch.nn.Module) -> None:
    image, targets = _image_and_target()
    torch.manual_seed(1)
    rpn_only = detection_loss(detector, image, targets, terms=("loss_rpn_box_reg",))
    torch.manual_seed(1)
    with_objectness = detection_loss(detector, image, targets, terms=("loss_rpn_box_reg",), include_objectness=True)
    assert with_objectness > rpn_only
    with pytest.raises(ValueError, match="loss_classifier"):
        detection_loss(detector, image, targets, terms=("loss_bogus",))


def test_detection_loss_requires_a_frozen_detector() -> None:
    with pytest.raises(ValueError, match="freeze"):
        detection_loss(build_detector(TINY_DETECTOR, (64, 64)), *_image_and_target())


def test_segmentation_loss_reaches_the_image_not_the_segmenter(segmenter: torch.nn.Module) -> None:
    segmenter.train()  # as if a parent module was put in train mode: batch 1 must still work
    image = torch.rand(1, 3, 64, 64, requires_grad=True)
    mask = torch.from_numpy(make_sample().mask).long().unsqueeze(0)
    loss = segmentation_loss(segmenter, image, mask)
    loss.backward()
    assert loss > 0 and image.grad is not None and image.grad.abs().sum() > 0
    assert all(p.grad is None for p in segmenter.parameters())
    assert segmenter.training  # restored


def test_segmentation_loss_ignores_255(segmenter: torch.nn.Module) -> None:
    image = torch.rand(1, 3, 32, 32)
    mask = torch.full((1, 32, 32), 255, dtype=torch.long)
    mask[:, :4] = 3
    logits = segmenter.eval()(image)
    expected = torch.nn.functional.cross_entropy(logits[:, :, :4], mask[:, :4])
    assert torch.allclose(segmentation_loss(segmenter, image, mask), expected, atol=1e-6)


def test_segmentation_loss_rejects_scaled_or_bad_masks(segmenter: torch.nn.Module) -> None:
    image = torch.rand(1, 3, 32, 32)
    with pytest.raises(DataError, match="1/255"):
        segmentation_loss(segmenter, image, torch.full((1, 32, 32), 3 / 255))
    with pytest.raises(DataError, match="0..8"):
        segmentation_loss(segmenter, image, torch.full((1, 32, 32), 9, dtype=torch.long))
