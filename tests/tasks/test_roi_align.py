from collections import OrderedDict

import pytest
import torch
from torchvision.ops import MultiScaleRoIAlign, roi_align

from tests.params import section
from tsjnet.tasks.detector import build_detector
from tsjnet.tasks.roi_align import MatmulMultiScaleRoIAlign, roi_align_matmul


def random_rois(n: int, images: int, height: int, width: int, seed: int = 0, reach: float = 0.5) -> torch.Tensor:
    """RoIs in image pixels up to `reach` of the image's sides, some past every border, some thinner than a
    feature cell."""
    gen = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, 2, generator=gen) * torch.tensor([width + 16.0, height + 16.0]) - 8
    size = torch.rand(n, 2, generator=gen) ** 2 * torch.tensor([width * reach, height * reach]) + 0.05
    index = torch.randint(0, images, (n, 1), generator=gen).float()
    return torch.cat([index, corner, corner + size], dim=1)


@pytest.mark.parametrize("shape, scale, sampling", [((3, 8, 24, 32), 1 / 8, 2), ((2, 5, 6, 9), 1 / 32, 3),
                                                    ((1, 4, 1, 7), 1 / 16, 1)])
def test_matches_torchvision_forward_and_backward(shape: tuple[int, ...], scale: float, sampling: int) -> None:
    features = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    _, _, height, width = shape
    rois = random_rois(40, shape[0], int(height / scale), int(width / scale)).double()
    expected = roi_align(features, rois, (7, 5), scale, sampling)
    pooled = roi_align_matmul(features, rois, (7, 5), scale, sampling)
    torch.testing.assert_close(pooled, expected)
    grad_out = torch.randn_like(expected)
    torch.testing.assert_close(torch.autograd.grad(pooled, features, grad_out)[0],
                               torch.autograd.grad(expected, features, grad_out)[0])


def test_images_without_rois_and_no_rois_at_all() -> None:
    features = torch.randn(3, 4, 10, 10)
    rois = torch.tensor([[2.0, 1, 1, 30, 30], [2.0, 0, 0, 5, 60]])  # only image 2 has RoIs
    torch.testing.assert_close(roi_align_matmul(features, rois, (2, 2), 1 / 4, 2),
                               roi_align(features, rois, (2, 2), 1 / 4, 2))
    assert roi_align_matmul(features, torch.zeros(0, 5), (2, 2), 1.0, 2).shape == (0, 4, 2, 2)


def test_refuses_adaptive_sampling() -> None:
    with pytest.raises(ValueError, match="sampling_ratio"):
        roi_align_matmul(torch.randn(1, 1, 4, 4), torch.tensor([[0.0, 0, 0, 2, 2]]), (2, 2), 1.0, 0)


def test_pooler_matches_torchvision_on_every_level() -> None:
    torch.manual_seed(0)
    image_shapes = [(384, 512), (384, 512)]
    features = OrderedDict((name, torch.randn(2, 6, 384 // stride, 512 // stride, dtype=torch.float64,
                                                     requires_grad=True))
                           for name, stride in [("0", 8), ("1", 16), ("2", 32), ("pool", 64)])
    boxes = [random_rois(60, 1, 384, 512, seed, reach=2.0)[:, 1:].clamp(min=0).double() for seed in (1, 2)]
    ours = MatmulMultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)(features, boxes, image_shapes)
    pooler = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)
    expected = pooler(features, boxes, image_shapes)
    assert pooler.map_levels(boxes).unique().tolist() == [0, 1, 2]  # every level pools some RoIs
    torch.testing.assert_close(ours, expected)
    grads = torch.autograd.grad(ours.square().sum(), list(features.values())[:3])
    expected_grads = torch.autograd.grad(expected.square().sum(), list(features.values())[:3])
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad)


def test_detector_losses_unchanged_by_the_pooler() -> None:
    torch.manual_seed(0)
    model = build_detector(section("detector"), (64, 96))
    assert isinstance(model.roi_heads.box_roi_pool, MatmulMultiScaleRoIAlign)
    images = [torch.rand(3, 64, 96) for _ in range(2)]
    targets = [{"boxes": torch.tensor([[4.0, 6, 30, 50], [50, 10, 90, 40]]), "labels": torch.tensor([1, 3])}] * 2

    def losses() -> dict[str, torch.Tensor]:
        torch.manual_seed(1)  # the same proposal sampling
        return model(images, targets)

    ours = losses()
    model.roi_heads.box_roi_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)
    expected = losses()
    assert ours.keys() == expected.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], expected[name], atol=1e-5, rtol=1e-4)
