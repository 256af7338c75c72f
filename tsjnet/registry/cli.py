"""`tsjnet fuse`: batch fusion of folders with a registered model or a local checkpoint (registered by tsjnet.cli)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tsjnet.registry.checkpoint import load_fusion_model, load_state_dict_model, resolve_device
from tsjnet.registry.fuse import fuse_folders


def fuse(
    model: str = typer.Option("models:/tsjnet@champion", "--model",
                              help="models:/name@alias, runs:/ID/fusion, a local checkpoint path, or with "
                                   "--weights a registered model name."),
    ir: Path = typer.Option(..., "--ir", help="Infrared folder (pairs matched by file stem) or one image file."),
    vi: Path = typer.Option(..., "--vi", help="Visible folder or one image file (same size as its IR partner)."),
    out: Path = typer.Option(..., "--out", help="Output folder: <stem>.png per pair."),
    gray: bool = typer.Option(False, "--gray", help="Write the fused luminance instead of colour."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when available), cpu, cuda, cuda:1 ..."),
    weights: Path | None = typer.Option(None, "--weights", help="A plain state dict for the registered model named "
                                        "by --model, e.g. --model seafusion_release --weights SeAFusion.pth."),
) -> None:
    """Fuse IR/VIS pairs at their native size with a registered or local fusion model."""
    console = Console()
    fusion = (load_state_dict_model(model, weights, resolve_device(device)) if weights
              else load_fusion_model(model, device=resolve_device(device)))
    written = fuse_folders(fusion, ir, vi, out, gray=gray)
    console.print(f"fused {len(written)} pair(s) with {model} on {resolve_device(device)} -> {out}")
