"""Export a fusion model's luminance step, ``fuse(ir, vi)``, as one ONNX graph for every image size.

The graph takes ``ir`` and ``vi`` float32 (1, 1, H, W) luminance in [0, 1] and returns ``fused`` (1, 1, H, W),
with H and W symbolic: one file serves every size, odd ones included. Colour stays in Python around it
(tsjnet.colour via `tsjnet.registry.fuse.fuse_pair`), so PyTorch and the runtimes share that code. The export
uses torch's dynamo exporter (torch.export + onnxscript) at `OPSET`; the model code traces without
shape-specific Python (mirror padding and neighborhood attention have export-safe forms in tsjnet.models).
Every export is checked against PyTorch with ONNX Runtime at a size the trace did not see.
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from rich.console import Console
from torch import nn

from tsjnet.errors import TsjnetError
from tsjnet.models.fusion import FusionModel

#: ONNX opset of every exported graph (ONNX Runtime >= 1.14 and OpenVINO >= 2023 run it).
OPSET = 18
INPUTS = ("ir", "vi")
OUTPUT = "fused"
#: Trace size: odd and not a multiple of any stride, so no size-specific shortcut can hide in the graph.
TRACE_SIZE = (61, 83)
#: The sizes declared to torch.export. Declared from 1, its trace stops at guards on the padded size that hold only
#: from 33 on, and torch.onnx traces the model a second time with this bound (about 26 s of the register stage for
#: tsjnet_lite); the graph is the same either way and runs at every size, 1x1 included (tests/export).
MIN_TRACED_SIDE = 33
#: Parity check size (unseen by the trace) and tolerance: well inside one 8-bit grey level.
CHECK_SIZE = (37, 45)
CHECK_TOLERANCE = 0.25 / 255


class ExportError(TsjnetError):
    """The model could not be exported, or the exported graph disagrees with PyTorch."""


class LuminanceGraph(nn.Module):
    """``forward = model.fuse``: what is exported (TSJNet's own forward also returns its attention maps)."""

    def __init__(self, model: FusionModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.model.fuse(ir, vi)


def export_onnx(model: FusionModel, path: str | Path, opset: int = OPSET) -> Path:
    """Write `model`'s luminance graph to `path` (dynamic H, W) and check it against PyTorch; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = LuminanceGraph(copy.deepcopy(model)).cpu().eval()  # the caller's model stays where it is
    height, width = (torch.export.Dim(name, min=MIN_TRACED_SIDE) for name in ("height", "width"))
    example = tuple(torch.rand(1, 1, *TRACE_SIZE) for _ in INPUTS)
    with Console(stderr=True).status(f"exporting {type(model).__name__} to ONNX (opset {opset})"):
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():  # the exporter's chatter:
                warnings.filterwarnings("ignore", message=".*axis name")  # steps on stdout, IR and VIS share H, W
                # optimize=False: onnxscript's rewriter scales with the node count (minutes for tsjnet_paper)
                # and the runtimes optimise the graph themselves (same speed and outputs, measured on tsjnet_lite)
                program = torch.onnx.export(
                    graph, example, dynamo=True, opset_version=opset, input_names=list(INPUTS),
                    output_names=[OUTPUT], dynamic_shapes={name: {2: height, 3: width} for name in INPUTS},
                    optimize=False)
                program.save(str(path))
        except Exception as error:  # torch.export / onnxscript raise many types
            raise ExportError(f"{type(model).__name__} cannot be exported to ONNX: {error}") from error
    try:
        onnx.checker.check_model(str(path))
        check_parity(graph, path)
    except Exception:
        path.unlink()
        raise
    return path


def check_parity(graph: nn.Module, path: Path) -> float:
    """Largest |ONNX Runtime - PyTorch| at `CHECK_SIZE`; an `ExportError` naming the file above tolerance."""
    from tsjnet.export.runtime import OnnxRuntimeFuser

    generator = torch.Generator().manual_seed(0)
    ir, vi = (torch.rand(1, 1, *CHECK_SIZE, generator=generator) for _ in INPUTS)
    with torch.inference_mode():
        expected = graph(ir, vi)
    difference = float((OnnxRuntimeFuser(path).fuse(ir, vi) - expected).abs().max())
    if not np.isfinite(difference) or difference > CHECK_TOLERANCE:
        raise ExportError(f"{path}: the exported graph differs from PyTorch by {difference:.3g} at "
                          f"{CHECK_SIZE[0]}x{CHECK_SIZE[1]} (tolerance {CHECK_TOLERANCE:.3g}); the file is removed, "
                          "fix the model code and export again")
    return difference
