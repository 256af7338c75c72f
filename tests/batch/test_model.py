"""The model is pinned once per run (file -> content hash) and loaded once per process.

Alias -> version needs a model registry: tests/flows/test_batch_fuse.py checks it on the flow tests' MLflow store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tsjnet.batch.model as batch_model
from tsjnet.batch.model import ModelRef, cached_model, file_digest, resolve_model
from tsjnet.errors import DataError


def test_files_are_identified_by_content(checkpoint: Path, tmp_path: Path) -> None:
    pinned = resolve_model(str(checkpoint))
    assert pinned == ModelRef(str(checkpoint), str(checkpoint), file_digest(checkpoint))
    assert pinned.version.startswith("sha256:") and len(pinned.version) == len("sha256:") + 16
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"other bytes")
    assert resolve_model("seafusion", str(weights)) == ModelRef("seafusion", "seafusion", file_digest(weights),
                                                                str(weights))
    assert file_digest(weights) != pinned.version
    assert resolve_model("runs:/abc/fusion").version is None  # no registry version to record
    with pytest.raises(DataError, match="model file .*missing.pt not found"):
        resolve_model(str(tmp_path / "missing.pt"))


def test_each_process_loads_a_model_once(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    real = batch_model.load_model
    monkeypatch.setattr(batch_model, "load_model",
                        lambda uri, weights, device: loads.append(uri) or real(uri, weights, device))
    cached_model.cache_clear()
    pinned = resolve_model(str(checkpoint))
    first = cached_model(pinned, "cpu")
    assert all(cached_model(pinned, "cpu") is first for _ in range(3))
    assert loads == [str(checkpoint)]
    cached_model.cache_clear()
