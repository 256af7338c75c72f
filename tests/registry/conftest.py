"""Registry test fixtures: a local sqlite MLflow store per test, small fusion checkpoints and image pairs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import torch

from tests.registry.samples import SMALL_MODEL, point_mlflow_at
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import save_fusion_model


@pytest.fixture(autouse=True, scope="module")
def _offline_mlflow() -> Iterator[None]:
    """No telemetry from this process or the servers and commands the tests start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ENABLE_TELEMETRY", "false")
        patch.setenv("DO_NOT_TRACK", "1")
        yield


@pytest.fixture(scope="session")
def _store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """One sqlite tracking + registry store for the session (creating its tables takes seconds)."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment = mlflow.MlflowClient(uri).create_experiment("registry-test", (root / "artifacts").as_uri())
    return uri, experiment


@pytest.fixture(scope="module")
def tracking(_store: tuple[str, str]) -> Iterator[str]:
    """Point MLflow (this process and subprocesses) at the session store; previous settings come back after.

    Tests share the store, so each registers under its own model name (`model_name`).
    """
    uri, experiment = _store
    with pytest.MonkeyPatch.context() as patch:
        point_mlflow_at(patch, uri, experiment)
        yield uri
        while mlflow.active_run() is not None:
            mlflow.end_run()


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered model name unique to the test (the store is shared)."""
    return "tsjnet-" + "".join(c if c.isalnum() else "-" for c in request.node.name)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SMALL_MODEL with seeded weights saved in the registry's checkpoint format."""
    torch.manual_seed(0)
    name, kwargs = SMALL_MODEL
    path = tmp_path_factory.mktemp("ckpt") / "fusion.pt"
    return save_fusion_model(path, create_model(name, **kwargs), name, kwargs, {"note": "test"})

