"""Timing primitives shared by every benchmark: warm-up, median of repeats, device sync, peak memory."""

from __future__ import annotations

import resource
import statistics
import time
from typing import Callable

import torch


def sync(device: torch.device) -> None:
    """Wait for queued GPU work so a wall-clock reading covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(run: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median wall time of `run()` over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """Dense fp32 matmul throughput: the practical compute ceiling the model figures are compared with."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    seconds = median_seconds(lambda: a @ b, device, repeats, warmup=2)
    return 2 * size**3 / seconds / 1e9
