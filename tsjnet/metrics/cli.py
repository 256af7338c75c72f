"""`tsjnet evaluate`: fusion metrics of a fused folder against its IR/VIS sources (registered by tsjnet.cli)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tsjnet.metrics.evaluate import evaluate_folders
from tsjnet.metrics.report import metrics_table, write_csv, write_json


def evaluate(
    ir: Path = typer.Option(..., "--ir", help="Folder of infrared source images."),
    vi: Path = typer.Option(..., "--vi", help="Folder of visible source images (RGB becomes BT.601 gray)."),
    fused: Path = typer.Option(..., "--fused", help="Folder of fused images; file stems must match the sources."),
    json_out: Path | None = typer.Option(None, "--json", help="Write {mean, per_image} here as JSON."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write one row per image plus a mean row here."),
) -> None:
    """Compute EN, SD, SF, AG, MI, MSE, PSNR, CC, SCD, SSIM, VIF, Qabf and CV (docs/metrics.md)."""
    result = evaluate_folders(ir, vi, fused)
    console = Console()
    console.print(metrics_table(result["mean"], title=f"Fusion metrics: {fused} ({len(result['per_image'])} images)"))
    if json_out is not None:
        console.print(f"wrote {write_json(result, json_out)}")
    if csv_out is not None:
        console.print(f"wrote {write_csv(result, csv_out)}")
