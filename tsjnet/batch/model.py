"""Which model a batch run uses: resolved once on the driver, loaded once per worker process.

An alias such as ``models:/tsjnet@champion`` can move while a long run is going; the driver resolves it to
the registry version (``models:/tsjnet/7``) before any shard starts, so every shard fuses with the same
weights and the manifest records the version. Local files are identified by a content hash instead.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tsjnet.errors import DataError
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.checkpoint import is_mlflow_uri, load_model

#: ``models:/<name>@<alias>`` or ``models:/<name>/<version>``.
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class ModelRef:
    """The model as asked for (`uri`, plus `weights` for a plain state dict) and as pinned for this run."""

    uri: str
    load_uri: str
    version: str | None
    weights: str | None = None


def file_digest(path: str | Path) -> str:
    """``sha256:<first 16 hex>`` of a local file: identifies an unregistered checkpoint in the manifest."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"model file {path} not found; give an existing checkpoint or a models:/ URI")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()[:16]}"


def resolve_model(uri: str, weights: str | None = None) -> ModelRef:
    """Pin `uri` for a run: a registry alias -> its version now; a local file -> its content hash.

    Accepts what `tsjnet fuse --model` accepts: models:/name@alias, models:/name/N, runs:/... and other MLflow
    URIs (no version to record), a local checkpoint, or a registered model name with `weights` (a state dict).
    """
    if weights is not None:
        return ModelRef(uri, uri, file_digest(weights), weights)
    if not is_mlflow_uri(uri):
        return ModelRef(uri, uri, file_digest(uri))
    match = _REGISTRY_URI.match(uri)
    if match is None:
        return ModelRef(uri, uri, None)
    if match["version"]:
        return ModelRef(uri, uri, match["version"])
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(match["name"], match["alias"]).version
    except MlflowException as error:
        raise DataError(f"{uri}: cannot resolve the alias ({error.message}); check MLFLOW_TRACKING_URI and that "
                        "the register stage has set the alias") from None
    return ModelRef(uri, f"models:/{match['name']}/{version}", str(version))


@functools.cache
def cached_model(model: ModelRef, device: str = "cpu") -> FusionModel:
    """The fusion model for `model` on `device`, loaded on the first call in this process and reused after.

    Dask worker processes live for the whole run, so each loads the model once however many shards it fuses.
    """
    return load_model(model.load_uri, model.weights, device)
