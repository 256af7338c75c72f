"""The benchmark suite behind `tsjnet bench`: every figure measured in one process, written as JSON + Markdown."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from tsjnet.bench.attention import attention_benchmark
from tsjnet.bench.edge import THREADS, edge_benchmark
from tsjnet.bench.fusion import fusion_latency
from tsjnet.bench.pipeline import pipeline_benchmark
from tsjnet.bench.quality import fusion_quality, open_ivf_dev
from tsjnet.bench.real_pairs import real_pair_quality
from tsjnet.bench.report import write_results
from tsjnet.bench.serving import serving_load
from tsjnet.bench.timing import matmul_peak_gflops
from tsjnet.bench.training import train_step_benchmark
from tsjnet.config import load_params
from tsjnet.metrics.benchmark import benchmark_metrics
from tsjnet.models.seafusion_release import DEFAULT_WEIGHTS as SEAFUSION_RELEASE

FUSION_METHODS = ("tsjnet_paper", "tsjnet_lite", "seafusion", "classical_average", "classical_max",
                  "classical_laplacian")
console = Console()


def fusion_methods(release_weights: Path) -> dict[str, Path | None]:
    """The latency rows as model -> weights file (None: built by name), the released SeAFusion only if present.

    Ours, the baseline and the rules always; the authors' SeAFusion when `release_weights` is there, since it is
    never required (a user's clone has no ../shared/peers).
    """
    release = {"seafusion_release": release_weights} if release_weights.is_file() else {}
    return {**dict.fromkeys(FUSION_METHODS), **release}


def _devices() -> list[torch.device]:
    return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def run_benchmarks(out_dir: Path, repeats: int, height: int, width: int, natten_cpu: bool,
                   pipeline: bool, params_path: str, quality: tuple[Path, int] | None = None,
                   release_weights: Path = Path(SEAFUSION_RELEASE), real_pairs: bool = False,
                   serving: tuple[int, int, Path | None] | None = None) -> dict[str, Any]:
    """Run every benchmark; `repeats` applies to the fast models (paper on CPU uses 2 after one warm-up).

    `quality` = (ivf-dev's MSRS folder, Adam steps per network) adds the lite-vs-SeAFusion fusion quality
    section (tsjnet.bench.quality); its data is opened first, so a wrong path fails before minutes of timing.
    `release_weights` (default: from the project root) adds a latency row for the released SeAFusion if present.
    `real_pairs` adds the real-pair quality of the shipped model and of the pipeline's `train.out`
    (tsjnet.bench.real_pairs). `serving` = (requests, clients, ivf-dev's MSRS folder or None) adds a load run
    against `mlflow models serve` of `register.checkpoint` at `height` x `width` (tsjnet.bench.serving).
    """
    quality_data = (open_ivf_dev(quality[0]), quality[1]) if quality else None
    cpu_threads = torch.get_num_threads()
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
                   f"{cpu_threads} threads" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
        "matmul_peak": [], "fusion_latency": [], "neighborhood_attention": [], "train_step": [],
    }
    for device in _devices():
        console.print(f"[bold]matmul peak on {device.type}")
        peak = matmul_peak_gflops(device)
        results["matmul_peak"].append({"device": device.type, "gflops": peak})
        for name, weights in fusion_methods(release_weights).items():
            console.print(f"fusion latency {name} on {device.type}")
            slow = name == "tsjnet_paper" and device.type == "cpu"
            results["fusion_latency"].append(
                fusion_latency(name, height, width, device, 2 if slow else repeats, peak, weights))
        console.print(f"neighborhood attention on {device.type}")
        results["neighborhood_attention"].append(attention_benchmark(device, repeats, natten_cpu))
    params = load_params(params_path)
    console.print("joint training step (cpu profile)")
    results["train_step"].append(train_step_benchmark("tsjnet_lite", params, 2, 128, 128, torch.device("cpu"), repeats))
    if torch.cuda.is_available():
        paper = load_params(params_path, ["profile=paper"])
        results["train_step"].append(train_step_benchmark(
            "tsjnet_paper", paper, 2, 480, 640, torch.device("cuda"), repeats))
    console.print("fusion metrics (one 480x640 pair, this process's threads)")
    metrics = benchmark_metrics(height, width, repeats=repeats)
    results["fusion_metrics"] = {"size": f"{height}x{width}", "total_seconds": metrics["total_seconds"],
                                 **{f"{k}_s": v for k, v in metrics["seconds"].items()}}
    console.print(f"[bold]edge: pairs/s of the user path (fuse_pair) on {THREADS} threads, torch / onnxruntime / openvino")
    results["edge"] = edge_benchmark(height, width, repeats, Path(params.shipped.out), params.shipped.val_pairs)
    if quality_data:
        (train_pairs, val_pairs), steps = quality_data
        console.print(f"[bold]fusion quality on ivf-dev: lite vs SeAFusion, {steps} Adam steps each")
        results["fusion_quality_ivf_dev"] = fusion_quality(train_pairs, val_pairs, params, steps)
    if real_pairs:
        console.print("[bold]real-pair quality: the shipped model and the pipeline's model against the references")
        results["real_pairs"] = real_pair_quality(params, Path(params.train.out), torch.device("cpu"))
    if serving:
        console.print(f"[bold]serving: {serving[0]} requests from {serving[1]} clients to mlflow models serve")
        results["serving"] = serving_load(params.register, *serving[:2], height, width, serving[2])
    if pipeline:
        console.print("pipeline: tsjnet repro --force, then a no-op dvc repro")
        results["pipeline"] = pipeline_benchmark(force=True)
    write_results(results, out_dir / "bench.json", out_dir / "bench.md")
    return results
