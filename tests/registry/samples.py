"""Shared pieces of the registry tests: the small model spec, random image pairs, MLflow redirection."""

from __future__ import annotations

import numpy as np
import pytest

#: A learned model with a few hundred weights: a real state_dict (convs + BatchNorm) that fuses any size.
SMALL_MODEL = ("seafusion", {"channels": (4, 4, 4)})


def random_pair(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(IR gray (H, W), VIS RGB (H, W, 3)) uint8 noise."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (height, width), dtype=np.uint8),
            rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def point_mlflow_at(patch: pytest.MonkeyPatch, uri: str, experiment_id: str) -> None:
    """Send MLflow (this process and subprocesses) to `uri`/`experiment_id`, undone when `patch` is.

    mlflow.set_tracking_uri / set_experiment would leak into later tests: the globals they set are patched.
    """
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    patch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    patch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", uri)
    patch.setattr("mlflow.tracking.fluent._active_experiment_id", experiment_id)
