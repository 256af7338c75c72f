"""MLflow sink of the fusion trainer's per-epoch results; used inside `tsjnet.tracking.stage_run`.

Metrics are logged with the epoch as step (loss curves in the MLflow UI); sample grids become PNG artifacts
``samples/epoch_NNN.png`` so the fused images of every epoch can be compared side by side.
"""

from __future__ import annotations

import torch

from tsjnet.colour import to_uint8


class MlflowEpochLog:
    """`tsjnet.training.joint.EpochLog` writing to the active MLflow run."""

    def metrics(self, values: dict[str, float], step: int) -> None:
        import mlflow

        mlflow.log_metrics(values, step=step)

    def images(self, grid: torch.Tensor, step: int) -> None:
        import mlflow

        mlflow.log_image(to_uint8(grid), artifact_file=f"samples/epoch_{step:03d}.png")
