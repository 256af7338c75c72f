"""Data-parallel training under ``torchrun``: process group from the environment, rank-0 side effects.

Several GPUs on one machine::

    torchrun --standalone --nproc_per_node 4 stages/train.py --params params.yaml

Each process takes the GPU of its ``LOCAL_RANK``, sees its own shard of the training set (DistributedSampler)
and averages gradients with NCCL (gloo on CPU). Only rank 0 logs to MLflow and writes checkpoints and models;
every rank reads the same checkpoint when resuming. ``batch_size`` is per process, so the effective batch is
``batch_size * nproc_per_node``. A plain ``python stages/train.py`` is a world of one and needs none of this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from tsjnet.errors import TsjnetError


@dataclass(frozen=True)
class World:
    """This process's place in the job."""

    rank: int
    size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0 alone writes files and logs."""
        return self.rank == 0


def init_world(device: torch.device | None = None) -> World:
    """Join the process group torchrun describes (WORLD_SIZE > 1), or return a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(0, 1, device or torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    local_rank = int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), size, device or torch.device("cpu"))


def close_world(world: World) -> None:
    """Leave the process group (a no-op for a world of one)."""
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    """Wait for every rank (e.g. until rank 0 has written a checkpoint)."""
    if world.size > 1:
        dist.barrier()


def mean_over_ranks(values: dict[str, float], world: World) -> dict[str, float]:
    """Average per-rank numbers so every rank takes the same scheduler/weighting decisions."""
    if world.size == 1 or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor)
    return {k: float(v) / world.size for k, v in zip(keys, tensor.tolist())}


def broadcast_module(module: nn.Module, world: World) -> None:
    """Copy rank 0's parameters and buffers to every rank (after a rank-0-only update)."""
    if world.size == 1:
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=0)


def check_in_sync(module: nn.Module, world: World) -> float:
    """Fail if the ranks' weights differ (a silent desync would save one rank's model as if it were all's).

    Returns the largest absolute difference to rank 0 over every parameter and buffer (0.0 for one process).
    """
    if world.size == 1:
        return 0.0
    worst = torch.zeros((), dtype=torch.float64, device=world.device)
    for tensor in [*module.parameters(), *module.buffers()]:
        reference = tensor.detach().clone()
        dist.broadcast(reference, src=0)
        worst = torch.maximum(worst, (tensor.detach() - reference).abs().max().double())
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    if worst > 0:
        raise TsjnetError(f"ranks disagree on the trained weights (max difference {float(worst):.3g}); "
                          "every rank must apply the same updates")
    return float(worst)
