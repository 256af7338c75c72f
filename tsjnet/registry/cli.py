"""`tsjnet fuse` (folders, with a registered model or a local checkpoint, in PyTorch or an edge runtime) and
`tsjnet export` (a fusion model as an ONNX graph); both registered by tsjnet.cli."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.console import Console

from tsjnet.errors import DataError
from tsjnet.export.onnx import OPSET
from tsjnet.export.runtime import RUNTIMES, runtime_fuser
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.checkpoint import load_model, resolve_device
from tsjnet.registry.fuse import LuminanceFuser, fuse_folders

MODEL_HELP = ("models:/name@alias, runs:/ID/fusion, a local checkpoint path, or with --weights a registered model "
              "name.")
WEIGHTS_HELP = ("A plain state dict for the registered model named by --model, e.g. --model seafusion_release "
                "--weights SeAFusion.pth.")


def onnx_graph(model: str, weights: Path | None, folder: Path) -> Path:
    """The ONNX graph for `--model`: the file itself (``*.onnx``), the graph attached to a registered version, or
    else the model exported into `folder` (tsjnet.export.onnx)."""
    from tsjnet.export.artifact import registered_onnx  # MLflow loads only when a graph is looked up
    from tsjnet.export.onnx import export_onnx

    if model.endswith(".onnx"):
        return Path(model)
    attached = None if weights else registered_onnx(model, folder)
    return attached or export_onnx(load_model(model, weights, "cpu"), folder / "model.onnx")


def fuse(
    model: str = typer.Option("models:/tsjnet@champion", "--model",
                              help=f"{MODEL_HELP} With an ONNX --runtime also an exported .onnx file."),
    ir: Path = typer.Option(..., "--ir", help="Infrared folder (pairs matched by file stem) or one image file."),
    vi: Path = typer.Option(..., "--vi", help="Visible folder or one image file (same size as its IR partner)."),
    out: Path = typer.Option(..., "--out", help="Output folder: <stem>.png per pair."),
    gray: bool = typer.Option(False, "--gray", help="Write the fused luminance instead of colour."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when available), cpu, cuda, cuda:1 ... "
                               "(torch runtime; the ONNX runtimes run on the CPU)"),
    weights: Path | None = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    runtime: str = typer.Option("torch", "--runtime", help=f"One of {', '.join(RUNTIMES)}: the same outputs within "
                                "1/255; onnxruntime/openvino run the version's attached ONNX graph, or export one."),
) -> None:
    """Fuse IR/VIS pairs at their native size with a registered or local fusion model."""
    if runtime not in RUNTIMES:
        raise DataError(f"--runtime {runtime!r} is not known; choose one of {', '.join(RUNTIMES)}")
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        fusion: FusionModel | LuminanceFuser = (load_model(model, weights, device) if runtime == "torch"
                                                else runtime_fuser(runtime, onnx_graph(model, weights, Path(folder))))
    written = fuse_folders(fusion, ir, vi, out, gray=gray)
    where = resolve_device(device) if runtime == "torch" else "cpu"
    console.print(f"fused {len(written)} pair(s) with {model} ({runtime}) on {where} -> {out}")


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
    from tsjnet.export.onnx import export_onnx

    path = export_onnx(load_model(model, weights, "cpu"), out, opset)
    Console().print(f"exported {model} -> {path} (ONNX opset {opset}; inputs ir, vi (1, 1, H, W) luminance in "
                    "[0, 1], any H, W; output fused)")
