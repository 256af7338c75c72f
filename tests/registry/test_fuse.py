"""Batch fusion of folders and single files, through the library and the `fuse` command function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from PIL import Image
from typer.testing import CliRunner

from tests.registry.samples import random_pair
from tsjnet.errors import DataError
from tsjnet.models.registry import create_model
from tests.models.release import load_seafusion_release
from tsjnet.models.seafusion_release import SeAFusionRelease
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.cli import fuse
from tsjnet.registry.fuse import fuse_folders, fuse_pair

SIZES = {"a": (20, 30), "b": (33, 17)}  # every pair keeps its own size


def pair_folders(root: Path) -> tuple[Path, Path]:
    for seed, (name, (height, width)) in enumerate(SIZES.items()):
        ir, vi = random_pair(height, width, seed)
        for folder, image in (("ir", ir), ("vi", vi)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / folder / f"{name}.png")
    return root / "ir", root / "vi"


def test_fuse_pair_colour_and_gray_match_the_rule() -> None:
    ir, vi = random_pair(10, 12)
    fused_gray = fuse_pair(create_model("classical_max"), ir, vi, gray=True)
    vi_y = np.asarray(Image.fromarray(vi).convert("L"), dtype=np.int16)
    assert fused_gray.shape == (10, 12) and fused_gray.dtype == np.uint8
    assert np.abs(fused_gray.astype(np.int16) - np.maximum(ir, vi_y)).max() <= 1  # BT.601 rounding only
    assert fuse_pair(create_model("classical_max"), ir, vi).shape == (10, 12, 3)


def test_folders_keep_native_sizes(tmp_path: Path) -> None:
    ir, vi = pair_folders(tmp_path)
    written = fuse_folders(create_model("classical_average"), ir, vi, tmp_path / "out")
    assert [path.name for path in written] == ["a.png", "b.png"]
    for path in written:
        assert np.array(Image.open(path)).shape == (*SIZES[path.stem], 3)


def test_unpaired_and_mixed_inputs_fail_clearly(tmp_path: Path) -> None:
    ir, vi = pair_folders(tmp_path)
    (vi / "b.png").unlink()
    with pytest.raises(DataError, match="unpaired images: 1 name"):
        fuse_folders(create_model("classical_average"), ir, vi, tmp_path / "out")
    with pytest.raises(DataError, match="must both be folders"):
        fuse_folders(create_model("classical_average"), ir / "a.png", vi, tmp_path / "out")


def test_command_with_a_local_checkpoint_and_single_files(tmp_path: Path, checkpoint: Path) -> None:
    ir, vi = pair_folders(tmp_path)
    app = typer.Typer()
    app.command()(fuse)
    result = CliRunner().invoke(app, ["--model", str(checkpoint), "--ir", str(ir / "b.png"), "--vi", str(vi / "b.png"),
                                      "--out", str(tmp_path / "out"), "--gray", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "fused 1 pair(s)" in result.output
    expected = fuse_pair(load_fusion_model(checkpoint, "cpu"), *random_pair(*SIZES["b"], seed=1), gray=True)
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "out" / "b.png")), expected)


def test_command_with_a_registered_model_and_a_weights_file(tmp_path: Path) -> None:
    ir, vi = pair_folders(tmp_path)
    weights = tmp_path / "SeAFusion.pth"
    torch.save(SeAFusionRelease().state_dict(), weights)
    app = typer.Typer()
    app.command()(fuse)
    result = CliRunner().invoke(app, ["--model", "seafusion_release", "--weights", str(weights), "--ir", str(ir),
                                      "--vi", str(vi), "--out", str(tmp_path / "out"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "fused 2 pair(s)" in result.output
    expected = fuse_pair(load_seafusion_release(weights, "cpu"), *random_pair(*SIZES["a"], seed=0))
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "out" / "a.png")), expected)
    result = CliRunner().invoke(app, ["--model", "nope", "--weights", str(weights), "--ir", str(ir), "--vi", str(vi),
                                      "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, DataError) and "unknown model 'nope'" in str(result.exception)
