"""Validation catches each kind of bad input, and reports every offending file at once (never only the first)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import TINY_H, TINY_W
from tests.params import section
from tsjnet.data.ingest import materialise
from tsjnet.data.manifest import build_manifest, read_manifest, write_manifest
from tsjnet.data.types import PairRecord
from tsjnet.data.validate import ValidationResult, render_report, validate_dataset, write_outputs
from tsjnet.data.validate_files import FILE_CHECKS, check_record, outside_fraction
from tsjnet.errors import DataError


@pytest.fixture
def ingested(tmp_path: Path, tmp_msrs: Path) -> tuple[Path, Path]:
    """(manifest, data root) of the tiny MSRS tree ingested into tmp_path."""
    data = section("data", source="msrs", root=str(tmp_msrs), out=str(tmp_path / "ingested"),
                   manifest=str(tmp_path / "manifest.csv"))
    records = materialise(data, progress=False)
    write_manifest(build_manifest(records, data.out, progress=False), data.manifest)
    return Path(data.manifest), Path(data.out)


def _found(result: ValidationResult) -> set[tuple[str, str]]:
    return {(p.check, p.path.relative_to(result.root).as_posix()) for p in result.problems}


def test_clean_dataset_passes_every_check(tmp_path: Path, ingested: tuple[Path, Path]) -> None:
    result = validate_dataset(*ingested, progress=False)
    assert result.passed and result.pairs == 3 and not result.problems
    assert len(result.expectations) >= 10 and all(e.success for e in result.expectations)
    write_outputs(result, tmp_path / "r" / "report.md", tmp_path / "m" / "validation.json")
    report = (tmp_path / "r" / "report.md").read_text()
    assert "**PASSED**" in report
    assert all(check in report for check in FILE_CHECKS)
    metrics = json.loads((tmp_path / "m" / "validation.json").read_text())
    assert metrics["passed"] is True and metrics["pairs"] == 3 and metrics["file_problems"] == 0


def test_every_bad_file_is_reported_in_one_run(ingested: tuple[Path, Path]) -> None:
    manifest, root = ingested
    # corrupt PNG
    (root / "train" / "ir" / "00001D.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    # size mismatch
    Image.fromarray(np.zeros((TINY_H, TINY_W + 8, 3), np.uint8)).save(root / "train" / "vi" / "00002N.png")
    # missing partner
    (root / "test" / "vi" / "00003D.png").unlink()
    # mask id 9
    mask = np.zeros((TINY_H, TINY_W), np.uint8)
    mask[3, 4] = 9
    Image.fromarray(mask).save(root / "test" / "Segmentation_labels" / "00003D.png")
    # box outside the image, and an empty box
    (root / "detection_labels" / "infrared" / "test" / "00003D.txt").write_text("0 0.95 0.5 0.3 0.2\n")
    (root / "detection_labels" / "fusion" / "train" / "00002N.txt").write_text("1 0.5 0.5 0.0 0.2\n")
    # malformed label line
    (root / "detection_labels" / "visible" / "test" / "00003D.txt").write_text("0 0.5 0.5\n")

    result = validate_dataset(manifest, root, progress=False)
    assert not result.passed
    expected = {
        ("decodable", "train/ir/00001D.png"),
        ("equal sizes", "train/vi/00002N.png"),
        ("partner present", "test/vi/00003D.png"),
        ("mask ids", "test/Segmentation_labels/00003D.png"),
        ("boxes", "detection_labels/infrared/test/00003D.txt"),
        ("boxes", "detection_labels/fusion/train/00002N.txt"),
        ("labels parse", "detection_labels/visible/test/00003D.txt"),
    }
    assert _found(result) == expected
    message, report = result.error_message(Path("reports/validation.md")), render_report(result)
    for check, path in expected:
        assert path in message and path in report, (check, path)
    assert "class ids [9]" in message and "outside the 32x24 image" in message and "empty or degenerate" in message
    assert "**FAILED**" in report and "reports/validation.md" in message
    assert result.metrics()["files_with_problems"] == len(expected)
    assert result.metrics()["problems_by_check"]["boxes"] == 2


def test_manifest_level_problems_list_the_offending_pairs(ingested: tuple[Path, Path]) -> None:
    manifest, root = ingested
    table = read_manifest(manifest)
    table.loc[table["name"] == "00003D", "split"] = "holdout"
    table.loc[table["name"] == "00002N", "vi_width"] = TINY_W + 1
    table.loc[table["name"] == "00001D", "ir_height"] = pd.NA
    write_manifest(pd.concat([table, table.iloc[[0]]]), manifest)

    result = validate_dataset(manifest, root, progress=False)
    failed = {e.description: e.offending for e in result.failed_expectations}
    assert failed["`split` is one of train, val, test"] == ["00003D: split=holdout"]
    assert failed["IR and VIS width equal"] == [f"00002N: ir_width={TINY_W}, vi_width={TINY_W + 1}"]
    assert [r.split(":")[0] for r in failed["`ir_height` readable from the image header"]] == ["00001D", "00001D"]
    assert {r.split(":")[0] for r in failed["`name` is unique (no pair listed twice)"]} == {"00001D"}
    message = result.error_message()
    assert "00003D: split=holdout" in message and "IR and VIS width equal" in message


def test_stray_image_without_partner_is_reported(ingested: tuple[Path, Path]) -> None:
    manifest, root = ingested
    (root / "train" / "ir" / "00009D.png").write_bytes((root / "train" / "ir" / "00001D.png").read_bytes())
    result = validate_dataset(manifest, root, progress=False)
    assert _found(result) == {("listed in manifest", "train/ir/00009D.png")}


def test_empty_manifest_fails_the_row_count_expectation(tmp_path: Path, ingested: tuple[Path, Path]) -> None:
    manifest, _ = ingested
    write_manifest(read_manifest(manifest).iloc[:0], manifest)
    empty_root = tmp_path / "empty"
    empty_root.mkdir()
    result = validate_dataset(manifest, empty_root, progress=False)
    assert [e.description for e in result.failed_expectations] == ["manifest has at least one pair"]
    assert "manifest has at least one pair" in result.error_message()


def test_missing_data_root_or_manifest_is_a_clear_error(tmp_path: Path, ingested: tuple[Path, Path]) -> None:
    manifest, root = ingested
    with pytest.raises(DataError, match="data folder not found; run the ingest stage"):
        validate_dataset(manifest, tmp_path / "nowhere", progress=False)
    with pytest.raises(DataError, match="manifest not found"):
        validate_dataset(tmp_path / "none.csv", root, progress=False)


def test_outside_fraction_and_tolerance(tmp_msrs: Path) -> None:
    boxes = np.array([[0, -8, 0, 8, 8], [0, 4, 4, 12, 12], [0, 30, 10, 30, 10]], np.float32)
    assert outside_fraction(boxes, TINY_W, TINY_H).tolist() == [0.5, 0.0, 0.0]
    label = tmp_msrs / "detection_labels" / "infrared" / "train" / "00001D.txt"
    label.write_text("0 0.0 0.5 0.25 0.5\n")  # half of the box lies left of the image
    record = PairRecord(name="00001D", split="train", ir_path=tmp_msrs / "train" / "ir" / "00001D.png",
                        vi_path=tmp_msrs / "train" / "vi" / "00001D.png", box_paths={"infrared": label})
    assert [p.check for p in check_record(record, max_fraction_outside=0.0)] == ["boxes"]
    assert check_record(record, max_fraction_outside=0.5) == []
