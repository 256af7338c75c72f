"""The fusion trainer: TSJNet's joint training, its fusion-only ablation and the SeAFusion baseline.

Every epoch: train on random crops with L_all = w_fusion L_fusion + w_det L_Det + w_seg L_Seg (weights from
the strategy, tsjnet.training.strategies; terms from tsjnet.training.objectives, task networks frozen), then
validate on whole val images with the base weights, step ReduceLROnPlateau on that val loss, log every term,
the lr and a sample grid, and checkpoint everything a resumed run needs (model, Adam, scheduler, AMP scaler,
strategy history, the fine-tuned segmenter of the rounds strategy). Re-running after a kill continues after the
last finished epoch; a checkpoint made with other settings, data or task networks is trained over instead.
AMP runs only on CUDA and gradients are unscaled before clipping (`clip_and_step`). Under ``torchrun`` the
fusion network is wrapped in DistributedDataParallel (tsjnet.training.distributed).

The final model is written with `tsjnet.registry.checkpoint.save_fusion_model` (the format evaluation and the
registry read), together with val metrics: loss terms and the task scores of IR, VIS and fused val images,
computed exactly as the evaluate stage does (`tsjnet.tasks.scoring`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from torchvision.utils import make_grid

from tsjnet.colour import luminance, to_tensor
from tsjnet.config.loss import LossParams
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.config.train import FusionTrainParams
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.tasks.scoring import TaskInput, TaskNets, evaluate_inputs, load_task_nets, source_input
from tsjnet.data.paired import PairDataset
from tsjnet.errors import DataError
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import build_fusion_model, read_checkpoint, save_fusion_model
from tsjnet.registry.fuse import fuse_pair
from tsjnet.tasks.detector import detector_checkpoint
from tsjnet.tasks.inputs import as_rgb
from tsjnet.tasks.losses import freeze, frozen_mode
from tsjnet.tasks.segmenter import load_segmenter
from tsjnet.checkpoints import save_checkpoint
from tsjnet.training.distributed import (World, barrier, broadcast_module, check_in_sync, close_world,
                                         mean_over_ranks)
from tsjnet.training.fusion_data import file_digest, make_loader, open_splits, record_files
from tsjnet.training.loop import (RESUME_IGNORED, Stepper, console, restore, seed_everything, train_epoch,
                                 training_state)
from tsjnet.reports import TrainMetrics
from tsjnet.training.objectives import FusionPass, TaskJudges
from tsjnet.training.strategies import LossWeighting, make_weighting

#: Params that may change between runs without invalidating a checkpoint (outputs and logging only).
RUN_ONLY = RESUME_IGNORED | {"out", "log_images_every", "n_log_images", "ablation_checkpoint", "ablation_out",
                             "ablation_metrics", "warmup_checkpoint", "anneal_epochs"}  # its effect: ANNEAL_KEY
#: Params that only matter once the task losses are on: a run without them may start from a joint run's warm-up.
TASK_ONLY = frozenset({"w_det", "w_seg", "strategy", "det_terms", "include_objectness", "fusion_detector",
                       "seg_render", "rounds", "dynamic"})
#: Checkpoint key of the wall time spent on the epochs it holds (a resumed run's train_seconds adds to it).
SECONDS_KEY = "train_seconds"
#: Checkpoint key of the epoch the final low-lr phase starts at (None: none), pinned because `epochs` is not:
#: a run extended to more epochs anneals later, so it must not resume a checkpoint annealed earlier.
ANNEAL_KEY = "anneal_from"
#: The training state a warm-up determines (what `warm_start` takes from another run).
WARMUP_STATE = ("model", "optimizer", "scheduler", "scaler")


class EpochLog(Protocol):
    """Where per-epoch results go (MLflow in the stages: tsjnet.training.epoch_log)."""

    def metrics(self, values: dict[str, float], step: int) -> None: ...

    def images(self, grid: torch.Tensor, step: int) -> None: ...


@dataclass(frozen=True)
class FusionJob:
    """One training run: the network, its settings and losses, the task networks that judge it, the data."""

    name: str  # console / metric prefix, e.g. "tsjnet", "tsjnet_fusion_only", "seafusion"
    params: FusionTrainParams
    loss: LossParams
    detector: DetectorParams
    segmenter: SegmenterParams
    data_root: Path
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    #: (train, val) pairs to use instead of `data_root`'s split folders, e.g. splits drawn from two datasets.
    splits: tuple[PairDataset, PairDataset] | None = None
    #: False: no detector or segmenter is loaded or scored (fusion loss alone; needs w_det = w_seg = 0).
    task_nets: bool = True

    def open_splits(self) -> tuple[PairDataset, PairDataset]:
        """The (train, val) pairs of this run."""
        return self.splits or open_splits(self.data_root)


@dataclass
class Trainer:
    """The objects of a run; built once by `train_fusion`, used by the epoch functions."""

    job: FusionJob
    world: World
    model: nn.Module
    step_fn: nn.Module  # FusionPass, DDP-wrapped when distributed
    judges: TaskJudges | None  # None: built without task networks (`build_trainer(..., task_nets=False)`)
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau
    scaler: torch.amp.GradScaler
    weighting: LossWeighting
    use_amp: bool

    @property
    def device(self) -> torch.device:
        return self.world.device

    def stateful(self) -> dict[str, Any]:
        """What the checkpoint stores; the segmenter only when the strategy fine-tunes it."""
        objects = {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler,
                   "scaler": self.scaler, "weighting": self.weighting}
        if self.job.params.strategy == "seafusion_rounds":
            objects["segmenter"] = self.judges.segmenter
        return objects


def load_judges(job: FusionJob, device: torch.device) -> TaskJudges:
    """The frozen pretrained detectors and segmenter; `params.fusion_detector` overrides detector.fusion_detector."""
    params = job.params
    detector = job.detector if params.fusion_detector is None else job.detector.model_copy(
        update={"fusion_detector": params.fusion_detector})
    nets = load_task_nets(detector, job.segmenter, device)
    for net in [*nets.detectors.values(), nets.segmenter]:
        freeze(net)
    return TaskJudges(nets.detectors, nets.segmenter, params.det_terms, params.include_objectness, params.seg_render)


def batch_terms(trainer: Trainer, batch: dict[str, Any], weights: dict[str, float]) -> dict[str, torch.Tensor]:
    """Every loss term of one batch, the groups ``fusion``/``det``/``seg`` and the weighted ``total``.

    A group whose weight is 0 is not computed at all (the fusion-only ablation never runs a task network).
    """
    device = trainer.device
    ir, vi_rgb = batch["ir"].to(device), batch["vi"].to(device)
    with torch.autocast(device.type, enabled=trainer.use_amp):
        fused, fusion_terms, recon = trainer.step_fn(ir, luminance(vi_rgb))
        terms = {k: v for k, v in fusion_terms.items() if k != "total"} | {"fusion": fusion_terms["total"]}
        if weights["det"] > 0:
            det = trainer.judges.detection(fused, recon, batch["boxes"], vi_rgb)
            terms |= det | {"det": torch.stack(list(det.values())).sum()}
        if weights["seg"] > 0:
            terms["seg"] = trainer.judges.segmentation(fused, vi_rgb, batch["mask"].to(device))
    terms["total"] = sum(weights[group] * terms[group] for group in weights if group in terms)
    return terms


def _means(sums: dict[str, float], count: int, world: World) -> dict[str, float]:
    return mean_over_ranks({k: v / max(count, 1) for k, v in sums.items()}, world)


def train_mode(trainer: Trainer) -> None:
    """Training mode; a fine-tuning run (`init_from` with `freeze_norm`) keeps every BatchNorm's running statistics
    those of its start model: batches of another domain (SynthScenes) would otherwise replace the statistics the
    network was trained with (real pairs) and shift its output there even at a tiny learning rate."""
    trainer.step_fn.train()
    if trainer.job.params.init_from and trainer.job.params.freeze_norm:
        for module in trainer.model.modules():
            if isinstance(module, _BatchNorm):
                module.eval()


def fusion_epoch(trainer: Trainer, loader: DataLoader, epoch: int, weights: dict[str, float]) -> dict[str, float]:
    """One pass over the (sharded) training crops; mean of every term over the batches and ranks."""
    params = trainer.job.params
    train_mode(trainer)
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)
    means = train_epoch(trainer.job.name, (epoch, params.epochs), loader,
                        lambda batch: batch_terms(trainer, batch, weights),
                        Stepper(trainer.optimizer, trainer.scaler, trainer.model, params.max_grad_norm),
                        quiet=not trainer.world.main)
    return mean_over_ranks(means, trainer.world)


@torch.no_grad()
def validate(trainer: Trainer, loader: DataLoader, epoch: int) -> dict[str, float]:
    """Mean terms on whole val images with the epoch's validation weights (`LossWeighting.validation_weights`)."""
    trainer.step_fn.eval()
    sums: dict[str, float] = {}
    weights = trainer.weighting.validation_weights(epoch)
    for batch in loader:
        for key, value in batch_terms(trainer, batch, weights).items():
            sums[key] = sums.get(key, 0.0) + float(value)
    return _means(sums, len(loader), trainer.world)


