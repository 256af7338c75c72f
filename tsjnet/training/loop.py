"""The training engine: one optimisation step and epoch for every network, and the resumable loop of the task networks.

`train_epoch` is the step every network of tsjnet trains with: the pretrained detectors and segmenter and the
per-method judges (through `fit`, below) and the fusion networks (tsjnet.training.joint, which adds its own loss
weighting, validation and distributed ranks around it). In `fit`, every epoch ends with validation and a checkpoint
(weights, optimiser, scaler, scheduler, epoch, config, metrics), so a re-run continues where it stopped; a checkpoint
written with a different config is not resumed but trained over. AMP is used only on CUDA, and gradients are
unscaled before they are clipped (`clip_and_step`): the reference clipped still-scaled gradients.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import track
from torch import nn

from tsjnet.checkpoints import load_checkpoint, save_checkpoint

LogMetrics = Callable[[dict[str, float], int], None]
# Keys that may change between runs without invalidating a checkpoint.
RESUME_IGNORED = frozenset({"epochs", "metrics", "checkpoint", "checkpoint_dir", "num_workers", "modalities", "fusion_detector",
                            "init_from", "val_every", "train_mix"})  # a detector's own start point and mix are in its FitSpec.extra
console = Console(stderr=True)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a generator for DataLoader shuffling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def clip_and_step(scaler: torch.amp.GradScaler, optimizer: torch.optim.Optimizer,
                  parameters: Iterable[nn.Parameter], max_norm: float) -> float:
    """Unscale, clip to `max_norm`, step and update the scaler; return the unscaled gradient norm.

    Clipping scaled gradients would compare `max_norm` with a norm inflated by the loss scale.
    """
    scaler.unscale_(optimizer)
    norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    scaler.step(optimizer)
    scaler.update()
    return float(norm)


#: The named loss terms of one batch; "total" is the one optimised.
Terms = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Stepper:
    """What one optimisation step changes: the optimiser, the AMP scaler and the network whose gradients are clipped."""

    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    model: nn.Module
    max_grad_norm: float


def train_epoch(name: str, epoch: tuple[int, int], loader: Iterable[Any], batch_terms: Callable[[Any], Terms],
                stepper: Stepper, after_step: Callable[[], Any] | None = None, quiet: bool = False) -> dict[str, float]:
    """One pass over `loader`, the step every network of tsjnet trains with (task networks and fusion networks):
    zero the gradients, compute the batch's terms, back-propagate the scaled "total", unscale, clip and step
    (`clip_and_step`); `after_step` runs after each step (a per-step lr schedule). A non-finite total stops the run
    naming every term. Returns the mean of each term over the batches; `epoch` is (index, count), for the progress bar."""
    index, count = epoch
    sums: dict[str, float] = {}
    for batch in track(loader, description=f"{name} epoch {index + 1}/{count}", console=console, disable=quiet):
        stepper.optimizer.zero_grad(set_to_none=True)
        terms = batch_terms(batch)
        if not torch.isfinite(terms["total"]):
            values = {key: round(float(value.detach()), 4) for key, value in terms.items()}
            raise FloatingPointError(f"{name}: loss became {float(terms['total'].detach())} in epoch {index + 1} "
                                     f"({values}); lower the learning rate")
        stepper.scaler.scale(terms["total"]).backward()
        clip_and_step(stepper.scaler, stepper.optimizer, stepper.model.parameters(), stepper.max_grad_norm)
        if after_step is not None:
            after_step()
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach())
    return {key: value / max(len(loader), 1) for key, value in sums.items()}  # type: ignore[arg-type]


@dataclass
class FitSpec:
    """What `fit` trains, and where it keeps its checkpoint."""

    name: str
    model: nn.Module
    loader: Iterable[Any]
    loss_fn: Callable[[nn.Module, Any, torch.device], torch.Tensor]
    evaluate: Callable[[nn.Module, torch.device], dict[str, float]]
    checkpoint: Path
    config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # stored with the checkpoint, must match to resume


def _resume_key(config: dict[str, Any], extra: dict[str, Any], ignored: frozenset[str]) -> dict[str, Any]:
    return {"config": {k: v for k, v in config.items() if k not in ignored}, "extra": extra}


def training_state(stateful: dict[str, Any], epoch: int, config: dict[str, Any], metrics: dict[str, float],
                   extra: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint of a finished epoch: every object's state_dict under its key, plus what `restore` checks."""
    states = {key: obj.state_dict() for key, obj in stateful.items()}
    return {**states, "epoch": epoch, "config": config, "metrics": metrics, **extra}


def restore(path: Path, name: str, config: dict[str, Any], extra: dict[str, Any], stateful: dict[str, Any],
            ignored: frozenset[str] = RESUME_IGNORED) -> dict[str, Any] | None:
    """Load a checkpoint written with the same settings into each object of `stateful`; return it, or None.

    Settings are `config` without the `ignored` keys, plus `extra` (which must match exactly).
    """
    if not path.is_file():
        return None
    state = load_checkpoint(path, required=("model", "config", "epoch"))
    stored = _resume_key(state["config"], {key: state.get(key) for key in extra}, ignored)
    if stored != _resume_key(config, extra, ignored):
        console.print(f"{name}: {path} was trained with other settings; training from scratch")
        return None
    for key, obj in stateful.items():
        obj.load_state_dict(state[key])
    console.print(f"{name}: resuming from {path} after epoch {state['epoch']}")
    return state


def fit(spec: FitSpec, *, epochs: int, lr: float, weight_decay: float = 0.0, max_grad_norm: float = 10.0,
        amp: bool = True, device: torch.device | None = None, log_metrics: LogMetrics | None = None,
        val_every: int = 1) -> dict[str, float]:
    """Train `spec.model` with Adam and a cosine schedule for `epochs`, resuming a matching checkpoint.

    Validation runs after every `val_every`-th epoch and always after the last, whose metrics are returned."""
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = spec.model.to(device)
    use_amp = amp and device.type == "cuda"
    total_steps = max(1, epochs * len(spec.loader))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
    stateful = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    state = restore(spec.checkpoint, spec.name, spec.config, spec.extra, stateful)
    start, metrics = (0, {}) if state is None else (int(state["epoch"]), dict(state.get("metrics", {})))
    def loss_terms(batch: Any) -> Terms:
        with torch.autocast(device.type, enabled=use_amp):
            return {"total": spec.loss_fn(model, batch, device)}

    for epoch in range(start, epochs):
        model.train()
        train = train_epoch(spec.name, (epoch, epochs), spec.loader, loss_terms,
                            Stepper(optimizer, scaler, model, max_grad_norm), after_step=scheduler.step)
        metrics = {"train_loss": train["total"]}
        if (epoch + 1) % val_every == 0 or epoch + 1 == epochs:
            model.eval()
            with torch.no_grad():
                metrics |= spec.evaluate(model, device)
        console.print(f"{spec.name} epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        if log_metrics:
            log_metrics({f"{spec.name}/{k}": v for k, v in metrics.items()}, epoch + 1)
        save_checkpoint(spec.checkpoint, training_state(stateful, epoch + 1, spec.config, metrics, spec.extra))
    return metrics

