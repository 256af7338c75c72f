"""Manifest table: content per pair, tolerant building, CSV round trip, and clear errors on a bad file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import TINY_H, TINY_SPLITS, TINY_W
from tsjnet.data import open_dataset
from tsjnet.data.manifest import COLUMNS, build_manifest, manifest_records, read_manifest, write_manifest
from tsjnet.errors import DataError


@pytest.fixture
def records(tmp_msrs: Path) -> list:
    return open_dataset("msrs", tmp_msrs).records


def test_one_row_per_pair_with_sizes_modes_and_label_counts(tmp_msrs: Path, records: list) -> None:
    table = build_manifest(records, tmp_msrs, progress=False).set_index("name")
    assert list(table.reset_index().columns) == list(COLUMNS)
    assert sorted(table.index) == sorted(n for names in TINY_SPLITS.values() for n in names)
    assert table.loc["00003D", "split"] == "test" and table.loc["00001D", "split"] == "train"
    assert table["is_night"].to_dict() == {"00001D": False, "00002N": True, "00003D": False}
    assert (table[["ir_width", "vi_width"]] == TINY_W).all().all()
    assert (table[["ir_height", "vi_height"]] == TINY_H).all().all()
    assert set(table["ir_mode"]) == {"L"} and set(table["vi_mode"]) == {"RGB"}
    assert table["has_mask"].all()
    assert table.loc["00002N", "ir_path"] == "train/ir/00002N.png"
    assert table.loc["00002N", "labels_visible"] == "detection_labels/visible/train/00002N.txt"
    # 00002N's visible label file is empty: 0 boxes, not "no label file".
    assert table.loc["00002N", "n_boxes_visible"] == 0
    assert table.loc["00002N", "n_boxes_infrared"] == 1 and table.loc["00003D", "n_boxes_fusion"] == 1


def test_csv_round_trip_keeps_values_and_types(tmp_path: Path, tmp_msrs: Path, records: list) -> None:
    table = build_manifest(records, tmp_msrs, progress=False)
    path = write_manifest(table, tmp_path / "out" / "manifest.csv")
    pd.testing.assert_frame_equal(read_manifest(path), table)
    assert manifest_records(read_manifest(path), tmp_msrs) == sorted(records, key=lambda r: r.name)


def test_pairs_without_labels_have_empty_cells(tmp_path: Path, tmp_msrs: Path) -> None:
    root = tmp_path / "plain"
    for side in ("ir", "vi"):
        (root / side).mkdir(parents=True)
        (root / side / "a.png").write_bytes((tmp_msrs / "train" / side / "00001D.png").read_bytes())
    table = build_manifest(open_dataset("paired", root, ir_dir="ir", vi_dir="vi").records, root, progress=False)
    row = table.iloc[0]
    assert row["name"] == "a" and row["split"] == "test" and not row["has_mask"]
    assert pd.isna(row["is_night"]) and pd.isna(row["mask_path"])
    assert all(pd.isna(row[c]) for c in ("labels_infrared", "n_boxes_infrared", "n_boxes_fusion"))


def test_bad_files_leave_cells_empty_instead_of_failing(tmp_msrs: Path, records: list) -> None:
    (tmp_msrs / "train" / "vi" / "00001D.png").write_bytes(b"not a png")
    (tmp_msrs / "detection_labels" / "infrared" / "train" / "00002N.txt").write_text("0 0.5 0.5\n")
    table = build_manifest(records, tmp_msrs, progress=False).set_index("name")
    assert pd.isna(table.loc["00001D", "vi_width"]) and pd.isna(table.loc["00001D", "vi_mode"])
    assert table.loc["00001D", "ir_width"] == TINY_W
    assert pd.isna(table.loc["00002N", "n_boxes_infrared"]) and table.loc["00002N", "n_boxes_fusion"] == 1


def test_read_manifest_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="manifest not found; run the ingest stage"):
        read_manifest(tmp_path / "none.csv")
    broken = tmp_path / "broken.csv"
    broken.write_text("name,split\na,train\n")
    with pytest.raises(DataError, match=r"broken.csv: manifest lacks column\(s\) is_night"):
        read_manifest(broken)
