"""Tiny evaluation inputs: a 4-image SynthScenes test split (64 x 96), random fusion checkpoints, task networks.

Built once per session: the checkpoints only have to load and run, their weights are random.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from tsjnet.config.evaluate import EvaluateParams, MethodSpec
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.data.synthscenes import write_synthscenes
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import save_fusion_model
from tsjnet.tasks.detector import build_detector, detector_checkpoint
from tsjnet.tasks.segmenter import build_segmenter
from tsjnet.checkpoints import save_checkpoint

from tests.params import section

HEIGHT, WIDTH, N_TEST = 64, 96, 4
#: Trained methods of the tiny run: name -> (registry model, kwargs). Evaluation treats every checkpoint alike
#: (tsjnet.registry.checkpoint rebuilds whatever model it names), so a narrow SeAFusion stands in for all three.
TINY_NET = ("seafusion", {"channels": (4, 4, 4)})
TRAINED = {"tsjnet": TINY_NET, "tsjnet_fusion_only": TINY_NET, "seafusion": TINY_NET}
RULES = {"average": "classical_average", "max": "classical_max", "laplacian": "classical_laplacian"}


@dataclass(frozen=True)
class TinySetup:
    """Paths and params of the tiny evaluation world."""

    root: Path
    data_root: Path
    detector: DetectorParams
    segmenter: SegmenterParams

    def params(self, out: Path, **update: object) -> EvaluateParams:
        """EvaluateParams for the tiny checkpoints with every output under `out` (`update`: conf/ values changed)."""
        methods = [MethodSpec(name=name, checkpoint=str(self.root / "models" / f"{name}.pt"), stage=f"train_{name}",
                              optional=name == "tsjnet_fusion_only") for name in TRAINED]
        methods += [MethodSpec(name=name, model=model) for name, model in RULES.items()]
        methods_data = [method.model_dump(exclude_defaults=True) for method in methods]
        return section("evaluate", methods=methods_data, n_grid_samples=3, device="cpu", **update).under(out)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinySetup:
    root = tmp_path_factory.mktemp("evaluation")
    data_root = root / "prepared"
    write_synthscenes(data_root, section("data.synth", n_train=2, n_val=1, n_test=N_TEST, height=HEIGHT, width=WIDTH,
                                         max_objects=6), progress=False)
    for name, (model, kwargs) in TRAINED.items():
        save_fusion_model(root / "models" / f"{name}.pt", create_model(model, **kwargs), model, kwargs)
    detector = section("detector", checkpoint_dir=str(root / "models" / "detector"))
    network = build_detector(detector, (HEIGHT, WIDTH)).state_dict()
    for modality in detector.modalities:
        save_checkpoint(detector_checkpoint(detector, modality),
                        {"model": network, "config": detector.model_dump(), "image_size": (HEIGHT, WIDTH)})
    segmenter = section("segmenter", checkpoint=str(root / "models" / "segmenter.pt"))
    save_checkpoint(segmenter.checkpoint, {"model": build_segmenter(segmenter).state_dict(),
                                           "config": segmenter.model_dump()})
    return TinySetup(root, data_root, detector, segmenter)
