"""Which detector judges each method's fused images (params `evaluate.judges`), and the per-method judges.

`shared`: every method goes through `detector.fusion_detector` (the ``blend`` detector, fine-tuned from the IR
detector on classical blends of the pairs and IR images, `detector.train_mix`). It has seen none of the methods'
images, so a method whose images look least like a blend or an IR image is judged by a detector that never learnt
their look.

`per_method` removes that bias the way SeAFusion's task-driven evaluation does: each method gets its own detector,
a copy of the fusion detector fine-tuned on that method's fusions of the train split with the detection truth the
test split is scored against (`tsjnet.tasks.scoring.truth_target`). Same starting weights, seed, epochs, lr and
training pairs for every method: only the fused images differ, so the comparison stays fair. Each judge trains through
`tsjnet.training.loop.fit`, so a killed run resumes from its checkpoint; a finished judge is loaded without
fusing or training again, unless its method's weights, the training pairs, the start detector, the seed or the lr
changed.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from tsjnet.config.evaluate import JudgeParams
from tsjnet.config.tasks import DetectorParams
from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.evaluation.fuse_split import fuse_split, fused_image
from tsjnet.evaluation.methods import Method
from tsjnet.tasks.scoring import SOURCES, truth_target
from tsjnet.tasks.detector import detector_checkpoint
from tsjnet.checkpoints import load_checkpoint
from tsjnet.training.fusion_data import file_digest
from tsjnet.training.loop import FitSpec, console, fit, restore, seed_everything
from tsjnet.training.pretrain import TRAIN_SPLIT, detection_loss
from tsjnet.training.task_data import DetectionImages, collate_detection

#: Folder of `evaluate.fused_dir` that holds each method's fused training images (<method>/<name>.png).
JUDGE_TRAIN_DIR = "judge_train"
#: Key of the shared fusion detector in `TaskNets.detectors` (`tsjnet.tasks.detector.load_detectors`).
SHARED_KEY = "fusion"


@dataclass(frozen=True)
class JudgeSetup:
    """What the judges need before anything is fused: settings, the start detector and (per_method) the pairs."""

    params: JudgeParams
    detector: DetectorParams
    fused_root: Path
    pairs: PairDataset | None  # per_method: the judges' training pairs
    pins: dict[str, object]  # per_method: what every judge's checkpoint must share to be resumed (start, data, seed)


@dataclass(frozen=True)
class Judges:
    """The detector key per method, the per-method judges by key, and the protocol as the report names it."""

    keys: dict[str, str]  # method -> key in TaskNets.detectors
    detectors: dict[str, nn.Module]  # judge key -> trained judge (empty when shared)
    protocol: str


def judge_key(method: str) -> str:
    """A method's judge in `TaskNets.detectors` and in the task metrics' ``detector`` field."""
    return f"judge_{method}"


def judge_checkpoint(params: JudgeParams, method: str) -> Path:
    """Where the judge of `method` keeps its per-epoch checkpoint."""
    return Path(params.checkpoint_dir) / f"{method}.pt"


def evenly_spaced(pairs: PairDataset, limit: int | None) -> PairDataset:
    """`limit` pairs spread evenly over the sorted names (all of them when None or fewer): a fixed subset that
    samples the whole split, not its first scenes."""
    if limit is None or limit >= len(pairs):
        return pairs
    step = len(pairs) / limit
    return PairDataset(pairs.root, [pairs.records[int(i * step)] for i in range(limit)])


def _model_digest(model: nn.Module) -> str:
    """md5 of a model's class and weights: a judge is retrained when its method's weights change."""
    digest = hashlib.md5(type(model).__qualname__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _data_digest(pairs: PairDataset) -> str:
    """md5 of the training pairs' images and truth boxes, in record order."""
    return file_digest(path for record in pairs.records
                       for path in (record.ir_path, record.vi_path, *(record.box_paths[m] for m in SOURCES
                                                                      if m in record.box_paths)))


def plan_judges(params: JudgeParams, detector: DetectorParams, data_root: str | Path,
                fused_root: str | Path) -> JudgeSetup:
    """Open what the judges read (per_method: the train split), so a missing split fails before any fusing."""
    if params.mode == "shared":
        return JudgeSetup(params, detector, Path(fused_root), None, {})
    pairs = evenly_spaced(open_dataset("msrs", data_root, TRAIN_SPLIT), params.max_train_pairs)
    start = detector_checkpoint(detector, detector.fusion_detector)
    pins = {"image_size": tuple(load_checkpoint(start, required=("image_size",))["image_size"]), "seed": params.seed,
            "init_from": {"modality": detector.fusion_detector, "digest": file_digest([start])},
            "train_pairs": [record.name for record in pairs.records], "train_digest": _data_digest(pairs)}
    return JudgeSetup(params, detector, Path(fused_root), pairs, pins)


