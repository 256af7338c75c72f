"""Timing of the fusion metrics on one image triple, callable from the project's benchmark suite.

Every metric here is single-threaded numpy/scipy code (element-wise ops, 1-D filters, one FFT with scipy's
default of one worker), so the time is a one-core figure; torch is limited to one thread as well in case a
caller mixes in task metrics.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from tsjnet.metrics.suite import METRIC_GROUPS, gray_triple


def synthetic_triple(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random 8-bit IR, RGB VIS and their average as the fused image (realistic cost, no data needed)."""
    rng = np.random.default_rng(seed)
    ir = rng.integers(0, 256, (height, width), dtype=np.uint8)
    vi = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return ir, vi, (ir.astype(np.float64) + vi.mean(axis=2)) / 2.0


def benchmark_metrics(height: int = 480, width: int = 640, repeats: int = 3, seed: int = 0,
                      images: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> dict[str, object]:
    """Best-of-`repeats` seconds per metric group and in total for one triple (`images` or a synthetic one)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a, b, f = gray_triple(*(images if images is not None else synthetic_triple(height, width, seed)))
        seconds: dict[str, float] = {}
        for name, group in METRIC_GROUPS.items():
            timings = []
            for _ in range(repeats):
                start = time.perf_counter()
                group(a, b, f)
                timings.append(time.perf_counter() - start)
            seconds[name] = min(timings)
    finally:
        torch.set_num_threads(previous_threads)
    return {"shape": list(f.shape), "repeats": repeats, "seconds": seconds, "total_seconds": sum(seconds.values())}
