"""The register stage attaches the ONNX graph to the version it registers; a deployment fetches it by URI."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np

from tests.registry.samples import random_pair
from tsjnet.config import load_params
from tsjnet.export.artifact import ONNX_ARTIFACT, registered_onnx
from tsjnet.export.runtime import OnnxRuntimeFuser
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.fuse import fuse_pair
from tsjnet.registry.register import CANDIDATE, log_fusion_model

ROOT = Path(__file__).resolve().parents[2]


def test_registered_version_carries_its_graph(tracking: str, checkpoint: Path, model_name: str,
                                              tmp_path: Path) -> None:
    params = load_params(str(ROOT / "params.yaml")).register.model_copy(
        update={"model_name": model_name, "checkpoint": str(checkpoint)})
    with mlflow.start_run():
        version = log_fusion_model(params)
    assert mlflow.MlflowClient().get_model_version(model_name, version.version).tags["onnx"] == ONNX_ARTIFACT
    # what a deployment does: the version's run holds the graph
    fetched = Path(mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=ONNX_ARTIFACT,
                                                       dst_path=str(tmp_path / "direct")))
    graph = registered_onnx(f"models:/{model_name}@{CANDIDATE}", tmp_path / "by-alias")
    assert graph is not None and graph.read_bytes() == fetched.read_bytes()
    assert registered_onnx(f"models:/{model_name}/{version.version}", tmp_path / "by-number") is not None
    ir, vi = random_pair(19, 23, seed=5)
    expected = fuse_pair(load_fusion_model(f"models:/{model_name}@{CANDIDATE}", "cpu"), ir, vi)
    assert np.abs(fuse_pair(OnnxRuntimeFuser(graph), ir, vi).astype(np.int16) - expected).max() <= 1


def test_versions_without_a_graph_and_other_uris_give_none(tracking: str, checkpoint: Path, model_name: str,
                                                          tmp_path: Path) -> None:
    from tsjnet.registry.pyfunc import CHECKPOINT_ARTIFACT
    from tsjnet.registry.register import ENTRY_POINT

    with mlflow.start_run():  # registered as tsjnet did before graphs were attached
        mlflow.pyfunc.log_model(name="fusion", python_model=str(ENTRY_POINT), registered_model_name=model_name,
                                artifacts={CHECKPOINT_ARTIFACT: str(checkpoint)}, model_config={"max_pixels": 10})
    assert registered_onnx(f"models:/{model_name}/1", tmp_path) is None
    assert registered_onnx(str(checkpoint), tmp_path) is None
    assert registered_onnx("runs:/0123/fusion", tmp_path) is None
