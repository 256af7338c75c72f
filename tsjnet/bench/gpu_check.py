"""`python -m tsjnet.bench.gpu_check`: the CUDA checks to run as soon as a GPU machine is lent.

1. natten's fused kernels against our neighborhood attention, forward and backward (the `paper` profile turns
   NAT's relative position bias off so that CUDA runs natten's kernels: they must compute our attention);
2. one `paper`-profile joint training step (L_MFF + L_Det + L_Seg, AMP) at 480x640, with its peak memory;
3. the fused-pair latency of `tsjnet_paper` at 480x640 with natten's kernels and with ours.

Writes one JSON file and exits non-zero when parity fails. `--tiny` runs the same code on a tiny model and size
(how the CPU test exercises it; on CPU natten runs its reference path).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import natten
import torch

from tsjnet.bench.timing import median_seconds
from tsjnet.bench.training import train_step_benchmark
from tsjnet.config import load_params
from tsjnet.models.attention import neighborhood_attention
from tsjnet.models.registry import create_model

#: (height, width, kernel_size, dilation) of the parity cases: NAT-Mini's levels at 480x640 and a dilated one.
PARITY_CASES = ((120, 160, 7, 1), (60, 80, 7, 1), (30, 40, 7, 1), (15, 20, 7, 1), (60, 80, 7, 2))
TINY_CASES = ((9, 13, 3, 1), (14, 15, 5, 2))
#: Largest |natten - ours| accepted in fp32 (both are softmax attention over the same keys; sums differ in order).
TOLERANCE = 1e-3


def attention_parity(device: torch.device, cases: tuple[tuple[int, int, int, int], ...], heads: int = 4,
                     head_dim: int = 32) -> list[dict[str, Any]]:
    """Max |difference| of outputs and of q/k/v gradients, natten vs ours, per case (fp32)."""
    results = []
    for height, width, kernel, dilation in cases:
        torch.manual_seed(0)
        q, k, v = (torch.randn(1, height, width, heads, head_dim, device=device, requires_grad=True) for _ in range(3))
        zero_bias = torch.zeros(heads, 2 * kernel - 1, 2 * kernel - 1, device=device)  # a bias forces our kernel
        ours = neighborhood_attention(q, k, v, kernel, dilation, rpb=zero_bias)
        backward = device.type == "cuda"  # natten has no CPU backward
        inputs = (q, k, v) if backward else (q.detach(), k.detach(), v.detach())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # natten's CPU reference path warns that flex attention runs uncompiled
            theirs = natten.na2d(*inputs, kernel_size=kernel, dilation=dilation)
        grad = torch.randn_like(ours)
        ours_grads = torch.autograd.grad(ours, (q, k, v), grad)
        theirs_grads = torch.autograd.grad(theirs, (q, k, v), grad) if backward else ()
        errors = [float((ours - theirs).abs().max())] + [float((a - b).abs().max())
                                                        for a, b in zip(ours_grads, theirs_grads)]
        results.append({"size": f"{height}x{width}", "kernel_size": kernel, "dilation": dilation,
                        "max_abs_error": max(errors), "backward_checked": bool(theirs_grads),
                        "passed": max(errors) <= TOLERANCE})
    return results


def fused_latency(variant: str, height: int, width: int, device: torch.device, repeats: int) -> dict[str, Any]:
    """Seconds per fused pair with NAT's bias (our kernel) and without it (natten's kernels on CUDA)."""
    ir = torch.rand(1, 1, height, width, device=device)
    vi = torch.rand_like(ir)
    result: dict[str, Any] = {"model": variant, "size": f"{height}x{width}"}
    for label, bias in (("our_kernel_s", True), ("natten_s", False)):
        model = create_model(variant, nat_rel_pos_bias=bias).to(device).eval()
        with torch.inference_mode():
            result[label] = median_seconds(lambda: model.fuse(ir, vi), device, repeats)
    return result


def run_checks(device: torch.device, tiny: bool, repeats: int) -> dict[str, Any]:
    """Every check; `tiny` swaps in the tiny model, small sizes and the paper profile's settings otherwise."""
    paper = load_params(overrides=["profile=paper"])
    variant, (height, width) = ("tsjnet_tiny", (64, 64)) if tiny else ("tsjnet_paper", (480, 640))
    parity = attention_parity(device, TINY_CASES if tiny else PARITY_CASES, head_dim=16 if tiny else 32)
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
        "natten": natten.__version__, "natten_fused_kernels": bool(natten.HAS_LIBNATTEN),
        "attention_parity": parity, "passed": all(case["passed"] for case in parity),
        "train_step": train_step_benchmark(variant, paper, 2, height, width, device, repeats,
                                           model_kwargs=paper.train.model_kwargs()),
        "fused_latency": fused_latency(variant, height, width, device, repeats),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the checks, write the JSON, return 1 if natten and our attention disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("reports/gpu_check.json"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tiny", action="store_true", help="tiny model and sizes (the CPU test)")
    args = parser.parse_args(argv)
    results = run_checks(torch.device(args.device), args.tiny, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
