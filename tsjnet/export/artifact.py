"""The ONNX graph of a registered fusion version: logged next to it by the register stage, fetched by deployments.

The register stage (tsjnet.registry.register) exports the checkpoint it registers and logs the graph as
`ONNX_ARTIFACT` in the run that logged the version, so ``models:/tsjnet@champion`` leads to its graph without
PyTorch: ``mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="onnx/model.onnx")``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import mlflow.artifacts

from tsjnet.export.onnx import export_onnx
from tsjnet.models.fusion import FusionModel

ONNX_ARTIFACT = "onnx/model.onnx"


def log_onnx(model: FusionModel) -> str:
    """Export `model` and log the graph to the active MLflow run as `ONNX_ARTIFACT` (returned)."""
    folder, name = ONNX_ARTIFACT.rsplit("/", 1)
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.log_artifact(str(export_onnx(model, Path(tmp) / name)), artifact_path=folder)
    return ONNX_ARTIFACT


def registered_onnx(uri: str, dst: str | Path) -> Path | None:
    """The graph attached to registered version `uri` (``models:/name@alias`` or ``models:/name/N``), downloaded
    into `dst`; None for other URIs and for versions registered before graphs were attached."""
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    if not uri.startswith("models:/"):
        return None
    client = mlflow.MlflowClient()
    name_and_version = get_model_name_and_version(client, uri)
    if len(name_and_version) != 2:  # models:/<logged model id>: no registered version
        return None
    run_id = client.get_model_version(*name_and_version).run_id
    folder = ONNX_ARTIFACT.rsplit("/", 1)[0]
    if not run_id or ONNX_ARTIFACT not in {item.path for item in client.list_artifacts(run_id, folder)}:
        return None
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=ONNX_ARTIFACT, dst_path=str(dst)))