def adapt_segmenter(trainer: Trainer, loader: DataLoader) -> None:
    """SeAFusion between rounds: fine-tune the segmenter on the current fused images (rank 0, then shared).

    BatchNorm statistics stay frozen (batches of 2 would make them noise); a fresh Adam each round.
    """
    params, segmenter = trainer.job.params.rounds, trainer.judges.segmenter
    if trainer.world.main and params.segmenter_steps:
        segmenter.requires_grad_(True)
        optimizer = torch.optim.Adam(segmenter.parameters(), lr=params.segmenter_lr)
        trainer.model.eval()
        steps = 0
        with frozen_mode(segmenter, train=True):
            while steps < params.segmenter_steps:
                for batch in loader:
                    ir, vi_rgb = batch["ir"].to(trainer.device), batch["vi"].to(trainer.device)
                    with torch.no_grad():
                        image = trainer.judges.render(trainer.model.fuse(ir, luminance(vi_rgb)), vi_rgb)
                    loss = F.cross_entropy(segmenter(image), batch["mask"].to(trainer.device), ignore_index=IGNORE_INDEX)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    steps += 1
                    if steps == params.segmenter_steps:
                        break
        freeze(segmenter)
    broadcast_module(segmenter, trainer.world)


@torch.no_grad()
def sample_grid(trainer: Trainer, loader: DataLoader, count: int) -> torch.Tensor:
    """Rows IR | VIS | fused (rendered as the segmenter sees it) for the first `count` val pairs."""
    trainer.model.eval()
    panels = []
    for index, batch in enumerate(loader):
        if index == count:
            break
        ir, vi_rgb = batch["ir"].to(trainer.device), batch["vi"].to(trainer.device)
        fused = trainer.judges.render(trainer.model.fuse(ir, luminance(vi_rgb)), vi_rgb)
        panels += [as_rgb(ir)[0], vi_rgb[0], fused[0]]
    return make_grid(torch.stack(panels).float().cpu(), nrow=3, padding=2)


