"""The fusion methods under evaluation: trained checkpoints, released weights and rules behind one interface.

Every checkpoint or weights file is checked before anything is loaded, so a missing required file fails the
stage at once with the file and the DVC stage that writes it, not after minutes of fusing with the other methods.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from tsjnet.config.evaluate import MethodSpec
from tsjnet.errors import DataError, TsjnetError
from tsjnet.models.fusion import FusionModel
from tsjnet.models.registry import create_model, list_models
from tsjnet.registry.checkpoint import is_mlflow_uri, load_fusion_model, load_state_dict_model


@dataclass(frozen=True)
class Method:
    """A named fusion model ready for inference."""

    name: str
    model: FusionModel


def local_file(spec: MethodSpec) -> str | None:
    """The file `spec` loads: a local checkpoint or a weights file; None for a rule or a URI (MLflow's to resolve)."""
    if spec.checkpoint is not None:
        return None if is_mlflow_uri(spec.checkpoint) else spec.checkpoint
    return spec.weights


def file_missing(spec: MethodSpec) -> bool:
    """True when `spec` names a local checkpoint or weights file that does not exist."""
    path = local_file(spec)
    return path is not None and not Path(path).is_file()


def missing_reason(spec: MethodSpec) -> str:
    """Which file is missing and how to get it."""
    if spec.stage:
        fix = f"run `dvc repro {spec.stage}`"
    elif spec.weights:
        fix = "put the weights there, or point evaluate.methods at the file"
    else:
        fix = "train it, or point evaluate.methods at the file"
    return f"{local_file(spec)} not found; {fix}"


def split_available(specs: Sequence[MethodSpec]) -> tuple[list[MethodSpec], list[MethodSpec]]:
    """(specs to evaluate, optional specs skipped for lack of their file, each warned); a missing required one fails."""
    required = [spec for spec in specs if file_missing(spec) and not spec.optional]
    if required:
        lines = [f"  - {spec.name}: {missing_reason(spec)}" for spec in required]
        raise DataError("fusion checkpoint(s) or weights needed by the evaluate stage not found:\n" + "\n".join(lines)
                        + "\nor mark the method `optional: true` in params.yaml evaluate.methods")
    skipped = [spec for spec in specs if file_missing(spec)]
    for spec in skipped:
        warnings.warn(f"method {spec.name!r} skipped (optional): {missing_reason(spec)}", stacklevel=2)
    return [spec for spec in specs if not file_missing(spec)], skipped


def load_method(spec: MethodSpec, device: torch.device) -> Method:
    """Load a checkpoint/URI, or build a registered model (with its weights file if given), in eval mode on `device`."""
    if spec.checkpoint is not None:
        return Method(spec.name, load_fusion_model(spec.checkpoint, device))
    if spec.model not in list_models():
        raise TsjnetError(f"evaluate.methods {spec.name!r}: unknown model {spec.model!r}; use one of "
                          f"{', '.join(list_models())} in params.yaml")
    if spec.weights is not None:
        return Method(spec.name, load_state_dict_model(spec.model, spec.weights, device))
    return Method(spec.name, create_model(spec.model).to(device).eval())
