"""Checkpoints rebuild any registered fusion model exactly; bad files fail naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.models.heads import as_if_trained
from tests.registry.samples import SMALL_MODEL
from tsjnet.errors import DataError
from tsjnet.models.registry import create_model
from tsjnet.registry.checkpoint import (
    for_inference,
    is_mlflow_uri,
    load_fusion_model,
    read_checkpoint,
    resolve_device,
    save_fusion_model,
)

MODELS = [("classical_laplacian", {"levels": 2}), SMALL_MODEL, ("tsjnet_tiny", {}),
          ("tsjnet_tiny", {"blend_residual": 0.25, "blend_levels": 4})]


@pytest.mark.parametrize(("name", "kwargs"), MODELS, ids=[name + "".join(f"-{k}" for k in kwargs) for name, kwargs in MODELS])
def test_round_trip_rebuilds_the_same_model(tmp_path: Path, name: str, kwargs: dict) -> None:
    torch.manual_seed(0)
    model = as_if_trained(create_model(name, **kwargs)).eval()
    path = save_fusion_model(tmp_path / "m.pt", model, name, kwargs, {"epochs": 3})
    state = read_checkpoint(path)
    assert (state["model"], state["kwargs"], state["meta"]) == (name, kwargs, {"epochs": 3})

    for key, value in model.state_dict().items():
        assert torch.equal(state["state_dict"][key], value), key
    loaded = load_fusion_model(path, device="cpu")
    assert type(loaded) is type(model) and not loaded.training
    ir, vi = torch.rand(2, 1, 1, 35, 41).unbind(0)
    with torch.inference_mode():  # loaders fold batch norms (tsjnet.models.inference): same maths to float rounding
        torch.testing.assert_close(loaded.fuse(ir, vi), model.fuse(ir, vi), rtol=0, atol=1e-5)
        assert torch.equal(loaded.fuse(ir, vi), for_inference(model, "cpu").fuse(ir, vi))


def test_save_refuses_kwargs_that_do_not_rebuild_the_weights(tmp_path: Path) -> None:
    model = create_model("seafusion", channels=(4, 4, 4))
    with pytest.raises(DataError, match="do not fit model 'seafusion'"):
        save_fusion_model(tmp_path / "m.pt", model, "seafusion", {"channels": (8, 8, 8)})
    assert not (tmp_path / "m.pt").exists()


def test_missing_and_foreign_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found: run the train stage"):
        read_checkpoint(tmp_path / "absent.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(DataError, match=r"foreign.pt lacks \['model', 'kwargs', 'state_dict', 'meta'\]"):
        read_checkpoint(foreign)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="garbage.pt cannot be read"):
        read_checkpoint(garbage)


def test_uri_detection_and_device_choice() -> None:
    assert is_mlflow_uri("models:/tsjnet@champion") and is_mlflow_uri("runs:/abc/fusion")
    assert not is_mlflow_uri("models/tsjnet.pt")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
