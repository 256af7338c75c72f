"""Fusion model checkpoints that rebuild themselves: registry name + factory kwargs + weights (+ free metadata).

Storing the `tsjnet.models.registry` name and kwargs instead of a pickled module means any registered model
(TSJNet variants, SeAFusion, classical rules) is rebuilt by its own factory, and the file loads with
``torch.load(weights_only=True)``: a checkpoint pulled from a shared registry cannot run code on load.
Plain state dicts from elsewhere (weights released by a method's authors) load into a registered model whose
module names match them, with the same safety (`load_state_dict_model`).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tsjnet.allocator import keep_freed_memory
from tsjnet.errors import DataError
from tsjnet.models.fusion import FusionModel
from tsjnet.models.inference import fold_for_inference
from tsjnet.models.registry import create_model, list_models

CHECKPOINT_KEYS = ("model", "kwargs", "state_dict", "meta")
#: URI schemes MLflow resolves to a logged model (anything else is a local checkpoint path).
MLFLOW_SCHEMES = ("models:/", "runs:/", "mlflow-artifacts:/", "s3://", "http://", "https://")
#: Where torch's weights-only refusal names the reason (the global or opcode it would not load).
_WEIGHTS_ONLY_REFUSAL = "WeightsUnpickler error:"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to `torch.device`."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def load_weights_only(path: str | Path, what: str, fix: str) -> Any:
    """``torch.load(weights_only=True)`` on CPU: tensors and plain containers only, so a tampered file cannot run code.

    Whatever torch refuses (a pickle that would import or call anything, a corrupt or foreign file) becomes a
    `DataError` "`what` cannot be read (torch's reason); `fix`", where `what` names the file.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:  # torch's refusal: its message advises weights_only=False, so cut it
        detail = str(error).partition(_WEIGHTS_ONLY_REFUSAL)[2] or str(error)
        reason = re.split(r"\.\s|\n", detail.strip(), maxsplit=1)[0]
        raise DataError(f"{what} cannot be read: the weights-only loader refused it ({reason}), nothing in it was "
                        f"run; {fix}") from None
    except Exception as error:  # torch raises many types for corrupt or foreign files
        raise DataError(f"{what} cannot be read ({error}); {fix}") from None


def build_fusion_model(name: str, kwargs: dict[str, Any], state_dict: dict[str, torch.Tensor]) -> FusionModel:
    """Rebuild `name` from the model registry and load its weights strictly (a mismatch names the keys)."""
    model = create_model(name, **kwargs)
    if not isinstance(model, FusionModel):
        raise DataError(f"model {name!r} is not a fusion model ({type(model).__name__}); register a FusionModel")
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise DataError(f"weights do not fit model {name!r} with kwargs {kwargs}: {error}") from None
    return model.eval()


def save_fusion_model(path: str | Path, model: nn.Module, name: str, kwargs: dict[str, Any] | None = None,
                      meta: dict[str, Any] | None = None) -> Path:
    """Write `model` as a checkpoint; it is rebuilt from (name, kwargs) first so a wrong pair fails now, not at serving.

    Written atomically (temp file + rename): an interrupted save never leaves a half checkpoint behind.
    """
    kwargs = dict(kwargs or {})
    state_dict = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    build_fusion_model(name, kwargs, state_dict)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": name, "kwargs": kwargs, "state_dict": state_dict, "meta": dict(meta or {})}, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dictionary, checked for the four keys; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"fusion checkpoint {path} not found: run the train stage first (dvc repro train)")
    state = load_weights_only(path, f"fusion checkpoint {path}",
                              "re-create it with tsjnet.registry.checkpoint.save_fusion_model")
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise DataError(f"fusion checkpoint {path} lacks {missing}: it was not written by save_fusion_model; "
                        "re-create it with tsjnet.registry.checkpoint.save_fusion_model")
    return state


