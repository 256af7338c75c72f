"""Fusion quality on real pairs: TSJNet-lite against the SeAFusion baseline trained with the same budget.

Issue #8 asks that `lite` fuse at least 2 pairs/s at 480x640 *while* matching or beating SeAFusion's fusion
metrics on real data. `fusion_latency` measures the speed; this section measures the quality on the MSRS
pairs of ivf-dev (../shared/data/ivf-dev):

- Budget: both networks start from the same seed and take the same number of Adam steps (batch, lr and gradient
  clipping of params.yaml ``train:``, from scratch, without task losses) on the very same random crops of the
  40 ``dev_train`` pairs.
  The crops are drawn once, before either network trains, so one network's dropout cannot shift the other's
  data. Each network trains with its own fusion loss (TSJNet: L_MFF, SeAFusion: its content loss; weights
  from params.yaml ``loss:``) and no task loss: ivf-dev has no segmentation masks.
- Scoring: every method fuses the 20 ``dev_val`` pairs at their native 480x640 through `fuse_pair` (the
  serving path) and each headline metric is averaged over those pairs, as `tsjnet evaluate` computes it.
  The untrained ``average`` rule is a reference row.
- Verdict: see `DEFINITION` (95% bootstrap intervals over the val pairs, `tsjnet.evaluation.comparison`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import track
from torch import nn
from torch.utils.data import DataLoader

from tsjnet.bench.timing import sync
from tsjnet.config import Params
from tsjnet.config.train import FusionTrainParams
from tsjnet.data import PairDataset, open_dataset
from tsjnet.errors import DataError
from tsjnet.evaluation.comparison import PerImage, compare_methods, score_pairs
from tsjnet.metrics.evaluate import dataset_mean
from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER
from tsjnet.models.registry import create_model
from tsjnet.training.distributed import World
from tsjnet.training.fusion_data import make_loader
from tsjnet.training.joint import FusionJob, build_trainer, fusion_epoch

CANDIDATE, BASELINE, REFERENCE = "tsjnet_lite", "seafusion", "classical_average"
TRAIN_NAMES, VAL_NAMES = "splits/dev_train.txt", "splits/dev_val.txt"
#: Environment variable naming the ivf-dev folder (CLI default and tests), else ../shared/data/ivf-dev.
IVF_DEV_ENV = "TSJNET_IVF_DEV"
DEFINITION = (f"{CANDIDATE} is better than {BASELINE} on a metric when the 95% bootstrap interval of the paired "
              f"per-pair difference over the val pairs excludes 0 on the better side (lower is better for "
              f"{' and '.join(sorted(LOWER_IS_BETTER))}), worse when it excludes 0 on the other side, else within "
              f"noise; the headline holds when it is better on a majority of the {len(HEADLINE_METRICS)} metrics")
console = Console(stderr=True)


def open_ivf_dev(root: Path) -> tuple[PairDataset, PairDataset]:
    """The dev_train and dev_val pairs of ivf-dev's MSRS folder; opened up front so a bad path fails at once."""
    if not root.is_dir():
        raise DataError(f"{root}: ivf-dev's MSRS folder not found; the fusion-quality benchmark trains on it. Pass "
                        f"--ivf-dev PATH/TO/ivf-dev (or set {IVF_DEV_ENV}), or skip that section with --no-quality")
    return (open_dataset("msrs", root, names_file=root / TRAIN_NAMES),
            open_dataset("msrs", root, names_file=root / VAL_NAMES))


def draw_batches(pairs: PairDataset, settings: FusionTrainParams, steps: int, seed: int) -> list[dict[str, Any]]:
    """`steps` batches of random crops (reshuffled every pass over `pairs`), drawn once for every method."""
    torch.manual_seed(seed)  # the crop positions
    loader = make_loader(pairs, batch_size=settings.batch_size, crop=settings.crop, train=True,
                         world=World(0, 1, torch.device("cpu")), seed=seed, with_boxes=False)
    passes = chain.from_iterable(repeat(loader))
    return list(track(islice(passes, steps), total=steps, description="draw training crops", console=console,
                      transient=True))


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    """Optimizer steps actually taken (Adam counts them per parameter): the budget that ran, not the one asked."""
    return max((int(state["step"]) for state in optimizer.state.values()), default=0)


def train(job: FusionJob, batches: list[dict[str, Any]], device: torch.device) -> tuple[nn.Module, int, float]:
    """Train `job`'s network with its own fusion loss, one step per batch, through the trainer's epoch function.

    Returns the model (eval mode), the steps taken and the wall seconds.
    """
    trainer = build_trainer(job, World(0, 1, device), task_nets=False)
    started = time.perf_counter()
    fusion_epoch(trainer, DataLoader(batches, batch_size=None), 0, trainer.weighting.weights(0))
    sync(device)
    return trainer.model.eval(), adam_steps(trainer.optimizer), time.perf_counter() - started


def score(model: nn.Module, pairs: PairDataset, label: str) -> tuple[dict[str, float], PerImage]:
    """The mean of every headline metric over `pairs` (fused at their native size) and the per-pair values behind
    them (for the intervals); speed is the latency section's to measure."""
    per_pair = score_pairs(model, pairs, label)
    means = dataset_mean(per_pair)
    return {metric: means[metric] for metric in HEADLINE_METRICS}, per_pair


def verdict(comparison: Mapping[str, Any]) -> dict[str, Any]:
    """Lite against SeAFusion from the paired intervals: how many metrics are better, worse, within noise."""
    row = comparison["versus"][CANDIDATE][BASELINE]
    return {"lite_better": row["better"], "lite_worse": row["worse"], "within_noise": row["within_noise"],
            "metrics_compared": len(HEADLINE_METRICS), "lite_beats_seafusion": row["majority_better"]}


def fusion_quality(train_pairs: PairDataset, val_pairs: PairDataset, params: Params, steps: int,
                   crop: int = 160) -> dict[str, Any]:
    """Train lite and SeAFusion with one budget on `train_pairs`, score them and `average` on `val_pairs`.

    The result holds the budget, one row per method (metric means, train steps and seconds, fusion speed)
    and the verdict of `verdict` (headline: lite wins a majority of the metrics, see `DEFINITION`).
    """
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    settings = params.train.model_copy(update={"epochs": 1, "crop": (crop, crop), "w_det": 0.0, "w_seg": 0.0,
                                               "task_warmup_epochs": 0, "init_from": None, "freeze_norm": False})
    batches = draw_batches(train_pairs, settings, steps, params.seed)
    rows, scores = [], {}
    for name in (CANDIDATE, BASELINE):
        console.print(f"fusion quality: training {name} for {steps} steps on {device.type}")
        job = FusionJob(name=name, params=settings.model_copy(update={"model": name}), loss=params.loss,
                        detector=params.detector, segmenter=params.segmenter, data_root=train_pairs.root,
                        seed=params.seed)
        model, taken, seconds = train(job, batches, device)
        means, scores[name] = score(model, val_pairs, name)
        rows.append({"method": name, "train_steps": taken, "train_seconds": seconds, **means})
    means, scores[REFERENCE] = score(create_model(REFERENCE), val_pairs, REFERENCE)
    rows.append({"method": REFERENCE, "train_steps": 0, "train_seconds": 0.0, **means})
    comparison = compare_methods(scores, [CANDIDATE])
    return {"definition": DEFINITION, "device": device.type, "train_pairs": len(train_pairs),
            "val_pairs": len(val_pairs), "crop": f"{crop}x{crop}", "batch_size": settings.batch_size,
            "lr": settings.lr, "seed": params.seed, "methods": rows, **verdict(comparison),
            "val intervals": comparison}
