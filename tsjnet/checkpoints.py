"""Checkpoints as one file: weights, optimiser state, epoch and the config that built the model.

Storing the config makes a checkpoint self-describing (the loader rebuilds the right network) and
lets a re-run tell whether it may resume (same config) or must start over.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from tsjnet.errors import DataError


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write atomically (temp file + rename) so an interrupted run never leaves a half checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, required: tuple[str, ...] = ("model", "config")) -> dict[str, Any]:
    """Read a checkpoint on CPU; raise `DataError` naming the file when it is missing or foreign."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found: run the pretraining stage first (dvc repro)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # no code runs on load
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise DataError(f"checkpoint {path} cannot be read ({error}); delete it and re-run the stage") from None
    missing = [key for key in required if not isinstance(state, dict) or key not in state]
    if missing:
        raise DataError(f"checkpoint {path} lacks {missing}: it was not written by tsjnet; delete it and re-run")
    return state
