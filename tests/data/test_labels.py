"""YOLO/VOC parsing is strict about syntax, keeps odd geometry, and round-trips through write_yolo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tsjnet.data.labels import box_problems, read_boxes, read_voc, read_yolo, write_yolo, yolo_to_pixels
from tsjnet.errors import DataError

VOC = """<annotation><size><width>100</width><height>80</height></size>
<object><name>Person</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>30</xmax><ymax>60</ymax></bndbox></object>
<object><name>bike</name><bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>
<object><name>car</name><bndbox><xmin>50</xmin><ymin>40</ymin><xmax>99</xmax><ymax>79</ymax></bndbox></object>
</annotation>"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_yolo_irregular_white_space_and_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "2  0.5  0.5  0.25  0.5  \n\n0\t0.1 0.2 0.1 0.2\n   \n")
    np.testing.assert_allclose(read_yolo(path), [[2, 0.5, 0.5, 0.25, 0.5], [0, 0.1, 0.2, 0.1, 0.2]])


def test_empty_yolo_file_means_no_object(tmp_path: Path) -> None:
    out = read_yolo(_write(tmp_path / "empty.txt", " \n"))
    assert out.shape == (0, 5) and out.dtype == np.float32


@pytest.mark.parametrize("line", ["0 0.5 0.5 0.2", "0 0.5 0.5 0.2 0.2 7", "0 0.5 x 0.2 0.2", "p 0.5 0.5 0.2 0.2",
                                  "0 nan 0.5 0.2 0.2"])
def test_malformed_yolo_line_names_file_and_line(tmp_path: Path, line: str) -> None:
    path = _write(tmp_path / "bad.txt", f"1 0.5 0.5 0.1 0.1\n{line}\n")
    with pytest.raises(DataError, match=r"bad\.txt:2"):
        read_yolo(path)


@pytest.mark.parametrize("cls", ["5", "-1", "3", "1.5"])
def test_yolo_class_outside_det_classes(tmp_path: Path, cls: str) -> None:
    path = _write(tmp_path / "cls.txt", f"{cls} 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"cls\.txt:1.*class id"):
        read_yolo(path)


def test_yolo_to_pixels() -> None:
    boxes = yolo_to_pixels(np.array([[1, 0.5, 0.5, 0.25, 0.5]], dtype=np.float32), width=640, height=480)
    np.testing.assert_allclose(boxes, [[1, 240, 120, 400, 360]])
    assert boxes.dtype == np.float32


def test_write_yolo_round_trip(tmp_path: Path) -> None:
    boxes = np.array([[0, 10, 20, 30, 60], [2, 0, 0, 100, 80]], dtype=np.float32)
    write_yolo(tmp_path / "sub" / "r.txt", boxes, width=100, height=80)
    lines = (tmp_path / "sub" / "r.txt").read_text().splitlines()
    assert lines[1] == "2 0.500000 0.500000 1.000000 1.000000"
    np.testing.assert_allclose(read_boxes(tmp_path / "sub" / "r.txt", 100, 80), boxes, atol=1e-3)


def test_write_yolo_empty_and_bad_shape(tmp_path: Path) -> None:
    write_yolo(tmp_path / "none.txt", np.zeros((0, 5)), width=10, height=10)
    assert (tmp_path / "none.txt").read_text() == ""
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        write_yolo(tmp_path / "x.txt", np.zeros((2, 4)), width=10, height=10)
    with pytest.raises(ValueError, match="positive"):
        write_yolo(tmp_path / "x.txt", np.zeros((0, 5)), width=0, height=10)


def test_voc_names_map_to_det_ids(tmp_path: Path) -> None:
    boxes = read_voc(_write(tmp_path / "a.xml", VOC))
    np.testing.assert_allclose(boxes, [[0, 10, 20, 30, 60], [1, 1.5, 2, 3, 4], [2, 50, 40, 99, 79]])
    np.testing.assert_array_equal(read_boxes(tmp_path / "a.xml", 1, 1), boxes)


def test_voc_unknown_name_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "dog.xml", VOC.replace("car", "dog"))
    with pytest.raises(DataError, match=r"dog\.xml \(object 2\).*'dog'"):
        read_voc(path)


def test_voc_broken_xml_and_missing_coordinate(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cut\.xml.*re-export"):
        read_voc(_write(tmp_path / "cut.xml", VOC[:120]))
    with pytest.raises(DataError, match=r"nox\.xml \(object 0\).*xmin"):
        read_voc(_write(tmp_path / "nox.xml", VOC.replace("<xmin>10</xmin>", "")))


def test_unknown_label_format(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"a\.json"):
        read_boxes(_write(tmp_path / "a.json", "{}"), 10, 10)


def test_box_problems() -> None:
    boxes = np.array([[0, 0, 0, 100, 80],        # whole image: fine
                      [1, -0.3, 0, 100.3, 80],   # rounding at the border: fine
                      [2, 90, 70, 120, 90],      # outside
                      [0, 10, 10, 10, 20]],      # zero width
                     dtype=np.float32)
    problems = box_problems(boxes, width=100, height=80)
    assert len(problems) == 2
    assert problems[0].startswith("box 2 (car") and "outside the 100x80 image" in problems[0]
    assert problems[1].startswith("box 3 (person") and "degenerate" in problems[1]
