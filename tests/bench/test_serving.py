"""The serving load run: a tiny real run against `mlflow models serve`, and the choice of the request pair."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import mlflow
import pytest
import torch
from PIL import Image

from tests.params import section
from tests.registry.samples import SMALL_MODEL, random_pair
from tsjnet.bench.report import markdown
from tsjnet.bench.serving import PAIR_SPLIT, request_pair, serving_load
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import save_fusion_model


def write_pair(msrs: Path, name: str, height: int, width: int) -> tuple[Path, Path]:
    ir, vi = random_pair(height, width)
    paths = msrs / PAIR_SPLIT / "ir" / f"{name}.png", msrs / PAIR_SPLIT / "vi" / f"{name}.png"
    for path, image in zip(paths, (ir, vi)):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
    return paths


def test_real_pair_is_sent_as_its_file_bytes_when_its_size_matches(tmp_path: Path) -> None:
    ir_path, vi_path = write_pair(tmp_path, "00001D", 12, 16)
    pair, row = request_pair(12, 16, tmp_path)
    assert pair == f"MSRS {PAIR_SPLIT}/00001D"
    assert base64.b64decode(row["ir"]) == ir_path.read_bytes() and base64.b64decode(row["vi"]) == vi_path.read_bytes()
    assert request_pair(24, 16, tmp_path)[0] == "synthetic noise"
    assert request_pair(12, 16, None)[0] == "synthetic noise"


@pytest.mark.slow
def test_tiny_load_run_against_a_real_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_TELEMETRY", "false")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    torch.manual_seed(0)
    name, kwargs = SMALL_MODEL
    checkpoint = save_fusion_model(tmp_path / "fusion.pt", create_model(name, **kwargs), name, kwargs)
    result = serving_load(section("register", checkpoint=str(checkpoint)), requests=6, clients=2, height=64, width=64)

    assert result["errors"] == 0 and result["first_error"] is None
    assert result["requests"] == 6 and result["clients"] == 2 and result["size"] == "64x64"
    assert 0 < result["p50_s"] <= result["p95_s"] and result["throughput_rps"] > 0
    assert "MLFLOW_TRACKING_URI" not in os.environ and not mlflow.is_tracking_uri_set()  # nothing leaked
    assert "## serving" in markdown({"machine": "test", "serving": result})