def task_scores(trainer: Trainer) -> dict[str, float]:
    """mAP@0.5 and mIoU of IR, VIS and fused val images with the pretrained task networks, as evaluate scores them.

    The rounds strategy's fine-tuned segmenter is for training only: scores use the pretrained one from disk.
    """
    job, model = trainer.job, trainer.model
    _, val = job.open_splits()
    model.eval()
    segmenter = trainer.judges.segmenter
    if job.params.strategy == "seafusion_rounds":
        segmenter = load_segmenter(job.segmenter.checkpoint).to(trainer.device)
    fused = TaskInput("fusion", "fusion", lambda sample: as_rgb(to_tensor(fuse_pair(model, sample.ir, sample.vi))))
    inputs = [source_input("infrared"), source_input("visible"), fused]
    scores = evaluate_inputs(inputs, val, TaskNets(trainer.judges.detectors, segmenter), trainer.device)
    return {f"val_{key}_{name}": float(score.metrics[key]) for name, score in scores.items()
            for key in ("map50", "miou") if key in score.metrics}


def warm_start(trainer: Trainer, config: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any] | None:
    """Start from the shared warm-up state (`params.warmup_checkpoint`) when all but its task settings match.

    Until the task losses join, runs that differ only in them are the same computation (same seed, weights and
    val loss), so whichever of the joint run and its fusion-only ablation runs second branches off exactly where
    they start to differ, and the warm-up epochs are trained once. The file is a shortcut, not a dependency:
    without it (another machine, other settings) a run trains its own warm-up, with the same result.
    """
    path = trainer.job.params.warmup_checkpoint
    if path is None or not Path(path).is_file():
        return None
    # Only what the warm-up changes: the rounds strategy's segmenter (absent from a fusion-only run's file) and
    # the weighting history first change after it.
    warmed = {key: obj for key, obj in trainer.stateful().items() if key in WARMUP_STATE}
    return restore(Path(path), trainer.job.name, config, warmup_view(trainer.job.params, extra), warmed,
                   ignored=RUN_ONLY | TASK_ONLY)


