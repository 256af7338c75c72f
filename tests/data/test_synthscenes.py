"""SynthScenes: the intended sensor physics, measured on generated images, plus labels, layout and determinism."""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.params import section
from tsjnet.config.data import SynthParams
from tsjnet.data.msrs import open_msrs
from tsjnet.data.synth.visibility import instance_boxes, who_sees
from tsjnet.data.synthscenes import (
    SPLITS, Synthesized, complementarity_readme, generate_sample, is_night, synthesize, write_synthscenes,
)
from tsjnet.data.types import MODALITIES, NUM_SEG_CLASSES, SEG_TO_DET

DET_TO_SEG = {det: seg for seg, det in SEG_TO_DET.items()}
CONE, CURVE, GUARDRAIL, BUMP, PERSON = 7, 4, 6, 8, 2
TINY = SynthParams(seed=3, n_train=3, n_val=1, n_test=2, height=64, width=96, night_fraction=0.5, max_objects=3)


def _scenes(night: bool, count: int = 10) -> list[Synthesized]:
    return [synthesize(np.random.default_rng([123, seed]), 192, 256, night, 6) for seed in range(count)]


@pytest.fixture(scope="module")
def day() -> list[Synthesized]:
    return _scenes(night=False)


@pytest.fixture(scope="module")
def night() -> list[Synthesized]:
    return _scenes(night=True)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _ring_contrast(image: np.ndarray, inside: np.ndarray, mask: np.ndarray, px: int = 3) -> float | None:
    """|mean inside - mean of the surrounding background ring| in grey levels (None if either is too small)."""
    grown = cv2.dilate(inside.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)
    ring = grown & ~inside & (mask == 0)
    if inside.sum() < 4 or ring.sum() < 4:
        return None
    gray = _gray(image).astype(np.float64)
    return abs(gray[inside].mean() - gray[ring].mean())


def _class_contrast(scenes: list[Synthesized], modality: str, seg: int) -> float:
    values = [_ring_contrast(getattr(s, modality), s.mask == seg, s.mask) for s in scenes]
    values = [v for v in values if v is not None]
    assert len(values) >= 3, f"too few scenes with class {seg} to measure"
    return float(np.mean(values))


def _person_contrast(scenes: list[Synthesized], modality: str, dark: bool) -> float:
    values = [_ring_contrast(getattr(s, modality), s.instances == i, s.mask)
              for s in scenes for i, seg in s.instance_seg.items() if seg == PERSON and (i in s.dark) == dark]
    values = [v for v in values if v is not None]
    assert len(values) >= 5, "too few people to measure"
    return float(np.mean(values))


def test_painted_street_furniture_is_faint_in_ir_and_clear_in_day_vis(day: list[Synthesized]) -> None:
    for seg in (CONE, CURVE, GUARDRAIL, BUMP):
        ir, vi = _class_contrast(day, "ir", seg), _class_contrast(day, "vi", seg)
        assert ir < 10.0, f"class {seg}: IR contrast {ir:.1f} should be near ambient"
        assert vi > 2.5 * ir and vi > 10.0, f"class {seg}: day VIS contrast {vi:.1f} vs IR {ir:.1f}"
    assert _class_contrast(day, "ir", CONE) < 4.0
    assert _class_contrast(day, "vi", CONE) > 25.0


def test_people_are_hot_in_ir_and_dark_clothes_vanish_in_night_vis(day: list[Synthesized],
                                                                   night: list[Synthesized]) -> None:
    ir_dark, ir_light = _person_contrast(night, "ir", True), _person_contrast(night, "ir", False)
    vis_dark, vis_light = _person_contrast(night, "vi", True), _person_contrast(night, "vi", False)
    assert min(ir_dark, ir_light, _person_contrast(day, "ir", True)) > 50.0
    assert vis_dark < 10.0 and vis_dark < 0.15 * ir_dark
    assert vis_light > vis_dark
    assert _person_contrast(day, "vi", True) > 4 * vis_dark


def test_night_vis_gets_5_to_20_percent_of_day_brightness(day: list[Synthesized], night: list[Synthesized]) -> None:
    ratio = np.mean([s.vi.mean() for s in night]) / np.mean([s.vi.mean() for s in day])
    assert 0.05 <= ratio <= 0.2
    ir_ratio = np.mean([s.ir.mean() for s in night]) / np.mean([s.ir.mean() for s in day])
    assert 0.7 < ir_ratio < 1.0, "IR should look alike day and night, the road a little warmer by day"


def test_box_sets_differ_for_physical_reasons(day: list[Synthesized], night: list[Synthesized]) -> None:
    def count(scenes: list[Synthesized], modality: str) -> int:
        return sum(len(s.boxes[modality]) for s in scenes)

    assert count(night, "visible") < 0.8 * count(night, "infrared")
    assert count(day, "visible") >= count(day, "infrared")
    for scene in day + night:
        rows = {tuple(r) for m in ("infrared", "visible") for r in scene.boxes[m].tolist()}
        assert rows == {tuple(r) for r in scene.boxes["fusion"].tolist()}
    dark_seen = [any((row[1:] == box).all() for row in s.boxes["visible"])
                 for s in night for i, box in instance_boxes(s.instances, s.instance_seg).items() if i in s.dark]
    assert len(dark_seen) >= 5 and np.mean(dark_seen) < 0.3


