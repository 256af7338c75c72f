"""RoIAlign as two small matrix products per image, for the detectors' box head on the CPU.

torchvision's CPU RoIAlign backward walks every RoI, channel, bin and sample point one at a time on one thread:
it was 26% of a detector training step on 2 cores (profiled on SynthScenes' 192x256 images), and the task
losses and the evaluation's judges pay it again. RoIAlign's bilinear sampling is separable, so one RoI's
pooled map is ``Wy @ F @ Wx^T`` with sparse row weights ``Wy`` (bins x H) and ``Wx`` (bins x W); as dense
products both directions run in BLAS. Same numbers as ``torchvision.ops.roi_align(..., aligned=False)`` up to
float rounding (tests/tasks/test_roi_align.py); CUDA tensors, TorchScript tracing and adaptive sampling
(``sampling_ratio <= 0``) keep torchvision's kernel.
"""

from __future__ import annotations

import torch
import torchvision
from torch import Tensor
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.poolers import _convert_to_roi_format, _filter_input, _setup_scales


def _axis_weights(start: Tensor, length: Tensor, bins: int, samples: int, size: int) -> Tensor:
    """(n, bins, size): each bin's mean bilinear weight over `samples` points along one axis, zero outside
    [-1, size] and clamped to the border inside it, as torchvision's kernel samples."""
    steps = (torch.arange(bins * samples, dtype=start.dtype, device=start.device) + 0.5) / samples
    pos = start[:, None] + steps[None] * (length / bins)[:, None]
    valid = ((pos >= -1) & (pos <= size)).to(start.dtype)
    pos = pos.clamp(min=0)
    low = pos.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = (pos - low.to(start.dtype)).clamp(max=1) * (low < size - 1).to(start.dtype)
    weights = torch.zeros(pos.shape + (size,), dtype=start.dtype, device=start.device)
    weights.scatter_add_(2, low[..., None], ((1 - frac) * valid)[..., None])
    weights.scatter_add_(2, high[..., None], (frac * valid)[..., None])
    return weights.view(-1, bins, samples, size).mean(2)


def roi_align_matmul(features: Tensor, rois: Tensor, output_size: tuple[int, int], spatial_scale: float,
                     sampling_ratio: int) -> Tensor:
    """``torchvision.ops.roi_align(features, rois, output_size, spatial_scale, sampling_ratio)`` (not
    aligned) for (K, 5) `rois` rows ``[image index, x1, y1, x2, y2]``; `sampling_ratio` must be positive."""
    if sampling_ratio <= 0:
        raise ValueError(f"roi_align_matmul needs a fixed sampling_ratio > 0, got {sampling_ratio}")
    _, channels, height, width = features.shape
    bins_h, bins_w = output_size
    x1, y1, x2, y2 = (rois[:, 1:] * spatial_scale).unbind(1)
    rows = _axis_weights(y1, (y2 - y1).clamp(min=1.0), bins_h, sampling_ratio, height)
    cols = _axis_weights(x1, (x2 - x1).clamp(min=1.0), bins_w, sampling_ratio, width)
    image_of = rois[:, 0].long()
    order, parts = [], []
    for image in image_of.unique().tolist():
        idx = (image_of == image).nonzero().squeeze(1)
        n = idx.numel()
        # (n*bins_h, H) @ (H, C*W), then per RoI (bins_h*C, W) @ (W, bins_w)
        by_rows = (rows[idx].reshape(n * bins_h, height)
                   @ features[image].transpose(0, 1).reshape(height, channels * width))
        by_both = torch.bmm(by_rows.view(n, bins_h * channels, width), cols[idx].transpose(1, 2))
        order.append(idx)
        parts.append(by_both.view(n, bins_h, channels, bins_w).transpose(1, 2))
    if not parts:
        return features.new_zeros((0, channels, bins_h, bins_w))
    return _in_roi_order(order, parts)


def _in_roi_order(order: list[Tensor], parts: list[Tensor]) -> Tensor:
    """The rows of `parts` (RoIs `order[i]` each) put back in RoI order with one gather."""
    return torch.cat(parts)[torch.argsort(torch.cat(order))]


class MatmulMultiScaleRoIAlign(MultiScaleRoIAlign):
    """`MultiScaleRoIAlign` (same levels, scales and outputs) pooling with `roi_align_matmul` on the CPU."""

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> Tensor:
        features = _filter_input(x, self.featmap_names)
        if features[0].is_cuda or self.sampling_ratio <= 0 or torchvision._is_tracing():
            return super().forward(x, boxes, image_shapes)
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(features, image_shapes, self.canonical_scale,
                                                         self.canonical_level)
        rois = _convert_to_roi_format(boxes)
        if len(features) == 1:
            return roi_align_matmul(features[0], rois, self.output_size, self.scales[0], self.sampling_ratio)
        levels = self.map_levels(boxes)
        order, parts = [], []
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            idx = torch.where(levels == level)[0]
            order.append(idx)
            parts.append(roi_align_matmul(feature, rois[idx], self.output_size, scale, self.sampling_ratio))
        return _in_roi_order(order, parts)
