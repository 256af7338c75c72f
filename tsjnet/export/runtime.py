"""Run an exported luminance graph (tsjnet.export.onnx) with ONNX Runtime or OpenVINO, in place of PyTorch.

Each runtime object has the `FusionModel.fuse` signature on CPU tensors, so `tsjnet.registry.fuse.fuse_pair`
(and with it `tsjnet fuse --runtime ...`) wraps it in the very same colour handling as the PyTorch model.
Both run in fp32 with `threads` intra-op threads (default: PyTorch's, i.e. the cores it uses): OpenVINO's CPU
plugin would otherwise pick bf16 on CPUs that have it, which breaks parity with PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tsjnet.errors import DataError
from tsjnet.export.onnx import INPUTS

#: Accepted by `tsjnet fuse --runtime`; "torch" is the eager PyTorch model itself.
RUNTIMES = ("torch", "onnxruntime", "openvino")


def _inputs(ir: torch.Tensor, vi: torch.Tensor) -> dict[str, np.ndarray]:
    return {name: np.ascontiguousarray(x.detach().cpu().float().numpy()) for name, x in zip(INPUTS, (ir, vi))}


def _graph_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"ONNX graph {path} not found; write one with `tsjnet export --out {path}`")
    return path


class OnnxRuntimeFuser:
    """An ONNX Runtime CPU session: all graph optimisations, `threads` intra-op threads, one inter-op thread."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = _graph_file(path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the CPU provider warns about every fused node otherwise
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own types for corrupt or foreign files
            raise DataError(f"ONNX graph {path} cannot be loaded by ONNX Runtime ({error}); export it again with "
                            "`tsjnet export`") from None

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.from_numpy(self.session.run(None, _inputs(ir, vi))[0])


class OpenVinoFuser:
    """The graph compiled by OpenVINO's CPU plugin: fp32, latency hint, `threads` inference threads."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import openvino as ov

        path = _graph_file(path)
        config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": threads or torch.get_num_threads()}
        try:
            self.compiled = ov.Core().compile_model(str(path), "CPU", config)
        except Exception as error:  # OpenVINO raises RuntimeError with its own message
            raise DataError(f"ONNX graph {path} cannot be compiled by OpenVINO ({error}); export it again with "
                            "`tsjnet export`") from None
        self.request = self.compiled.create_infer_request()

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.from_numpy(np.array(self.request.infer(_inputs(ir, vi))[self.compiled.output(0)]))


def runtime_fuser(runtime: str, path: str | Path, threads: int | None = None) -> OnnxRuntimeFuser | OpenVinoFuser:
    """The fuser of `runtime` ("onnxruntime" or "openvino") over the graph in `path`."""
    fusers = {"onnxruntime": OnnxRuntimeFuser, "openvino": OpenVinoFuser}
    if runtime not in fusers:
        raise DataError(f"runtime {runtime!r} does not run ONNX graphs; choose one of {', '.join(fusers)}")
    return fusers[runtime](path, threads)
