"""What the training stage scripts share: join the torchrun world, open the MLflow stage run on rank 0, train.

Only rank 0 opens a run (one MLflow run per stage, whatever the number of processes); the other ranks train
silently and leave the process group when done, also on failure.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

from tsjnet.config import Params
from tsjnet.tracking import stage_run
from tsjnet.training.distributed import close_world, init_world
from tsjnet.training.epoch_log import MlflowEpochLog
from tsjnet.training.joint import FusionJob, train_fusion


def run_job(job: FusionJob, stage: str, params: Params, sections: tuple[str, ...]) -> None:
    """Train `job` under stage `stage` (MLflow run logging `sections` of params); rank 0 prints a summary."""
    started = time.perf_counter()
    world = init_world()
    try:
        with stage_run(stage, params, sections) if world.main else nullcontext():
            metrics = train_fusion(job, world, MlflowEpochLog() if world.main else None)
    finally:
        close_world(world)
    if world.main:
        scores = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("val_"))
        print(f"{stage}: {job.params.out} ({world.size} process(es)); {scores} [{time.perf_counter() - started:.1f} s]")

