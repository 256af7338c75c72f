"""The fusion methods under evaluation: trained checkpoints and parameter-free rules behind one interface.

Every checkpoint is checked before anything is loaded, so a missing required file fails the stage at once
with the file and the DVC stage that writes it, not after minutes of fusing with the other methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from tsjnet.config.evaluate import MethodSpec
from tsjnet.errors import DataError, TsjnetError
from tsjnet.models.fusion import FusionModel
from tsjnet.models.registry import create_model, list_models
from tsjnet.registry.checkpoint import is_mlflow_uri, load_fusion_model


@dataclass(frozen=True)
class Method:
    """A named fusion model ready for inference."""

    name: str
    model: FusionModel


def checkpoint_missing(spec: MethodSpec) -> bool:
    """True when `spec` names a local checkpoint file that does not exist (URIs are MLflow's to resolve)."""
    return spec.checkpoint is not None and not is_mlflow_uri(spec.checkpoint) and not Path(spec.checkpoint).is_file()


def missing_reason(spec: MethodSpec) -> str:
    """Which checkpoint is missing and how to get it."""
    fix = f"run `dvc repro {spec.stage}`" if spec.stage else "train it, or point evaluate.methods at the file"
    return f"{spec.checkpoint} not found; {fix}"


def split_available(specs: Sequence[MethodSpec]) -> tuple[list[MethodSpec], list[MethodSpec]]:
    """(specs to evaluate, optional specs skipped for lack of a checkpoint); a missing required one is an error."""
    required = [spec for spec in specs if checkpoint_missing(spec) and not spec.optional]
    if required:
        lines = [f"  - {spec.name}: {missing_reason(spec)}" for spec in required]
        raise DataError("fusion checkpoint(s) needed by the evaluate stage not found:\n" + "\n".join(lines)
                        + "\nor mark the method `optional: true` in params.yaml evaluate.methods")
    return ([spec for spec in specs if not checkpoint_missing(spec)],
            [spec for spec in specs if checkpoint_missing(spec)])


def load_method(spec: MethodSpec, device: torch.device) -> Method:
    """Build a rule from the registry or load a checkpoint/URI, in eval mode on `device`."""
    if spec.checkpoint is not None:
        return Method(spec.name, load_fusion_model(spec.checkpoint, device))
    if spec.model not in list_models():
        raise TsjnetError(f"evaluate.methods {spec.name!r}: unknown model {spec.model!r}; use one of "
                          f"{', '.join(list_models())} in params.yaml")
    return Method(spec.name, create_model(spec.model).to(device).eval())
