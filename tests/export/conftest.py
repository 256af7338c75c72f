"""Export test fixtures: the registry tests' local MLflow store and small checkpoint, and exported graphs built once."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.registry.conftest import _offline_mlflow, _store, checkpoint, model_name, tracking  # noqa: F401
from tsjnet.export.onnx import export_onnx
from tsjnet.models.registry import create_model

#: Sizes the trace (61x83) never saw: one pixel, odd and prime sides, sides below and above NAT's stride of 32.
SIZES = [(1, 1), (5, 7), (33, 17), (70, 45)]
#: Fast stand-ins of the two learned families: every code path of TSJNet / SeAFusion with few weights.
SMALL = {"tsjnet_tiny": {}, "seafusion": {"channels": (4, 4, 4)}}


@pytest.fixture(scope="module", params=sorted(SMALL))
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    """(model, its ONNX graph) for each small family, seeded."""
    torch.manual_seed(0)
    model = create_model(request.param, **SMALL[request.param]).eval()
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx")
