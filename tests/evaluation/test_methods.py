"""Which methods are evaluated: missing optional files are skipped (with a warning), missing required ones stop
the stage; checkpoints, rules and registered models with a plain weights file all load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tsjnet.config.evaluate import MethodSpec
from tsjnet.errors import DataError, TsjnetError
from tsjnet.evaluation.methods import load_method, split_available
from tsjnet.models.classical import MaxFusion
from tsjnet.models.registry import create_model
from tsjnet.models.seafusion_release import SeAFusionRelease
from tsjnet.registry.checkpoint import save_fusion_model


def test_optional_missing_is_skipped_required_missing_fails(tmp_path: Path) -> None:
    present = save_fusion_model(tmp_path / "a.pt", create_model("seafusion", channels=(2, 2, 2)), "seafusion",
                                {"channels": (2, 2, 2)})
    specs = [MethodSpec(name="a", checkpoint=str(present)), MethodSpec(name="rule", model="classical_max"),
             MethodSpec(name="solo", checkpoint=str(tmp_path / "solo.pt"), optional=True),
             MethodSpec(name="uri", checkpoint="models:/tsjnet@champion"),
             MethodSpec(name="peer", model="seafusion_release", weights=str(tmp_path / "peer.pth"), optional=True)]
    with pytest.warns(UserWarning) as warned:
        available, skipped = split_available(specs)
    assert [s.name for s in available] == ["a", "rule", "uri"] and [s.name for s in skipped] == ["solo", "peer"]
    assert [str(w.message) for w in warned] == [
        f"method 'solo' skipped (optional): {tmp_path / 'solo.pt'} not found; train it, or point "
        "evaluate.methods at the file",
        f"method 'peer' skipped (optional): {tmp_path / 'peer.pth'} not found; put the weights there, or "
        "point evaluate.methods at the file"]
    specs.append(MethodSpec(name="b", checkpoint=str(tmp_path / "b.pt"), stage="train_b"))
    specs.append(MethodSpec(name="c", checkpoint=str(tmp_path / "c.pt")))
    with pytest.raises(DataError) as error:
        split_available(specs)
    message = str(error.value)
    assert f"b: {tmp_path / 'b.pt'} not found; run `dvc repro train_b`" in message
    assert f"c: {tmp_path / 'c.pt'} not found; train it" in message and "solo" not in message


def assert_fuses_like(loaded: torch.nn.Module, net: torch.nn.Module) -> None:
    """The loader folds batch norms (tsjnet.models.inference): the same fusion to float rounding."""
    ir, vi = torch.rand(2, 1, 1, 16, 16).unbind(0)
    with torch.inference_mode():
        torch.testing.assert_close(loaded.fuse(ir, vi), net.eval().fuse(ir, vi), rtol=0, atol=1e-6)


def test_load_method_builds_rules_and_checkpoints(tmp_path: Path) -> None:
    net = create_model("seafusion", channels=(2, 2, 2))
    path = save_fusion_model(tmp_path / "s.pt", net, "seafusion", {"channels": (2, 2, 2)})
    loaded = load_method(MethodSpec(name="s", checkpoint=str(path)), torch.device("cpu"))
    assert loaded.name == "s" and not loaded.model.training
    assert_fuses_like(loaded.model, net)
    rule = load_method(MethodSpec(name="m", model="classical_max"), torch.device("cpu"))
    assert isinstance(rule.model, MaxFusion)
    with pytest.raises(TsjnetError, match="evaluate.methods 'x': unknown model 'nonexistent'"):
        load_method(MethodSpec(name="x", model="nonexistent"), torch.device("cpu"))


def test_load_method_puts_a_weights_file_into_the_registered_model(tmp_path: Path) -> None:
    net = SeAFusionRelease()
    torch.save(net.state_dict(), tmp_path / "peer.pth")
    spec = MethodSpec(name="p", model="seafusion_release", weights=str(tmp_path / "peer.pth"), optional=True)
    loaded = load_method(spec, torch.device("cpu"))
    assert isinstance(loaded.model, SeAFusionRelease) and not loaded.model.training
    assert_fuses_like(loaded.model, net)
    spec = MethodSpec(name="p", model="seafusion_release", weights=str(tmp_path / "peer.pth"), optional=True)
    assert split_available([spec]) == ([spec], [])