def _fit_settings(setup: JudgeSetup, method: Method) -> tuple[dict[str, object], dict[str, object]]:
    """(config, extra) of a judge's FitSpec: the config is a detector config (the judge checkpoint loads with
    `load_detector`); extra pins what must match to resume, the method's weights included."""
    params = setup.params
    config = {**setup.detector.model_dump(), "epochs": params.epochs, "lr": params.lr,
              "checkpoint_dir": params.checkpoint_dir}
    return config, {**setup.pins, "judge_of": method.name, "method_digest": _model_digest(method.model)}


def _train_judge(setup: JudgeSetup, method: Method, start: nn.Module, device: torch.device) -> nn.Module:
    """`start`'s copy fine-tuned on `method`'s fused training images (resumed; skipped when finished)."""
    params = setup.params
    model = copy.deepcopy(start)
    config, extra = _fit_settings(setup, method)
    path = judge_checkpoint(params, method.name)
    name = judge_key(method.name)
    state = restore(path, name, config, extra, {"model": model})
    if state is not None and int(state["epoch"]) >= params.epochs:
        return model.to(device).eval()
    folder = setup.fused_root / JUDGE_TRAIN_DIR / method.name
    fuse_split(method, setup.pairs, folder, label=f"{method.name} on {TRAIN_SPLIT} (its judge's images)")
    generator = seed_everything(params.seed)
    images = DetectionImages(setup.pairs, fused_image(folder), partial(truth_target, record_path=setup.pairs.root),
                             hflip=setup.detector.hflip)
    loader = DataLoader(images, batch_size=setup.detector.batch_size, shuffle=True, generator=generator,
                        num_workers=setup.detector.num_workers, collate_fn=collate_detection)
    spec = FitSpec(name=name, model=model, loader=loader, loss_fn=detection_loss,
                   evaluate=lambda model, device: {}, checkpoint=path, config=config, extra=extra)
    detector = setup.detector
    fit(spec, epochs=params.epochs, lr=params.lr, weight_decay=detector.weight_decay,
        max_grad_norm=detector.max_grad_norm, amp=detector.amp, device=device)
    return model.eval()


def protocol(setup: JudgeSetup) -> str:
    """How fused images were judged, as one clause of the report's task section."""
    detector = setup.detector
    name = detector.fusion_detector
    seen = " and ".join(f"`{kind}`" for kind in detector.train_mix.get(name, (name,)))
    start = f"the `{name}` detector ({detector_checkpoint(detector, name)}, trained on {seen} images: detector.train_mix)"
    if setup.pairs is None:
        return (f"every method's fused images go through one shared detector, {start} (params "
                "detector.fusion_detector; evaluate.judges.mode: shared), which has seen none of the methods' fused "
                "images")
    params = setup.params
    return (f"each method's fused images go through their own judge (evaluate.judges.mode: per_method, SeAFusion's "
            f"task-driven protocol): a copy of {start} fine-tuned on that method's fusions of the {TRAIN_SPLIT} split "
            f"with the same union truth (training pairs: {len(setup.pairs)}, epochs: {params.epochs}, lr: "
            f"{params.lr}, seed: {params.seed}); same starting weights, seed, budget and pairs for every method")


def build_judges(setup: JudgeSetup, methods: Sequence[Method], start: nn.Module, device: torch.device) -> Judges:
    """The judge of every method: `start` (the loaded fusion detector) when shared, else one fine-tuned copy each."""
    if setup.pairs is None:
        return Judges({m.name: SHARED_KEY for m in methods}, {}, protocol(setup))
    detectors = {}
    for method in methods:
        console.print(f"judge of {method.name}: fine-tuning the {setup.detector.fusion_detector} detector on its "
                      f"fusions of {len(setup.pairs)} {TRAIN_SPLIT} pairs")
        detectors[judge_key(method.name)] = _train_judge(setup, method, start, device)
    return Judges({m.name: judge_key(m.name) for m in methods}, detectors, protocol(setup))
