"""GrabCut masks from the real MSRS boxes of ivf-dev (which has no masks): right classes, inside their boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.params import section
from tsjnet.data import open_dataset
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.labels.from_boxes import DET_TO_SEG, pixel_box, mask_from_boxes

NAMES = ("00556D", "00633D", "00881N")  # MSRS train pairs of ivf-dev: day and night, people and cars


@pytest.mark.realdata
def test_masks_from_real_boxes_hold_the_boxed_classes(ivf_dev: Path) -> None:
    dataset = open_dataset("msrs", ivf_dev / "MSRS", "train")
    params = section("pseudolabel")
    for record in (r for r in dataset.records if r.name in NAMES):
        sample = dataset.load(record)
        assert sample.mask is None  # ivf-dev has boxes only: this is the stage's real case
        boxes = sample.boxes["fusion"]
        mask, confidence = mask_from_boxes(sample.ir, sample.vi, boxes, params)
        height, width = mask.shape
        allowed = {seg: np.zeros(mask.shape, bool) for seg in DET_TO_SEG.values()}
        hits = []
        for row in boxes:
            x1, y1, x2, y2 = pixel_box(row[1:], width, height)
            seg = DET_TO_SEG[int(row[0])]
            allowed[seg][y1:y2, x1:x2] = True
            hits.append((mask[y1:y2, x1:x2] == seg).mean())
        for seg, inside in allowed.items():
            assert not ((mask == seg) & ~inside).any(), f"{record.name}: class {seg} outside its boxes"
        assert set(np.unique(mask)) <= {0, IGNORE_INDEX, *(DET_TO_SEG[int(c)] for c in boxes[:, 0])}
        assert np.mean([h > 0.1 for h in hits]) >= 0.5, f"{record.name}: most boxes should hold their class"
        assert 0.0 < confidence <= 1.0
