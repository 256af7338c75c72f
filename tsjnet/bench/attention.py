"""Neighborhood attention: our backend (forward, forward+backward) against natten's forward on the same input."""

from __future__ import annotations

import time

import torch

from tsjnet.bench.timing import median_seconds
from tsjnet.models.attention import neighborhood_attention

SHAPE = (1, 120, 160, 4, 16)
KERNEL = 7


def _inputs(device: torch.device, grad: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(SHAPE, generator=generator).to(device).requires_grad_(grad) for _ in range(3))


def attention_benchmark(device: torch.device, repeats: int, with_natten_cpu: bool) -> dict[str, object]:
    """Ours forward and forward+backward; natten's forward on CPU (minutes, optional) or on CUDA."""
    q, k, v = _inputs(device, grad=False)
    result: dict[str, object] = {"shape": list(SHAPE), "kernel": KERNEL, "device": device.type}
    with torch.no_grad():
        result["ours_forward_s"] = median_seconds(lambda: neighborhood_attention(q, k, v, KERNEL), device, repeats)
    qg, kg, vg = _inputs(device, grad=True)
    result["ours_forward_backward_s"] = median_seconds(
        lambda: neighborhood_attention(qg, kg, vg, KERNEL).sum().backward(), device, repeats)
    if device.type == "cuda" or with_natten_cpu:
        import natten

        with torch.no_grad():
            start = time.perf_counter()
            reference = natten.na2d(q, k, v, kernel_size=KERNEL)
            result["natten_forward_s"] = time.perf_counter() - start
            result["max_abs_difference"] = float((reference - neighborhood_attention(q, k, v, KERNEL)).abs().max())
        result["speedup_vs_natten"] = result["natten_forward_s"] / result["ours_forward_s"]
    return result
