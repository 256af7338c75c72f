"""`tsjnet export`: a fusion model as an ONNX graph for edge runtimes (registered by tsjnet.cli)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tsjnet.errors import DataError
from tsjnet.export.onnx import OPSET, export_onnx
from tsjnet.registry.cli import MODEL_HELP, WEIGHTS_HELP, load_model_option

FORMATS = ("onnx",)


def export(
    model: str = typer.Option("models:/tsjnet@champion", "--model", help=MODEL_HELP),
    out: Path = typer.Option(..., "--out", help="The graph file to write, e.g. tsjnet.onnx."),
    fmt: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
    opset: int = typer.Option(OPSET, "--opset", help="ONNX opset of the graph."),
    weights: Path | None = typer.Option(None, "--weights", help=WEIGHTS_HELP),
) -> None:
    """Export the luminance step fuse(ir, vi) with symbolic height and width; checked against PyTorch."""
    if fmt not in FORMATS:
        raise DataError(f"--format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
    path = export_onnx(load_model_option(model, weights, "cpu"), out, opset)
    Console().print(f"exported {model} -> {path} (ONNX opset {opset}; inputs ir, vi (1, 1, H, W) luminance in "
                    "[0, 1], any H, W; output fused)")
