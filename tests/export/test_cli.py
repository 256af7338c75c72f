"""`tsjnet export` and `tsjnet fuse --runtime`: the same --model forms as `fuse`, the same pixels within 1/255."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from tests.registry.samples import random_pair
from tsjnet.errors import DataError
from tsjnet.registry.cli import export
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.cli import fuse
from tsjnet.registry.fuse import fuse_pair


def _app(command: object) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    return app


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pair")
    ir, vi = random_pair(27, 41, seed=3)
    Image.fromarray(ir).save(root / "ir.png")
    Image.fromarray(vi).save(root / "vi.png")
    return root / "ir.png", root / "vi.png"


def test_export_command_writes_a_graph_that_fuse_runs(checkpoint: Path, pair: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(export), ["--model", str(checkpoint), "--format", "onnx",
                                               "--out", str(tmp_path / "model.onnx")])
    assert result.exit_code == 0, result.output
    assert "opset 18" in result.output and (tmp_path / "model.onnx").is_file()
    expected = fuse_pair(load_fusion_model(checkpoint, "cpu"), *random_pair(27, 41, seed=3))
    for runtime in ("onnxruntime", "openvino"):
        out = tmp_path / runtime
        result = CliRunner().invoke(_app(fuse), ["--model", str(tmp_path / "model.onnx"), "--runtime", runtime,
                                                 "--ir", str(pair[0]), "--vi", str(pair[1]), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert f"({runtime}) on cpu" in result.output
        fused = np.array(Image.open(out / "ir.png")).astype(np.int16)
        assert np.abs(fused - expected).max() <= 1


def test_fuse_with_an_onnx_runtime_exports_a_checkpoint_itself(checkpoint: Path, pair: tuple[Path, Path],
                                                                tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(fuse), ["--model", str(checkpoint), "--runtime", "onnxruntime", "--gray",
                                             "--ir", str(pair[0]), "--vi", str(pair[1]), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    expected = fuse_pair(load_fusion_model(checkpoint, "cpu"), *random_pair(27, 41, seed=3), gray=True)
    assert np.abs(np.array(Image.open(tmp_path / "ir.png")).astype(np.int16) - expected).max() <= 1


def test_bad_format_and_runtime_are_refused(checkpoint: Path, pair: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(export), ["--model", str(checkpoint), "--format", "tflite",
                                               "--out", str(tmp_path / "m.tflite")])
    assert isinstance(result.exception, DataError) and "--format 'tflite' is not supported" in str(result.exception)
    result = CliRunner().invoke(_app(fuse), ["--model", str(checkpoint), "--runtime", "tvm", "--ir", str(pair[0]),
                                             "--vi", str(pair[1]), "--out", str(tmp_path)])
    assert isinstance(result.exception, DataError) and "--runtime 'tvm' is not known" in str(result.exception)