def for_inference(model: FusionModel, device: str | torch.device = "auto") -> FusionModel:
    """`model` in eval mode on `device`, as every loader below returns it; channels-last weights (same maths) for a
    model that runs channels-last (`FusionModel.channels_last`).

    TSJNet runs its activations channels-last (tsjnet.models.tsjnet.prepare); with default-layout weights oneDNN
    re-ordered them on every call, which made `fuse_pair` about 2x slower than the benchmark's channels-last model.
    Batch norms and ResNeSt radix sums are folded into their convolutions (`fold_for_inference`, same outputs to
    float rounding, fewer passes over full-size maps), so the returned model is for inference, not for training.
    The process keeps freed memory for the next call (`tsjnet.allocator.keep_freed_memory`).
    """
    keep_freed_memory()
    layout = torch.channels_last if model.channels_last else torch.preserve_format
    return fold_for_inference(model.eval()).to(resolve_device(device), memory_format=layout)


def load_checkpoint_model(path: str | Path, device: str | torch.device = "auto") -> FusionModel:
    """A local checkpoint file -> the rebuilt model ready for inference on `device` (`for_inference`)."""
    state = read_checkpoint(path)
    return for_inference(build_fusion_model(state["model"], state["kwargs"], state["state_dict"]), device)


def load_state_dict_model(name: str, path: str | Path, device: str | torch.device = "auto",
                          fix: str = "put the file there or give its path") -> FusionModel:
    """Registered model `name` with the plain state dict in `path` (e.g. weights its authors released), in eval mode.

    Such a file names no model, so the caller does; it is still read with ``weights_only=True`` (no code runs on
    load) and every key must match, so weights of another network fail naming the keys instead of half-loading.
    """
    if name not in list_models():
        raise DataError(f"unknown model {name!r} for weights file {path}; known models: {', '.join(list_models())}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"weights file {path} for model {name!r} not found; {fix}")
    state_dict = load_weights_only(path, f"weights file {path}", "expected a plain PyTorch state dict")
    if not isinstance(state_dict, dict):
        raise DataError(f"weights file {path} holds a {type(state_dict).__name__}, not a state dict")
    try:
        model = build_fusion_model(name, {}, state_dict)
    except DataError as error:
        raise DataError(f"weights file {path}: {error}") from None
    return for_inference(model, device)


def is_mlflow_uri(path_or_uri: str | Path) -> bool:
    """True for ``models:/name@alias``, ``runs:/id/path`` and other URIs MLflow resolves."""
    return str(path_or_uri).startswith(MLFLOW_SCHEMES)


def load_fusion_model(path_or_uri: str | Path, device: str | torch.device = "auto") -> FusionModel:
    """A local checkpoint or an MLflow model URI (``models:/tsjnet@champion``) -> the fusion model on `device`."""
    if not is_mlflow_uri(path_or_uri):
        return load_checkpoint_model(path_or_uri, device)
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    from tsjnet.registry.pyfunc import FusionPyfunc

    try:
        wrapper = mlflow.pyfunc.load_model(str(path_or_uri)).unwrap_python_model()
    except MlflowException:  # another flavour (e.g. a registered detector): no python model inside
        wrapper = None
    if not isinstance(wrapper, FusionPyfunc):
        raise DataError(f"{path_or_uri} is not a tsjnet fusion model; pass the URI of a version of the model the "
                        "register stage logs (register.model_name, e.g. models:/tsjnet@champion)")
    return for_inference(wrapper.model, device)


def load_model(model: str | Path, weights: str | Path | None = None,
               device: str | torch.device = "auto") -> FusionModel:
    """What a ``--model`` (and ``--weights``) option names, ready for inference: a registered model name with a
    plain state dict, else a checkpoint file or MLflow URI (the one choice the CLI, export and batch share)."""
    if weights is not None:
        return load_state_dict_model(str(model), weights, resolve_device(device))
    return load_fusion_model(model, device)
