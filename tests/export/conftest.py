"""Export test fixtures: the registry tests' local MLflow store and small checkpoint, and exported graphs built once."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.models.heads import as_if_trained
from tests.registry.conftest import _offline_mlflow, _store, checkpoint, model_name, tracking  # noqa: F401
from tsjnet.export.onnx import export_onnx
from tsjnet.models.registry import create_model

#: Sizes the trace (61x83) never saw: one pixel, odd and prime sides, sides below and above NAT's stride of 32.
SIZES = [(1, 1), (5, 7), (33, 17), (70, 45)]
#: Fast stand-ins of the two learned families: every code path of TSJNet (both decoder outputs) / SeAFusion with
#: few weights, by test id: (registry name, kwargs).
SMALL = {"tsjnet_tiny": ("tsjnet_tiny", {}), "tsjnet_tiny_blend": ("tsjnet_tiny", {"blend_residual": 0.25, "blend_levels": 4}),
         "tsjnet_tiny_detail_blend": ("tsjnet_tiny", {"blend_residual": 0.25, "blend_levels": 4, "blend_prior": 30.0,
                                                      "blend_detail": 0.5}),
         "seafusion": ("seafusion", {"channels": (4, 4, 4)})}


@pytest.fixture(scope="module", params=sorted(SMALL))
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    """(model, its ONNX graph) for each small family, seeded."""
    torch.manual_seed(0)
    name, kwargs = SMALL[request.param]
    model = as_if_trained(create_model(name, **kwargs)).eval()
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx")