def warmup_view(params: FusionTrainParams, state: dict[str, Any]) -> dict[str, Any]:
    """`state` as the warm-up sees it: a final low-lr phase that starts after the warm-up is not part of it, so
    runs that anneal at different epochs (or not at all) still share their warm-up."""
    anneal_from = state[ANNEAL_KEY]
    inside = anneal_from is not None and anneal_from < params.task_warmup_epochs
    return {**state, ANNEAL_KEY: anneal_from if inside else None}


def restart_plateau(scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau) -> None:
    """Forget the best val loss: when the task losses join, the monitored sum gains terms and is a new quantity."""
    scheduler.best = scheduler.mode_worse
    scheduler.num_bad_epochs = 0


def input_digest(job: FusionJob) -> str:
    """Digest of the data and task-network files; a change invalidates the checkpoint."""
    train, val = job.open_splits()
    task_files = [detector_checkpoint(job.detector, m) for m in job.detector.modalities] + [Path(job.segmenter.checkpoint)]
    task_files = task_files if job.task_nets else []
    init = [Path(job.params.init_from)] if job.params.init_from else []
    return file_digest([*record_files(train), *record_files(val), *task_files, *init])


def initial_model(job: FusionJob) -> nn.Module:
    """A fresh network from the registry, or the trained weights of `params.init_from` to fine-tune.

    The start file must hold the very network this run trains (same registry name and factory kwargs), so a
    fine-tuning run never half-loads another architecture.
    """
    params = job.params
    if params.init_from is None:
        return create_model(params.model, **job.model_kwargs)
    state = read_checkpoint(params.init_from)
    if (state["model"], state["kwargs"]) != (params.model, job.model_kwargs):
        raise DataError(f"{job.name}: init_from {params.init_from} holds {state['model']!r} with kwargs "
                        f"{state['kwargs']}, but this run trains {params.model!r} with {job.model_kwargs}; point "
                        "init_from at a checkpoint of the same model, or set it to null to train from scratch")
    return build_fusion_model(state["model"], state["kwargs"], state["state_dict"]).train()


