"""The pseudolabel stage's library entry on tiny SynthScenes copies: complete labels, provenance, quality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.labels.detectors import FixedDetector
from tests.params import section
from tsjnet.config.pseudolabel import PseudolabelParams
from tsjnet.data import open_dataset
from tsjnet.data.synthscenes import write_synthscenes
from tsjnet.data.types import IGNORE_INDEX, MODALITIES, Sample
from tsjnet.errors import DataError
from tsjnet.labels import prepare
from tsjnet.labels.complete import KINDS
from tsjnet.labels.prepare import prepare_labels
from tsjnet.labels.teacher import Teacher

TINY = section("data.synth", n_train=2, n_val=1, n_test=1, height=96, width=128, max_objects=4)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "ingested"
    write_synthscenes(root, TINY, progress=False)
    return root


@pytest.fixture
def ingested(synth: Path, tmp_path: Path) -> Path:
    """A private copy the test may strip labels from."""
    return Path(shutil.copytree(synth, tmp_path / "ingested"))


def _params(tmp_path: Path, **kw: object) -> PseudolabelParams:
    return section("pseudolabel", out=str(tmp_path / "prepared"), metrics=str(tmp_path / "metrics.json"), **kw)


def _complete(out: Path) -> list[Sample]:
    """Every output sample, read back by the MSRS reader: each must have a mask and all three box sets."""
    samples = list(open_dataset("msrs", out))
    assert all(s.mask is not None and set(s.boxes) == set(MODALITIES) for s in samples)
    return samples


def test_full_ground_truth_stays_and_is_scored(ingested: Path, tmp_path: Path) -> None:
    params = _params(tmp_path)
    result = prepare_labels(ingested, params, progress=False)
    out = Path(params.out)
    assert len(_complete(out)) == 4
    pair_files = [path for path in sorted(ingested.rglob("*.*")) if path.parent != ingested]  # not the README
    for source in pair_files:  # images and labels: the same bytes, linked not re-encoded
        target = out / source.relative_to(ingested)
        assert target.read_bytes() == source.read_bytes()
        assert target.stat().st_ino == source.stat().st_ino
    provenance = pd.read_csv(out / "provenance.csv")
    assert len(provenance) == 4 * len(KINDS) and set(provenance["kind"]) == set(KINDS)
    assert (provenance["source"] == "gt").all() and (provenance["confidence"] == 1.0).all()
    assert all((out / p).is_file() for p in provenance["path"])
    metrics = json.loads(Path(params.metrics).read_text())
    assert metrics == pytest.approx(result.metrics)
    assert metrics["images"] == 4 and metrics["labels_mask_gt"] == 4 and metrics["quality_images"] == 4
    assert 0.0 < metrics["quality_mask_miou"] <= 1.0
    for modality in MODALITIES:
        assert 0.0 <= metrics[f"quality_box_precision_{modality}"] <= 1.0
        assert 0.0 <= metrics[f"quality_box_recall_{modality}"] <= 1.0


def test_boxes_only_gets_derived_masks(ingested: Path, tmp_path: Path) -> None:
    for folder in ingested.glob("*/Segmentation_labels"):
        shutil.rmtree(folder)
    params = _params(tmp_path)
    result = prepare_labels(ingested, params, progress=False)
    samples = _complete(Path(params.out))
    masks = result.provenance[result.provenance["kind"] == "mask"]
    assert (masks["source"] == "derived").all() and (masks["method"] == "grabcut:fusion").all()
    assert masks["confidence"].between(0, 1).all()
    assert (result.provenance[result.provenance["kind"] != "mask"]["source"] == "gt").all()
    for sample in samples:
        assert set(np.unique(sample.mask)) <= {0, 1, 2, 3, IGNORE_INDEX}
    assert not any(key.startswith("quality_") for key in result.metrics)  # no true mask: nothing to score


def test_mask_only_and_missing_modalities_get_derived_boxes(ingested: Path, tmp_path: Path) -> None:
    shutil.rmtree(ingested / "detection_labels" / "visible")
    for modality in MODALITIES:
        shutil.rmtree(ingested / "detection_labels" / modality / "test", ignore_errors=True)
    result = prepare_labels(ingested, _params(tmp_path), progress=False)
    _complete(Path(_params(tmp_path).out))
    rows = result.provenance

    def values(split: str, kind: str, column: str) -> set:
        return set(rows[(rows["split"] == split) & (rows["kind"] == kind)][column])

    assert values("test", "boxes_infrared", "method") == {"mask_components"}
    assert values("test", "boxes_infrared", "confidence") == {0.85}
    assert values("train", "boxes_visible", "method") == {"copy:fusion"}
    assert values("train", "boxes_visible", "confidence") == {0.6}
    assert values("train", "boxes_infrared", "source") == {"gt"}


def _strip_test_split(root: Path) -> None:
    shutil.rmtree(root / "test" / "Segmentation_labels")
    for modality in MODALITIES:
        shutil.rmtree(root / "detection_labels" / modality / "test")


def test_unlabeled_image_without_teacher_fails_listing_it(ingested: Path, tmp_path: Path) -> None:
    _strip_test_split(ingested)
    params = _params(tmp_path)
    with pytest.raises(DataError) as error:
        prepare_labels(ingested, params, progress=False)
    message = str(error.value)
    assert str(ingested / "test" / "ir" / "00003D.png") in message and "teacher" in message
    assert "allow_unlabeled" in message and "00000D" not in message
    assert not Path(params.out).exists()  # refused before anything was written


def test_allow_unlabeled_marks_none(ingested: Path, tmp_path: Path) -> None:
    _strip_test_split(ingested)
    result = prepare_labels(ingested, _params(tmp_path, allow_unlabeled=True), progress=False)
    none = result.provenance[result.provenance["source"] == "none"]
    assert set(none["name"]) == {"00003D"} and len(none) == len(KINDS) and (none["confidence"] == 0).all()
    sample = next(s for s in _complete(Path(_params(tmp_path).out)) if s.name == "00003D")
    assert (sample.mask == IGNORE_INDEX).all() and all(len(b) == 0 for b in sample.boxes.values())


def test_teacher_labels_images_with_nothing(ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _strip_test_split(ingested)
    detector = FixedDetector([[20, 20, 50, 80]], labels=[1], scores=[0.8])
    monkeypatch.setattr(prepare, "load_teacher", lambda params: Teacher(detector, params.score_threshold,
                                                                         torch.device("cpu")))
    params = _params(tmp_path, teacher={"enabled": True, "uri": "models:/tsjnet-detector@champion"})
    result = prepare_labels(ingested, params, progress=False)
    taught = result.provenance[result.provenance["name"] == "00003D"].set_index("kind")
    assert (taught["source"] == "teacher").all()
    assert taught.loc["boxes_infrared", "confidence"] == pytest.approx(0.8)
    assert taught.loc["mask", "method"] == "grabcut:fusion"
    sample = next(s for s in _complete(Path(params.out)) if s.name == "00003D")
    np.testing.assert_allclose(sample.boxes["fusion"], [[0, 20, 20, 50, 80]], atol=1e-3)
    assert result.metrics["labels_mask_teacher"] == 1 and result.metrics["labels_mask_gt"] == 3


def test_output_must_not_overlap_the_input(ingested: Path) -> None:
    with pytest.raises(ValueError, match="overlaps"):
        prepare_labels(ingested, section("pseudolabel", out=str(ingested / "prepared")), progress=False)
