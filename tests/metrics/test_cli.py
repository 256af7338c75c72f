"""`tsjnet evaluate` end to end on a temporary folder, through Typer."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from tsjnet.errors import DataError
from tsjnet.metrics import METRIC_KEYS
from tsjnet.metrics.cli import evaluate


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(evaluate)
    return app


def test_evaluate_prints_a_table_and_writes_json_and_csv(triple_folders: tuple[Path, Path, Path],
                                                         tmp_path: Path) -> None:
    ir, vi, fused = triple_folders
    out_json, out_csv = tmp_path / "res" / "metrics.json", tmp_path / "res" / "metrics.csv"
    result = CliRunner().invoke(_app(), ["--ir", str(ir), "--vi", str(vi), "--fused", str(fused),
                                         "--json", str(out_json), "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    assert "Qabf" in result.output and "2 images" in result.output
    loaded = json.loads(out_json.read_text())
    assert sorted(loaded["per_image"]) == ["p1", "p2"] and list(loaded["mean"]) == list(METRIC_KEYS)
    assert out_csv.read_text().splitlines()[-1].startswith("mean,")


def test_evaluate_surfaces_data_errors(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    (ir / "p1.png").unlink()
    result = CliRunner().invoke(_app(), ["--ir", str(ir), "--vi", str(vi), "--fused", str(fused)])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError) and "p1" in str(result.exception)
