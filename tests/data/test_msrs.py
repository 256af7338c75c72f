"""The MSRS reader pairs, selects and labels every name, and names the file behind every bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsjnet.data import open_dataset
from tsjnet.data.labels import box_problems
from tsjnet.errors import DataError

# README table of ivf-dev: modality -> (person, bicycle, car, empty files), over all 60 names.
README_COUNTS = {"infrared": (200, 41, 67, 2), "visible": (72, 23, 65, 13), "fusion": (158, 19, 75, 5)}


def test_all_splits_sorted_with_labels(tmp_msrs: Path) -> None:
    ds = open_dataset("msrs", tmp_msrs)
    assert [(r.name, r.split) for r in ds.records] == [("00001D", "train"), ("00002N", "train"), ("00003D", "test")]
    assert ds.root == tmp_msrs and len(ds) == 3
    sample = ds.load(ds.records[0])
    assert sample.ir.shape == (24, 32) and sample.vi.shape == (24, 32, 3)
    assert sample.mask is not None and sample.mask.shape == (24, 32) and sample.mask[0, 0] == 255
    assert sorted(sample.boxes) == ["fusion", "infrared", "visible"]
    np.testing.assert_allclose(sample.boxes["infrared"], [[0, 12, 6, 20, 18]])
    assert [s.boxes["visible"].shape[0] for s in ds] == [1, 0, 1]


def test_one_split_folder(tmp_msrs: Path) -> None:
    assert [r.name for r in open_dataset("msrs", tmp_msrs, split="test").records] == ["00003D"]
    with pytest.raises(DataError, match=r"MSRS/val.*have test, train"):
        open_dataset("msrs", tmp_msrs, split="val")
    with pytest.raises(ValueError, match="not both"):
        open_dataset("msrs", tmp_msrs, split="test", names_file="pick.txt")
    with pytest.raises(DataError, match=r"train: no split folder with ir/ and vi/"):
        open_dataset("msrs", tmp_msrs / "train")


def test_names_file_selects_across_split_folders(tmp_msrs: Path) -> None:
    (tmp_msrs / "splits").mkdir()
    (tmp_msrs / "splits" / "pick.txt").write_text("00003D\n\n00001D.png\n")
    for ds in (open_dataset("msrs", tmp_msrs, names_file="splits/pick.txt"),
               open_dataset("msrs", tmp_msrs, split="splits/pick.txt")):
        assert [(r.name, r.split) for r in ds.records] == [("00001D", "train"), ("00003D", "test")]


def test_names_file_with_unknown_or_repeated_names(tmp_msrs: Path) -> None:
    (tmp_msrs / "unknown.txt").write_text("00001D\n09999N\n")
    with pytest.raises(DataError, match=r"unknown\.txt.*not found in any split folder.*09999N"):
        open_dataset("msrs", tmp_msrs, names_file=tmp_msrs / "unknown.txt")
    (tmp_msrs / "twice.txt").write_text("00001D\n00001D\n")
    with pytest.raises(DataError, match=r"twice\.txt.*more than once: 00001D"):
        open_dataset("msrs", tmp_msrs, names_file="twice.txt")


def test_corrupt_png_names_the_file(tmp_msrs: Path) -> None:
    path = tmp_msrs / "train" / "vi" / "00002N.png"
    path.write_bytes(path.read_bytes()[:50])
    ds = open_dataset("msrs", tmp_msrs, split="train")
    with pytest.raises(DataError, match=r"vi/00002N\.png.*corrupt"):
        ds.load(ds.records[1])


def test_size_mismatch_names_both_files_and_sizes(tmp_msrs: Path) -> None:
    Image.new("RGB", (30, 24)).save(tmp_msrs / "train" / "vi" / "00001D.png")
    ds = open_dataset("msrs", tmp_msrs, split="train")
    with pytest.raises(DataError, match=r"ir/00001D\.png is 32x24, .*vi/00001D\.png is 30x24"):
        ds.load(ds.records[0])


def test_missing_partner_lists_names_and_folder(tmp_msrs: Path) -> None:
    (tmp_msrs / "train" / "vi" / "00002N.png").unlink()
    with pytest.raises(DataError, match=r"1 name\(s\) missing from .*train/vi: 00002N"):
        open_dataset("msrs", tmp_msrs)


def test_empty_folder(tmp_msrs: Path) -> None:
    for path in (tmp_msrs / "test" / "ir").iterdir():
        path.unlink()
    with pytest.raises(DataError, match=r"test/ir: no images found"):
        open_dataset("msrs", tmp_msrs, split="test")


def test_mask_class_id_9_names_file_and_ids(tmp_msrs: Path) -> None:
    mask = np.zeros((24, 32), dtype=np.uint8)
    mask[3, 3], mask[4, 4] = 9, 255
    Image.fromarray(mask).save(tmp_msrs / "test" / "Segmentation_labels" / "00003D.png")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    with pytest.raises(DataError, match=r"Segmentation_labels/00003D\.png: mask holds class ids \[9\]"):
        ds.load(ds.records[0])


def test_mask_of_another_size_names_the_file(tmp_msrs: Path) -> None:
    Image.fromarray(np.zeros((12, 16), dtype=np.uint8)).save(tmp_msrs / "test" / "Segmentation_labels" / "00003D.png")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    with pytest.raises(DataError, match=r"00003D\.png: mask is 16x12 but its IR image is 32x24"):
        ds.load(ds.records[0])


def test_missing_mask_is_an_error(tmp_msrs: Path) -> None:
    (tmp_msrs / "train" / "Segmentation_labels" / "00001D.png").unlink()
    with pytest.raises(DataError, match=r"Segmentation_labels: no mask for 1 name\(s\): 00001D"):
        open_dataset("msrs", tmp_msrs, split="train")


def test_yolo_class_5_names_the_file(tmp_msrs: Path) -> None:
    (tmp_msrs / "detection_labels" / "fusion" / "test" / "00003D.txt").write_text("5 0.5 0.5 0.1 0.1\n")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    with pytest.raises(DataError, match=r"fusion/test/00003D\.txt:1: class id 5"):
        ds.load(ds.records[0])


def test_malformed_yolo_line_names_file_and_line(tmp_msrs: Path) -> None:
    (tmp_msrs / "detection_labels" / "visible" / "test" / "00003D.txt").write_text("0 0.5 0.5 0.1 0.1\n0 0.5\n")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    with pytest.raises(DataError, match=r"visible/test/00003D\.txt:2: expected 5 fields"):
        ds.load(ds.records[0])


def test_box_outside_image_is_kept_and_reported(tmp_msrs: Path) -> None:
    (tmp_msrs / "detection_labels" / "infrared" / "test" / "00003D.txt").write_text("2 0.9 0.5 0.5 0.5\n")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    boxes = ds.load(ds.records[0]).boxes["infrared"]
    np.testing.assert_allclose(boxes, [[2, 20.8, 6, 36.8, 18]], rtol=1e-6)
    assert box_problems(boxes, 32, 24) == ["box 0 (car [20.8, 6.0, 36.8, 18.0]) lies outside the 32x24 image"]


def test_missing_label_file_is_not_read_as_no_object(tmp_msrs: Path) -> None:
    (tmp_msrs / "detection_labels" / "infrared" / "train" / "00002N.txt").unlink()
    with pytest.raises(DataError, match=r"infrared/train: no label file for 1 name\(s\): 00002N"):
        open_dataset("msrs", tmp_msrs)


def test_voc_labels_in_the_modality_folder(tmp_msrs: Path) -> None:
    folder = tmp_msrs / "detection_labels" / "fusion" / "test"
    (folder / "00003D.txt").unlink()
    (folder / "00003D.xml").write_text("<annotation><object><name>bicycle</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
                                       "<xmax>5</xmax><ymax>9</ymax></bndbox></object></annotation>")
    ds = open_dataset("msrs", tmp_msrs, split="test")
    np.testing.assert_array_equal(ds.load(ds.records[0]).boxes["fusion"], [[1, 1, 2, 5, 9]])


def test_yolo_and_voc_for_one_image_is_ambiguous(tmp_msrs: Path) -> None:
    (tmp_msrs / "detection_labels" / "fusion" / "test" / "00003D.xml").write_text("<annotation/>")
    with pytest.raises(DataError, match=r"00003D\.txt and 00003D\.xml label the same image"):
        open_dataset("msrs", tmp_msrs, split="test")


@pytest.mark.realdata
def test_ivf_dev_box_counts_match_readme(ivf_dev: Path) -> None:
    ds = open_dataset("msrs", ivf_dev / "MSRS")
    assert len(ds) == 60 and len({r.name for r in ds.records}) == 60
    assert Counter(r.split for r in ds.records) == {"train": 4, "test": 56}
    counts = {m: Counter() for m in README_COUNTS}
    empty = Counter()
    problems = []
    for sample in ds:
        assert sample.ir.shape == (480, 640) and sample.vi.shape == (480, 640, 3)
        assert sorted(sample.boxes) == sorted(README_COUNTS)
        for modality, boxes in sample.boxes.items():
            counts[modality].update(boxes[:, 0].astype(int).tolist())
            empty[modality] += boxes.shape[0] == 0
            problems += [f"{sample.name} {modality}: {p}" for p in box_problems(boxes, 640, 480)]
    assert problems == []
    for modality, (person, bicycle, car, n_empty) in README_COUNTS.items():
        assert (counts[modality][0], counts[modality][1], counts[modality][2]) == (person, bicycle, car), modality
        assert empty[modality] == n_empty, modality


@pytest.mark.realdata
def test_ivf_dev_names_files_are_disjoint_40_20(ivf_dev: Path) -> None:
    root = ivf_dev / "MSRS"
    train = {r.name for r in open_dataset("msrs", root, names_file="splits/dev_train.txt").records}
    val = {r.name for r in open_dataset("msrs", root, split="splits/dev_val.txt").records}
    assert (len(train), len(val)) == (40, 20)
    assert not train & val
    assert train | val == {r.name for r in open_dataset("msrs", root).records}
