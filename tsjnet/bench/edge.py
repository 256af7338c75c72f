"""Edge speed: pairs/s of the path users run (`fuse_pair`: colour in Python, luminance in a runtime) on 2 CPU threads.

Issue #15 asks for ``tsjnet_lite`` at 5 pairs/s or more at 480x640 on a 2-core CPU box. Every row times
`tsjnet.registry.fuse.fuse_pair` on the same pair and weights (the shipped lite model when present, else a
random init), one process: PyTorch eager as the loaders return it (`for_inference`: channels-last, batch norms
folded, freed memory kept), the ONNX graph in ONNX Runtime (all graph optimisations, 2 intra-op threads) and in
OpenVINO's CPU plugin (fp32), each beside the dense-matmul peak measured here with the same 2 threads, and each
checked against the network as trained (plain PyTorch, no inference preparation; max difference in 8-bit grey
levels).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsjnet.bench.timing import matmul_peak_gflops, median_seconds
from tsjnet.config.data import PairSource
from tsjnet.data.msrs import open_msrs
from tsjnet.export.onnx import export_onnx
from tsjnet.export.runtime import RUNTIMES, runtime_fuser
from tsjnet.models.fusion import FusionModel
from tsjnet.models.info import model_info
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import build_fusion_model, for_inference, read_checkpoint
from tsjnet.registry.fuse import fuse_pair

MODEL = "tsjnet_lite"
THREADS = 2
TARGET_PAIRS_PER_SECOND = 5.0


def edge_pair(source: PairSource | None, height: int, width: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(description, IR, VIS): the first pair of `source` cropped to the size, else seeded noise (no data, or too small)."""
    if source is not None and Path(source.root).is_dir():
        sample = next(iter(open_msrs(source.root, names_file=source.names)))
        if sample.ir.shape[0] >= height and sample.ir.shape[1] >= width:
            return sample.name, sample.ir[:height, :width], sample.vi[:height, :width]
    rng = np.random.default_rng(0)
    return "random", rng.integers(0, 256, (height, width), np.uint8), rng.integers(0, 256, (height, width, 3), np.uint8)


def edge_benchmark(height: int, width: int, repeats: int, weights: Path | None = None,
                   source: PairSource | None = None, runtimes: tuple[str, ...] = RUNTIMES) -> dict[str, Any]:
    """The edge section: one row per runtime (pairs/s, share of the matmul peak, parity, target met)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        return _measure(height, width, repeats, weights, source, runtimes)
    finally:
        torch.set_num_threads(previous)


def _as_trained(weights: Path) -> FusionModel:
    """The checkpoint's network without the loaders' inference preparation: the parity reference."""
    state = read_checkpoint(weights)
    return build_fusion_model(state["model"], state["kwargs"], state["state_dict"])


def _measure(height: int, width: int, repeats: int, weights: Path | None, source: PairSource | None,
             runtimes: tuple[str, ...]) -> dict[str, Any]:
    trained = weights is not None and weights.is_file()
    plain = _as_trained(weights) if trained else create_model(MODEL).eval()
    model = for_inference(copy.deepcopy(plain), "cpu")
    name, ir, vi = edge_pair(source, height, width)
    peak = matmul_peak_gflops(torch.device("cpu"))
    flops = 2 * int(model_info(MODEL, height, width)["macs"])
    reference = fuse_pair(plain, ir, vi)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        graph = export_onnx(model, Path(folder) / "model.onnx") if set(runtimes) - {"torch"} else None
        for runtime in runtimes:
            fuser = model if runtime == "torch" else runtime_fuser(runtime, graph, THREADS)
            seconds = median_seconds(lambda: fuse_pair(fuser, ir, vi), torch.device("cpu"), repeats)
            gflops = flops / seconds / 1e9
            difference = np.abs(fuse_pair(fuser, ir, vi).astype(np.int16) - reference).max()
            rows.append({"runtime": runtime, "seconds": seconds, "pairs_per_second": 1 / seconds, "gflops": gflops,
                         "fraction_of_matmul_peak": gflops / peak, "max_diff_grey_levels": int(difference),
                         "meets_target": 1 / seconds >= TARGET_PAIRS_PER_SECOND})
    return {"model": MODEL, "weights": str(weights) if trained else "random init", "pair": name,
            "size": f"{height}x{width}", "threads": THREADS, "matmul_peak_gflops": peak, "gflop_per_pair": flops / 1e9,
            "target_pairs_per_second": TARGET_PAIRS_PER_SECOND, "runtimes": rows}