def test_boxes_are_tight_around_pixels_of_their_class(day: list[Synthesized], night: list[Synthesized]) -> None:
    for scene in day + night:
        present = set(np.unique(scene.mask).tolist())
        assert present <= set(range(NUM_SEG_CLASSES))
        for cls, x1, y1, x2, y2 in scene.boxes["fusion"].astype(int):
            seg = DET_TO_SEG[cls]
            assert seg in present
            assert 0 <= x1 < x2 <= 256 and 0 <= y1 < y2 <= 192
            inside = scene.mask[y1:y2, x1:x2] == seg
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_hidden_or_tiny_instances_get_no_box() -> None:
    instances = np.zeros((20, 20), np.int32)
    instances[2:8, 3:9] = 1  # 36 px, visible
    instances[15:17, 15:17] = 3  # 4 px: almost fully occluded
    boxes = instance_boxes(instances, {1: PERSON, 2: PERSON, 3: 1})  # instance 2 was painted over completely
    assert boxes == {1: (3, 2, 9, 8)}


def test_sizes_come_from_params_and_odd_sizes_work() -> None:
    sample = generate_sample(0, "train", TINY)
    assert sample.ir.shape == (64, 96) and sample.vi.shape == (64, 96, 3) and sample.mask.shape == (64, 96)
    assert sample.ir.dtype == sample.vi.dtype == sample.mask.dtype == np.uint8
    assert set(sample.boxes) == set(MODALITIES)
    odd = synthesize(np.random.default_rng(1), 50, 70, True, 4)
    assert odd.ir.shape == (50, 70) and odd.vi.shape == (50, 70, 3) and odd.mask.shape == (50, 70)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 1.0])
def test_names_end_in_d_or_n_per_night_fraction(fraction: float) -> None:
    params = TINY.model_copy(update={"n_train": 8, "night_fraction": fraction})
    names = [generate_sample(i, "train", params).name for i in range(8)]
    assert sum(name.endswith("N") for name in names) == math.floor(8 * fraction)
    assert all(name[-1] in "DN" and name[:-1].isdigit() for name in names)
    assert [is_night(i, fraction) for i in range(8)] == [name.endswith("N") for name in names]


def test_images_depend_only_on_seed_split_and_index() -> None:
    more = TINY.model_copy(update={"n_train": 7})
    a, b = generate_sample(0, "val", TINY), generate_sample(0, "val", more)
    assert np.array_equal(a.ir, b.ir) and np.array_equal(a.vi, b.vi) and a.name != b.name
    assert not np.array_equal(generate_sample(0, "train", TINY).ir, a.ir)
    with pytest.raises(ValueError, match="n_val"):
        generate_sample(1, "val", TINY)
    with pytest.raises(ValueError, match="split"):
        generate_sample(0, "dev", TINY)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writer_is_byte_deterministic_and_readable_as_msrs(tmp_path: Path) -> None:
    records = write_synthscenes(tmp_path / "a", TINY, progress=False)
    write_synthscenes(tmp_path / "b", TINY, progress=False)
    write_synthscenes(tmp_path / "c", TINY.model_copy(update={"seed": 4}), progress=False)
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys() and a["train/ir/00000D.png"] != c["train/ir/00000D.png"]
    assert len(records) == 6 and len({r.name for r in records}) == 6
    assert [r.split for r in records] == ["train"] * 3 + ["val"] + ["test"] * 2
    for split in SPLITS:
        dataset = open_msrs(tmp_path / "a", split)
        for loaded in dataset:
            fresh = generate_sample(int(loaded.name[:-1]) - {"train": 0, "val": 3, "test": 4}[split], split, TINY)
            assert np.array_equal(loaded.ir, fresh.ir) and np.array_equal(loaded.vi, fresh.vi)
            assert np.array_equal(loaded.mask, fresh.mask)
            for modality in MODALITIES:
                np.testing.assert_allclose(loaded.boxes[modality], fresh.boxes[modality], atol=1e-3)


def test_generation_is_fast() -> None:
    params = section("data.synth")
    generate_sample(0, "train", params)
    start = time.perf_counter()
    for index in range(5):
        generate_sample(index, "train", params)
    assert (time.perf_counter() - start) / 5 < 0.2, "a 192x256 scene should take well under 50 ms on a free core"


def test_each_sensor_alone_shows_objects_the_other_misses() -> None:
    """Two-way complementarity: IR-only (dark clothes at night, smoke by day) AND VIS-only (thermal crossover,
    parked bikes) objects, in shares that let fusion gain on detection over either sensor."""
    scenes = [synthesize(np.random.default_rng([11, i]), 192, 256, i % 2 == 1, 6) for i in range(60)]
    seen = sum((who_sees(s.boxes) for s in scenes), Counter())
    total = sum(seen.values())
    assert seen["infrared_only"] >= 0.12 * total and seen["visible_only"] >= 0.08 * total, seen
    day = sum((who_sees(s.boxes) for s in scenes[0::2]), Counter())
    assert day["visible_only"] > day["infrared_only"] > 0, day  # smoke hides some people from VIS by day


def test_readme_states_the_shares_of_the_written_boxes(tmp_path: Path) -> None:
    write_synthscenes(tmp_path, TINY, progress=False)
    on_disk = {split: sum((who_sees(sample.boxes) for sample in open_msrs(tmp_path, split)), Counter())
               for split in SPLITS}
    assert sum(sum(c.values()) for c in on_disk.values()) > 0
    assert (tmp_path / "README.md").read_text() == complementarity_readme(on_disk)
