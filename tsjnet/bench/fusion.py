"""Fused-pair latency of each fusion method at a given size, with MACs and achieved GFLOP/s."""

from __future__ import annotations

from pathlib import Path

import torch

from tsjnet.bench.timing import median_seconds
from tsjnet.models.info import model_info
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import load_state_dict_model


def fusion_latency(name: str, height: int, width: int, device: torch.device, repeats: int,
                   peak_gflops: float, weights: Path | None = None) -> dict[str, object]:
    """Median seconds per fused pair (batch 1, inference mode, channels-last) and the share of matmul peak.

    `weights` (a plain state dict, e.g. released by the method's authors) times the very network that is shown;
    such a row carries the model's attribution.
    """
    model = load_state_dict_model(name, weights, device) if weights else create_model(name)
    model = model.eval().to(device, memory_format=torch.channels_last)
    ir = torch.rand(1, 1, height, width, device=device).contiguous(memory_format=torch.channels_last)
    vi = torch.rand_like(ir)
    repeats = max(1, repeats)

    def run() -> torch.Tensor:
        with torch.inference_mode():
            return model.fuse(ir, vi)

    seconds = median_seconds(run, device, repeats)
    macs = int(model_info(name, height, width)["macs"])
    gflops = 2 * macs / seconds / 1e9
    return {
        "model": name, "device": device.type, "size": f"{height}x{width}", "seconds": seconds,
        "pairs_per_second": 1 / seconds, "gmacs": macs / 1e9, "gflops": gflops,
        "fraction_of_matmul_peak": gflops / peak_gflops if macs else None,
        **({"attribution": model.attribution} if weights and model.attribution else {}),
    }
