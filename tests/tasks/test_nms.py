import numpy as np
import pytest
import torch
from torchvision.models.detection.rpn import RegionProposalNetwork
from torchvision.ops import batched_nms, box_iou

from tests.params import section
from tsjnet.tasks.detector import build_detector
from tsjnet.tasks.nms import TopKRegionProposalNetwork, _float32_below, batched_nms_top_k, rebuild_rpn


def clustered_boxes(n: int, classes: int, seed: int, tied_scores: bool = False):
    """Boxes crowded around a few centres (so NMS suppresses a lot), their scores and class ids."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.rand(12, 2, generator=gen) * 300
    centre = centres[torch.randint(0, 12, (n,), generator=gen)] + torch.randn(n, 2, generator=gen) * 6
    size = torch.rand(n, 2, generator=gen) * 30 + 8
    boxes = torch.cat([centre - size / 2, centre + size / 2], dim=1)
    scores = torch.rand(n, generator=gen)
    if tied_scores:
        scores = (scores * 8).round() / 8
    return boxes, scores, torch.randint(0, classes, (n,), generator=gen)


def greedy_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, threshold: float, k: int) -> list:
    """Greedy NMS by its definition: boxes by descending score (equal scores in index order), each kept unless a
    kept box of its class overlaps it by more than `threshold`."""
    iou = box_iou(boxes, boxes)
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: -float(scores[i])):
        if all(classes[j] != classes[i] or iou[i, j] <= threshold for j in kept):
            kept.append(i)
        if len(kept) == k:
            break
    return kept


# 600 boxes x 4 coordinates: torchvision offsets the classes apart; 3000: it runs NMS class by class.
@pytest.mark.parametrize("n", [600, 3000])
@pytest.mark.parametrize("k, block", [(300, 192), (100, 16), (40, 7), (1, 192)])
def test_first_k_of_torchvisions_nms(n: int, k: int, block: int) -> None:
    for seed in range(3):
        boxes, scores, classes = clustered_boxes(n, 5, seed)
        expected = batched_nms(boxes, scores, classes, 0.7)[:k]
        assert len(expected) == k  # enough survivors, so the early stop is what is tested
        assert torch.equal(batched_nms_top_k(boxes, scores, classes, 0.7, k, block=block), expected)


@pytest.mark.parametrize("k, block", [(200, 192), (60, 9)])
def test_equal_scores_in_index_order(k: int, block: int) -> None:
    boxes, scores, classes = clustered_boxes(600, 5, 0, tied_scores=True)
    assert batched_nms_top_k(boxes, scores, classes, 0.7, k, block=block).tolist() == greedy_nms(
        boxes, scores, classes, 0.7, k)


def test_when_k_reaches_the_survivors_and_when_nothing_is_asked() -> None:
    boxes, scores, classes = clustered_boxes(200, 3, 0)
    every = batched_nms(boxes, scores, classes, 0.5)
    assert torch.equal(batched_nms_top_k(boxes, scores, classes, 0.5, len(every) + 50, block=8), every)
    assert torch.equal(batched_nms_top_k(boxes, scores, classes, 0.5, 150), every[:150])  # torchvision's own path
    assert batched_nms_top_k(boxes, scores, classes, 0.5, 0).numel() == 0
    assert batched_nms_top_k(boxes[:0], scores[:0], classes[:0], 0.5, 10).numel() == 0


@pytest.mark.parametrize("threshold", [0.7, 0.5, 0.3, 1 / 3])
def test_threshold_compares_as_torchvisions_kernel_in_double(threshold: float) -> None:
    below = np.float32(_float32_below(threshold))
    near = np.array([np.nextafter(below, np.float32(0)), below, np.nextafter(below, np.float32(1)),
                     np.nextafter(np.nextafter(below, np.float32(1)), np.float32(1))], dtype=np.float32)
    assert ((near.astype(np.float64) > threshold) == (near > below)).all()


@pytest.mark.parametrize("training", [True, False])
def test_detector_proposals_are_torchvisions(training: bool) -> None:
    torch.manual_seed(0)
    model = build_detector(section("detector"), (96, 128)).train(training)
    assert isinstance(model.rpn, TopKRegionProposalNetwork)
    image_list, _ = model.transform([torch.rand(3, 96, 128) for _ in range(2)])
    features = list(model.backbone(image_list.tensors).values())
    anchors = model.rpn.anchor_generator(image_list, features)
    per_level = [anchors_per_cell * f.shape[-2] * f.shape[-1]
                 for anchors_per_cell, f in zip(model.rpn.anchor_generator.num_anchors_per_location(), features)]
    # a trained RPN's spread of scores (an untrained one's crowd around 0.5 and tie; see batched_nms_top_k)
    objectness = torch.logit((torch.cat([torch.randperm(sum(per_level)) for _ in range(2)]) + 0.5) / sum(per_level))
    objectness = objectness[:, None]
    for scores in torch.sigmoid(objectness).view(2, -1):
        assert scores.unique().numel() == scores.numel()
    proposals = model.rpn.box_coder.decode(torch.randn(2 * sum(per_level), 4) * 0.3, anchors).view(2, -1, 4)
    ours = model.rpn.filter_proposals(proposals, objectness, image_list.image_sizes, per_level)
    expected = RegionProposalNetwork.filter_proposals(model.rpn, proposals, objectness, image_list.image_sizes,
                                                      per_level)
    for got, want in zip(ours[0] + ours[1], expected[0] + expected[1]):
        assert torch.equal(got, want)
    assert len(ours[0][0]) == model.rpn.post_nms_top_n()  # the cap, not every survivor
    model.rpn = rebuild_rpn(model.rpn, RegionProposalNetwork)  # torchvision's RPN: the same parameters and buffers
    assert model.state_dict().keys() == build_detector(section("detector"), (96, 128)).state_dict().keys()