def build_trainer(job: FusionJob, world: World, task_nets: bool = True) -> Trainer:
    """Seeded model, frozen judges, Adam + plateau schedule, AMP scaler and the loss weighting.

    `task_nets=False` loads no detector or segmenter, so a fusion-only run that is never task-scored (the
    quality benchmark on data without masks) needs no pretrained checkpoints; it requires w_det = w_seg = 0.
    """
    params = job.params
    if not task_nets and (params.w_det > 0 or params.w_seg > 0):
        raise ValueError(f"{job.name}: a trainer without task networks needs w_det = w_seg = 0, "
                         f"got {params.w_det} and {params.w_seg}")
    seed_everything(job.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    model = initial_model(job).to(world.device)
    anchor = copy.deepcopy(model) if params.init_from and params.anchor > 0 else None  # the frozen start
    step_fn: nn.Module = FusionPass(model, job.loss, anchor, params.anchor)
    if world.size > 1:
        step_fn = DistributedDataParallel(step_fn, device_ids=[world.device.index] if world.device.type == "cuda" else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    # PyTorch reduces once the bad-epoch count EXCEEDS patience: patience = stalls - 1 reduces at the 3rd stall.
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=params.plateau_factor,
                                                           patience=params.plateau_stalls - 1)
    use_amp = params.amp and world.device.type == "cuda"
    judges = load_judges(job, world.device) if task_nets else None
    return Trainer(job, world, model, step_fn, judges, optimizer, scheduler,
                   torch.amp.GradScaler(world.device.type, enabled=use_amp), make_weighting(params), use_amp)


def anneal(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Start the final low-lr phase: every group's lr becomes `lr` unless the plateau schedule went lower."""
    for group in optimizer.param_groups:
        group["lr"] = min(group["lr"], lr)


def save_warmup(trainer: Trainer, state: dict[str, Any]) -> None:
    """Rank 0 shares the state at the end of the warm-up (the start, without one) for other runs' `warm_start`."""
    if trainer.job.params.warmup_checkpoint is not None and trainer.world.main:
        save_checkpoint(trainer.job.params.warmup_checkpoint, warmup_view(trainer.job.params, state))


def train_fusion(job: FusionJob, world: World, log: EpochLog | None = None) -> dict[str, float]:
    """Train (or resume) `job`; rank 0 writes the final model (`params.out`) and metrics (`params.metrics`)."""
    params = job.params
    started = time.perf_counter()
    trainer = build_trainer(job, world, task_nets=job.task_nets)
    torch.manual_seed(job.seed + world.rank)  # each rank draws its own crops
    train_pairs, val_pairs = job.open_splits()
    common = dict(batch_size=params.batch_size, crop=params.crop, world=world, seed=job.seed,
                  num_workers=params.num_workers)
    train_loader = make_loader(train_pairs, train=True, with_boxes=params.w_det > 0, **common)
    val_loader = make_loader(val_pairs, train=False, with_boxes=params.w_det > 0, **common)
    config = params.model_dump()
    anneal_from = params.epochs - params.anneal_epochs if params.anneal_epochs else None
    extra = {"model_name": params.model, "model_kwargs": job.model_kwargs, "loss": job.loss.model_dump(),
             "seed": job.seed, "inputs": input_digest(job), ANNEAL_KEY: anneal_from}
    state = restore(Path(params.checkpoint), job.name, config, extra, trainer.stateful(), ignored=RUN_ONLY)
    state = state or warm_start(trainer, config, extra)
    start, metrics = (int(state["epoch"]), dict(state["metrics"])) if state else (0, {})
    # Wall time of every epoch this model has trained, across resumes (a warm-up another stage trained included).
    earlier_seconds = float(state.get(SECONDS_KEY, 0.0)) if state else 0.0

    def checkpoint_state(epoch: int) -> dict[str, Any]:
        seconds = earlier_seconds + time.perf_counter() - started
        return {**training_state(trainer.stateful(), epoch, config, metrics, extra), SECONDS_KEY: seconds}

    warmup = params.task_warmup_epochs
    if start == warmup == 0:
        save_warmup(trainer, checkpoint_state(0))
    for epoch in range(start, params.epochs):
        if epoch == warmup > 0:
            restart_plateau(trainer.scheduler)
        if epoch == anneal_from:
            anneal(trainer.optimizer, params.lr * params.plateau_factor)
        weights = trainer.weighting.weights(epoch)
        train_terms = fusion_epoch(trainer, train_loader, epoch, weights)
        trainer.weighting.update(epoch, train_terms)
        val_terms = validate(trainer, val_loader, epoch)
        trainer.scheduler.step(val_terms["total"])
        if trainer.weighting.round_ended(epoch) and epoch + 1 < params.epochs:
            adapt_segmenter(trainer, train_loader)
        metrics = {**{f"train/{k}": v for k, v in train_terms.items()}, **{f"val/{k}": v for k, v in val_terms.items()},
                   **{f"weight/{k}": v for k, v in weights.items()}, "lr": trainer.optimizer.param_groups[0]["lr"]}
        if world.main:
            console.print(f"{job.name} epoch {epoch + 1}/{params.epochs}: train {train_terms['total']:.4f}, "
                          f"val {val_terms['total']:.4f}, lr {metrics['lr']:.2e}")
            if log:
                log.metrics(metrics, epoch + 1)
                if params.log_images_every and (epoch + 1) % params.log_images_every == 0:
                    log.images(sample_grid(trainer, val_loader, params.n_log_images), epoch + 1)
            state = checkpoint_state(epoch + 1)
            save_checkpoint(params.checkpoint, state)
            if epoch + 1 == warmup:
                save_warmup(trainer, state)
        barrier(world)
    check_in_sync(trainer.model, world)
    if world.size > 1 and world.main:
        console.print(f"{job.name}: weights identical on all {world.size} ranks")
    # The rest is rank 0's alone: leave the group first, or torchmetrics would wait for the others to sync.
    close_world(world)
    if not world.main:
        return metrics
    final = {**{k: v for k, v in metrics.items() if k.startswith("val/")}, **(task_scores(trainer) if job.task_nets else {}),
             "epochs": params.epochs, "train_seconds": round(earlier_seconds + time.perf_counter() - started, 1)}
    if log:
        log.metrics({k: v for k, v in final.items() if k.startswith("val_")}, params.epochs)
    save_fusion_model(params.out, trainer.model, params.model, job.model_kwargs,
                      meta={"stage": job.name, "strategy": params.strategy, "metrics": final})
    TrainMetrics(**final).write(params.metrics)
    return final
