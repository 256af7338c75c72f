"""The benchmark suite behind `tsjnet bench`: every figure measured in one process, written as JSON + Markdown.

`--only SECTION` re-measures named sections of an existing report (say `real_pairs` after a new shipped model)
and keeps the rest; each re-measured section names the machine, date and commit it was measured on, since the
report's machine line is the full run's."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
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
from tsjnet.bench.sections import BenchSection
from tsjnet.bench.serving import serving_load
from tsjnet.bench.timing import matmul_peak_gflops
from tsjnet.bench.training import detector_step_benchmark, train_step_benchmark
from tsjnet.config import Params, load_params
from tsjnet.data import PairDataset
from tsjnet.errors import TsjnetError
from tsjnet.metrics.benchmark import benchmark_metrics
from tsjnet.models.seafusion_release import DEFAULT_WEIGHTS as SEAFUSION_RELEASE
from tsjnet.reports import BenchReport
from tsjnet.tracking import git_commit

FUSION_METHODS = ("tsjnet_paper", "tsjnet_lite", "tsjnet_lite_detail", "seafusion", "classical_average",
                  "classical_max", "classical_laplacian")
console = Console()
#: A report section after the timing tables: what it measures (printed when it starts) and how.
Section = tuple[str, Callable[[], dict[str, Any]]]


def fusion_methods(release_weights: Path) -> dict[str, Path | None]:
    """The latency rows as model -> weights file (None: built by name), the released SeAFusion only if present.

    Ours, the baseline and the rules always; the authors' SeAFusion when `release_weights` is there, since it is
    never required (a user's clone has no ../shared/peers).
    """
    release = {"seafusion_release": release_weights} if release_weights.is_file() else {}
    return {**dict.fromkeys(FUSION_METHODS), **release}


def _devices() -> list[torch.device]:
    return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def machine() -> str:
    """This machine as the report names it: processor, CPUs, torch build, threads and GPU if any."""
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads{gpu}")


def section_runners(params: Params, height: int, width: int, repeats: int,
                    quality: tuple[tuple[PairDataset, PairDataset], int] | None, real_pairs: bool,
                    serving: tuple[int, int, Path | None] | None, pipeline: bool) -> dict[str, Section]:
    """The sections after the timing tables, in report order, each as (what it measures, how): those asked for."""
    def fusion_metrics() -> dict[str, Any]:
        metrics = benchmark_metrics(height, width, repeats=repeats)
        return {"size": f"{height}x{width}", "total_seconds": metrics["total_seconds"],
                **{f"{k}_s": v for k, v in metrics["seconds"].items()}}

    runners: dict[str, Section] = {
        BenchSection.fusion_metrics: (f"fusion metrics (one {height}x{width} pair, this process's threads)",
                                      fusion_metrics),
        BenchSection.edge: (f"[bold]edge: pairs/s of the user path (fuse_pair) on {THREADS} threads, torch / "
                            "onnxruntime / openvino", lambda: edge_benchmark(
                                height, width, repeats, Path(params.shipped.out), params.shipped.val_pairs)),
        BenchSection.detector_step: ("detector training step: our RoI pooling and RPN NMS vs torchvision's (cpu)",
                                     lambda: detector_step_benchmark(params, repeats)),
    }
    if quality:
        (train_pairs, val_pairs), steps = quality
        runners[BenchSection.fusion_quality_ivf_dev] = (
            f"[bold]fusion quality on ivf-dev: lite vs SeAFusion, {steps} Adam steps each",
            lambda: fusion_quality(train_pairs, val_pairs, params, steps))
    if real_pairs:
        runners[BenchSection.real_pairs] = (
            "[bold]real-pair quality: the shipped model and the pipeline's model against the references",
            lambda: real_pair_quality(params, Path(params.train.out), torch.device("cpu")))
    if serving:
        runners[BenchSection.serving] = (
            f"[bold]serving: {serving[0]} requests from {serving[1]} clients to mlflow models serve",
            lambda: serving_load(params.register, *serving[:2], height, width, serving[2]))
    if pipeline:
        runners[BenchSection.pipeline] = ("pipeline: tsjnet repro --force, then a no-op dvc repro",
                                          lambda: pipeline_benchmark(force=True))
    return runners


def run_benchmarks(out_dir: Path, repeats: int, height: int, width: int, natten_cpu: bool,
                   pipeline: bool, params_path: str, quality: tuple[Path, int] | None = None,
                   release_weights: Path = Path(SEAFUSION_RELEASE), real_pairs: bool = False,
                   serving: tuple[int, int, Path | None] | None = None,
                   only: Sequence[str] = ()) -> dict[str, Any]:
    """Run every benchmark; `repeats` applies to the fast models (paper on CPU uses 2 after one warm-up).

    `quality` = (ivf-dev's MSRS folder, Adam steps per network) adds the lite-vs-SeAFusion fusion quality
    section (tsjnet.bench.quality); its data is opened first, so a wrong path fails before minutes of timing.
    `release_weights` (default: from the project root) adds a latency row for the released SeAFusion if present.
    `real_pairs` adds the real-pair quality of the shipped model and of the pipeline's `train.out`
    (tsjnet.bench.real_pairs). `serving` = (requests, clients, ivf-dev's MSRS folder or None) adds a load run
    against `mlflow models serve` of `register.checkpoint` at `height` x `width` (tsjnet.bench.serving).
    `only` (`BenchSection` names, each also switched on by its own argument) re-measures just those sections of
    the report already in `out_dir` (`refresh_sections`).
    """
    quality_data = (open_ivf_dev(quality[0]), quality[1]) if quality else None
    params = load_params(params_path)
    runners = section_runners(params, height, width, repeats, quality_data, real_pairs, serving, pipeline)
    if only:
        return refresh_sections(out_dir, only, runners)
    results: dict[str, Any] = {"machine": machine(), "matmul_peak": [], "fusion_latency": [],
                               "neighborhood_attention": [], "train_step": []}
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
    console.print("joint training step (cpu profile)")
    results["train_step"].append(train_step_benchmark("tsjnet_lite", params, 2, 128, 128, torch.device("cpu"), repeats))
    if torch.cuda.is_available():
        paper = load_params(params_path, ["profile=paper"])
        results["train_step"].append(train_step_benchmark(
            "tsjnet_paper", paper, 2, 480, 640, torch.device("cuda"), repeats))
    for name, (title, run) in runners.items():
        console.print(title)
        results[str(name)] = run()
    write_results(results, out_dir / "bench.json", out_dir / "bench.md")
    return results


def refresh_sections(out_dir: Path, only: Sequence[str], runners: dict[str, Section]) -> dict[str, Any]:
    """Re-measure the `only` sections of `out_dir`'s report, keep every other section as it was.

    Each re-measured section gets ``measured_on`` (machine, UTC date, commit): the report's machine line stays
    the full run's, whose timings a section measured elsewhere must not be read against.
    """
    json_path = out_dir / "bench.json"
    results = BenchReport.read(json_path).model_dump(exclude_unset=True)
    unknown = [name for name in only if name not in runners]
    if unknown:
        raise TsjnetError(f"tsjnet bench --only {', '.join(unknown)}: not a section it can re-measure here; "
                          f"choose from {', '.join(BenchSection)} (with the data/flags that section needs)")
    stamp = f"{machine()}; {datetime.now(UTC):%Y-%m-%d}; commit {git_commit()[:12]}"
    for name in only:
        title, run = runners[name]
        console.print(title)
        results[str(name)] = {**run(), "measured_on": stamp}
    write_results(results, json_path, out_dir / "bench.md")
    return results
