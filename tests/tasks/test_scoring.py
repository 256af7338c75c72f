"""Task scoring against the one truth (IR + VIS boxes merged, masks), with stand-in networks whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tsjnet.data import open_dataset
from tsjnet.data.types import IGNORE_INDEX, NUM_SEG_CLASSES, SEG_CLASSES, Sample
from tsjnet.errors import DataError
from tsjnet.tasks.scoring import (TaskNets, cross_judged, evaluate_inputs, source_input, split_cross_judged, truth,
                                  with_intervals)
from tsjnet.tasks.detector import boxes_to_target
from tsjnet.tasks.inputs import sample_image

from tests.tiny_setup import TinySetup


class OracleDetector(nn.Module):
    """Answers each known image with its fusion boxes (torchvision labels: class id + 1) at score 1."""

    def __init__(self, samples: list[Sample], modality: str) -> None:
        super().__init__()
        self.known = [(sample_image(s, modality), boxes_to_target(s.boxes["fusion"], s.ir.shape)) for s in samples]

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        target = next(t for image, t in self.known if torch.equal(image, images[0]))
        return [{**target, "scores": torch.ones(len(target["labels"]))}]


class BlindDetector(nn.Module):
    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        return [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64), "scores": torch.zeros(0)}]


class BackgroundSegmenter(nn.Module):
    """Predicts background everywhere."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(images.shape[0], NUM_SEG_CLASSES, *images.shape[-2:])
        logits[:, 0] = 1.0
        return logits


def test_scores_against_fusion_boxes_and_masks(tiny: TinySetup) -> None:
    dataset = open_dataset("msrs", tiny.data_root, "test")
    samples = list(dataset)
    assert sum(len(s.boxes["fusion"]) for s in samples) > 0
    nets = TaskNets({"infrared": OracleDetector(samples, "infrared"), "fusion": BlindDetector()}, BackgroundSegmenter())
    inputs = [source_input("infrared"), source_input("visible"), source_input("infrared", "fusion")]
    scores = evaluate_inputs(inputs, dataset, nets, torch.device("cpu"))
    # the same IR images under the fused images' (blind) judge: a row of their own, same segmentation
    cross = scores.pop(cross_judged("infrared", "fusion")).metrics
    assert cross["detector"] == "fusion" and cross["map50"] == 0.0
    assert "miou_ci_low" not in scores["infrared"].metrics  # intervals are a separate step
    scores = {name: with_intervals(score) for name, score in scores.items()}
    infrared, visible = scores["infrared"].metrics, scores["visible"].metrics
    assert infrared["map50"] == pytest.approx(1.0) and infrared["detector"] == "infrared"
    assert infrared["map50_ci_low"] == infrared["map50_ci_high"] == pytest.approx(1.0)  # perfect on every draw
    assert "map50" not in visible and visible["detector"] is None  # no VIS detector trained
    masks = np.stack([s.mask for s in samples])
    labelled = masks != IGNORE_INDEX
    assert infrared["IoU"]["background"] == pytest.approx((masks == 0).sum() / labelled.sum())
    present = set(np.unique(masks[labelled]).tolist())
    for index, name in enumerate(SEG_CLASSES[1:], start=1):
        assert (infrared["IoU"][name] == 0.0) if index in present else np.isnan(infrared["IoU"][name])
    assert scores["visible"].confusion[:, 1:].sum() == 0 and scores["visible"].confusion.sum() == labelled.sum()
    # background everywhere: its IoU is the background share of the pixels, which varies from image to image
    assert infrared["miou_ci_low"] < infrared["miou"] < infrared["miou_ci_high"]
    low, high = infrared["IoU_ci_low"]["background"], infrared["IoU_ci_high"]["background"]
    assert low <= infrared["IoU"]["background"] <= high
    # the same segmenter on the same images: the paired difference of IR and VIS is exactly zero on every draw
    difference = scores["infrared"].resampled.difference(scores["visible"].resampled, "miou")
    assert (difference.mean, difference.low, difference.high) == (0.0, 0.0, 0.0)


def test_missing_truth_names_the_pair_and_the_stage(tiny: TinySetup) -> None:
    sample = next(iter(open_dataset("msrs", tiny.data_root, "test")))
    sample.boxes.pop("visible")
    expected = rf"pair '{sample.name}' has no detection_labels/visible/ .*union of the infrared and visible.*dvc repro"
    with pytest.raises(DataError, match=expected):
        truth(sample, tiny.data_root / "x.png")
    sample = next(iter(open_dataset("msrs", tiny.data_root, "test")))
    sample.mask = None
    with pytest.raises(DataError, match="no Segmentation_labels mask; run the pseudolabel"):
        truth(sample, tiny.data_root / "x.png")


def test_truth_is_the_union_of_ir_and_vis_boxes_with_duplicates_merged(tiny: TinySetup) -> None:
    sample = next(iter(open_dataset("msrs", tiny.data_root, "test")))
    person_ir = [0.0, 10.0, 10.0, 30.0, 50.0]
    sample.boxes = {"infrared": np.array([person_ir], np.float32),
                    "visible": np.array([[0.0, 11.0, 10.0, 31.0, 50.0],  # the same person (IoU > 0.5): merged
                                         [2.0, 40.0, 5.0, 60.0, 20.0]], np.float32),  # a car only VIS shows
                    "fusion": np.zeros((0, 5), np.float32)}  # drawn on some fused image: not the truth
    boxes, _ = truth(sample, tiny.data_root / "x.png")
    assert sorted(map(tuple, boxes.tolist())) == sorted([tuple(person_ir), (2.0, 40.0, 5.0, 60.0, 20.0)])


def test_cross_judged_rows_are_named_apart_from_every_other_input() -> None:
    assert source_input("visible", "visible").name == "visible"  # its own detector: the plain row
    name = source_input("infrared", "judge_tsjnet").name
    assert name == cross_judged("infrared", "judge_tsjnet") and source_input("infrared", "judge_tsjnet").detector == \
        "judge_tsjnet"
    assert split_cross_judged(name) == ("infrared", "judge_tsjnet")
    assert split_cross_judged("infrared") is None and split_cross_judged("tsjnet") is None
    assert split_cross_judged(cross_judged("blend", "fusion")) is None  # only IR and VIS are sources
