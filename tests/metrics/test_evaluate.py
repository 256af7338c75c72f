"""Folder evaluation: pairing by stem, clear errors, dataset means; a real MSRS sanity run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.metrics.conftest import textured, write_image
from tsjnet.errors import DataError
from tsjnet.metrics import METRIC_KEYS, evaluate_folders
from tsjnet.metrics.images import load_gray
from tsjnet.metrics.suite import fusion_metrics


def test_pairs_by_stem_across_extensions_and_means_per_image(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    result = evaluate_folders(ir, vi, fused, show_progress=False)
    assert set(result) == {"mean", "per_image"}
    assert sorted(result["per_image"]) == ["p1", "p2"]
    expected = fusion_metrics(load_gray(ir / "p1.png"), load_gray(vi / "p1.bmp"), load_gray(fused / "p1.png"))
    assert result["per_image"]["p1"] == pytest.approx(expected)
    for key in METRIC_KEYS:
        pair = [result["per_image"][stem][key] for stem in ("p1", "p2")]
        assert result["mean"][key] == pytest.approx(sum(pair) / 2)


def test_extra_sources_without_fused_result_are_named_not_scored(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    (fused / "p2.png").unlink()
    with pytest.warns(UserWarning, match=r"1 IR/VIS pair\(s\) have no fused image .*: p2"):
        result = evaluate_folders(ir, vi, fused, show_progress=False)
    assert list(result["per_image"]) == ["p1"]


def test_missing_partner_names_the_fused_file(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    (vi / "p2.bmp").unlink()
    with pytest.raises(DataError, match=r"p2\.png: no VIS image named 'p2'"):
        evaluate_folders(ir, vi, fused, show_progress=False)


def test_size_mismatch_names_the_file_and_the_fix(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    write_image(fused / "p1.png", textured(30, 40, seed=9))
    with pytest.raises(DataError, match=r"p1\.png: sizes differ.*source size"):
        evaluate_folders(ir, vi, fused, show_progress=False)


def test_corrupt_fused_file_is_named(triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    (fused / "p2.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"p2\.png"):
        evaluate_folders(ir, vi, fused, show_progress=False)


def test_duplicate_stems_and_missing_or_empty_folders(tmp_path: Path, triple_folders: tuple[Path, Path, Path]) -> None:
    ir, vi, fused = triple_folders
    write_image(fused / "p1.bmp", textured(32, 40, seed=1))
    with pytest.raises(DataError, match="two images named 'p1'"):
        evaluate_folders(ir, vi, fused, show_progress=False)
    with pytest.raises(DataError, match="folder not found"):
        evaluate_folders(tmp_path / "nope", vi, fused, show_progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no fused images"):
        evaluate_folders(ir, vi, tmp_path / "empty", show_progress=False)


@pytest.mark.realdata
def test_average_fusion_of_real_msrs_pairs_is_in_sane_ranges(ivf_dev: Path, tmp_path: Path) -> None:
    """F = (A + B) / 2 on two real MSRS pairs (one day, one night): broad literature ranges, not golden values."""
    folders = {name: tmp_path / name for name in ("ir", "vi", "fused")}
    for folder in folders.values():
        folder.mkdir()
    for stem in ("00556D", "00881N"):
        ir_path, vi_path = ivf_dev / "MSRS/train/ir" / f"{stem}.png", ivf_dev / "MSRS/train/vi" / f"{stem}.png"
        (folders["ir"] / ir_path.name).symlink_to(ir_path.resolve())  # read in place, never copied
        (folders["vi"] / vi_path.name).symlink_to(vi_path.resolve())
        average = (load_gray(ir_path) + load_gray(vi_path)) / 2
        Image.fromarray(np.floor(average + 0.5).astype(np.uint8)).save(folders["fused"] / f"{stem}.png")
    mean = evaluate_folders(folders["ir"], folders["vi"], folders["fused"], show_progress=False)["mean"]
    assert 4.0 < mean["EN"] < 8.0
    assert 0.0 < mean["SD"] < 80.0 and 0.0 < mean["SF"] < 30.0 and 0.0 < mean["AG"] < 10.0
    assert 0.5 < mean["MI"] < 2 * mean["EN"]
    assert 0.3 < mean["CC"] < 1.0 and 0.5 < mean["SSIM"] < 1.0
    assert 0.2 < mean["VIF_A"] < 1.0 and 0.2 < mean["VIF_B"] < 1.0
    assert 0.1 < mean["Qabf"] < 0.9
    assert mean["CV"] > 0.0 and 10.0 < mean["PSNR"] < 60.0
