"""Region proposals whose non-maximum suppression stops once it has kept the proposals the RPN uses.

torchvision's RPN suppresses all of an image's candidates (about 4000 with our anchors: up to `pre_nms_top_n` per
FPN level), keeps about 90% of them, and then uses only the first `post_nms_top_n` (300 in training, 100 in
evaluation). On the CPU that NMS, one box against the rest at a time on one thread, was a sixth of a detector
training step. Greedy NMS decides each box from the boxes kept before it, so the first k kept boxes depend only on
the candidates up to the k-th kept one: `batched_nms_top_k` walks the score order in blocks and stops there.
Its IoU is torchvision's CPU kernel's, same float operations in the same order (on the same offset boxes when
torchvision offsets the classes apart), so the kept indices are torchvision's, in its order (for equal scores, see
`batched_nms_top_k`).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
import torchvision
from torch import Tensor
from torchvision.models.detection.rpn import RegionProposalNetwork
from torchvision.ops import boxes as box_ops

#: torchvision's batched_nms on the CPU offsets the classes apart up to this many coordinates and runs NMS per
#: class above it (`torchvision.ops.boxes.batched_nms`); we compute IoU on the same boxes it does.
COORDINATE_TRICK_MAX_NUMEL = 4000
#: Candidates whose IoU is computed at once. A block's IoU matrix costs block^2 and the 300th kept proposal is
#: about the 340th candidate; on the proposals of our trained detectors (about 4200 boxes per image in training,
#: 2500 in evaluation) blocks of 128 to 384 took 1.4 to 1.8 ms per image, torchvision's NMS 22.6 ms.
BLOCK = 192


def _overlaps(a: Tensor, b: Tensor, iou_threshold: float) -> Tensor:
    """(len(a), len(b)) bool, IoU > `iou_threshold`: torchvision's CPU NMS kernel's arithmetic, vectorised (the
    same float32 operations in the same order; the kernel compares in double, `_float32_below` keeps that)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    size = torch.minimum(a[:, None, 2:], b[None, :, 2:]).sub_(top_left).clamp_(min=0)
    inter = size[..., 0] * size[..., 1]
    union = (area_a[:, None] + area_b[None, :]).sub_(inter)
    return inter.div_(union) > _float32_below(iou_threshold)


def _float32_below(value: float) -> float:
    """The largest float32 <= `value`: for a float32 x, ``x > value`` in double iff ``x > _float32_below(value)``."""
    single = np.float32(value)
    return float(single if float(single) <= value else np.nextafter(single, np.float32(-np.inf)))


def batched_nms_top_k(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float, k: int,
                      block: int = BLOCK) -> Tensor:
    """``torchvision.ops.batched_nms(boxes, scores, idxs, iou_threshold)[:k]``, without suppressing past the k-th kept
    box: candidates in score order, `block` at a time. Boxes with equal scores are taken in index order (a stable
    sort); above `COORDINATE_TRICK_MAX_NUMEL` torchvision's last, unstable sort may order them otherwise (sigmoid
    scores tie only where they saturate). When k is not well below the number of boxes, torchvision's NMS."""
    if boxes.numel() == 0 or k <= 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    if 2 * k >= len(boxes):
        return box_ops.batched_nms(boxes, scores, idxs, iou_threshold)[:k]
    if boxes.numel() <= COORDINATE_TRICK_MAX_NUMEL:
        boxes = boxes + (idxs.to(boxes) * (boxes.max() + torch.tensor(1).to(boxes)))[:, None]
    order = torch.sort(scores, descending=True, stable=True).indices
    kept: list[Tensor] = []
    count = 0
    for start in range(0, len(order), block):
        candidates = order[start:start + block]
        cand_boxes, cand_idxs = boxes[candidates], idxs[candidates]
        same_class = cand_idxs[:, None] == cand_idxs[None, :]
        later = torch.ones_like(same_class).triu(1)  # a kept box suppresses only the boxes after it
        clear = ~(_overlaps(cand_boxes, cand_boxes, iou_threshold) & same_class & later).numpy()
        alive = np.ones(len(candidates), dtype=bool)
        if kept:
            earlier = torch.cat(kept)
            hit = _overlaps(boxes[earlier], cand_boxes, iou_threshold) & (idxs[earlier][:, None] == cand_idxs[None, :])
            alive = ~hit.any(0).numpy()
        survivors = []
        for i in range(len(candidates)):
            if alive[i]:
                survivors.append(i)
                count += 1
                if count == k:
                    break
                alive &= clear[i]
        kept.append(candidates[survivors])
        if count == k:
            break
    return torch.cat(kept)


RPN = TypeVar("RPN", bound=RegionProposalNetwork)


def rebuild_rpn(rpn: RegionProposalNetwork, kind: type[RPN]) -> RPN:
    """A `kind` RPN with `rpn`'s settings, sharing its anchor generator and head (so the state dict is unchanged)."""
    new = kind(rpn.anchor_generator, rpn.head, rpn.proposal_matcher.high_threshold, rpn.proposal_matcher.low_threshold,
               rpn.fg_bg_sampler.batch_size_per_image, rpn.fg_bg_sampler.positive_fraction, rpn._pre_nms_top_n,
               rpn._post_nms_top_n, rpn.nms_thresh, rpn.score_thresh)
    new.min_size = rpn.min_size
    return new


class TopKRegionProposalNetwork(RegionProposalNetwork):
    """torchvision's `RegionProposalNetwork` (same weights, proposals and losses) with `batched_nms_top_k` on the
    CPU; CUDA and tracing keep torchvision's NMS. `rebuild_rpn(rpn, TopKRegionProposalNetwork)` makes one."""

    def filter_proposals(self, proposals: Tensor, objectness: Tensor, image_shapes: list[tuple[int, int]],
                         num_anchors_per_level: list[int]) -> tuple[list[Tensor], list[Tensor]]:
        """torchvision's steps (top-n per level, clip, drop small and low-scoring boxes, NMS per level, first
        `post_nms_top_n`), with the NMS stopping at that count."""
        if proposals.is_cuda or torchvision._is_tracing():
            return super().filter_proposals(proposals, objectness, image_shapes, num_anchors_per_level)
        num_images = proposals.shape[0]
        objectness = objectness.detach().reshape(num_images, -1)
        levels = torch.cat([torch.full((n,), level, dtype=torch.int64) for level, n in enumerate(num_anchors_per_level)])
        top_n = self._get_top_n_idx(objectness, num_anchors_per_level)
        rows = torch.arange(num_images)[:, None]
        levels = levels.reshape(1, -1).expand_as(objectness)[rows, top_n]
        scores_all, proposals = torch.sigmoid(objectness[rows, top_n]), proposals[rows, top_n]
        final_boxes, final_scores = [], []
        for boxes, scores, level, shape in zip(proposals, scores_all, levels, image_shapes):
            boxes = box_ops.clip_boxes_to_image(boxes, shape)
            keep = box_ops.remove_small_boxes(boxes, self.min_size)
            boxes, scores, level = boxes[keep], scores[keep], level[keep]
            keep = torch.where(scores >= self.score_thresh)[0]
            boxes, scores, level = boxes[keep], scores[keep], level[keep]
            keep = batched_nms_top_k(boxes, scores, level, self.nms_thresh, self.post_nms_top_n())
            final_boxes.append(boxes[keep])
            final_scores.append(scores[keep])
        return final_boxes, final_scores
