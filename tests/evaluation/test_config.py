"""The `evaluate:` params section (tsjnet/config/evaluate.py): committed methods, validation, side-run rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.params import section
from tsjnet.config import ParamsError
from tsjnet.config.evaluate import MethodSpec


def test_conf_lists_trained_methods_rules_and_the_released_peer() -> None:
    params = section("evaluate")
    assert [m.name for m in params.methods] == ["tsjnet", "tsjnet_fusion_only", "seafusion", "average", "max",
                                                "laplacian", "seafusion_release"]
    assert params.method("tsjnet").checkpoint == "models/tsjnet.pt" and params.method("tsjnet_fusion_only").optional
    assert params.method("laplacian").model == "classical_laplacian"


@pytest.mark.parametrize("spec, message", [
    ({"name": "a"}, "exactly one of checkpoint"),
    ({"name": "a", "checkpoint": "a.pt", "model": "classical_max"}, "exactly one of checkpoint"),
    ({"name": "a", "model": "classical_max", "optional": True}, "only a checkpoint or weights file can be optional"),
    ({"name": "a", "checkpoint": "a.pt", "weights": "a.pth"}, "weights need model"),
    ({"name": "a/b", "model": "classical_max"}, "names a folder"),
])
def test_method_spec_errors(spec: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MethodSpec(**spec)


def test_section_errors_name_the_key() -> None:
    rule = {"name": "avg", "model": "classical_average"}
    with pytest.raises(ParamsError, match="evaluate.primary 'tsjnet' must be one of"):
        section("evaluate", methods=[rule], ablation=None)
    with pytest.raises(ParamsError, match="evaluate.ablation 'solo'"):
        section("evaluate", methods=[rule], primary="avg", ablation="solo")
    with pytest.raises(ParamsError, match="unique, repeated: \\['avg'\\]"):
        section("evaluate", methods=[rule, rule], primary="avg", ablation=None)
    with pytest.raises(ParamsError, match="cannot be optional"):
        section("evaluate", methods=[{"name": "t", "checkpoint": "t.pt", "optional": True}], primary="t", ablation=None)
    with pytest.raises(ParamsError, match="evaluate.plot_dir: Extra inputs are not permitted"):
        section("evaluate", plot_dir="x")


def test_for_model_and_under_rewrite_for_the_champion_check(tmp_path: Path) -> None:
    params = section("evaluate").for_model("models:/tsjnet@champion").under(tmp_path / "champion")
    assert [(m.name, m.checkpoint) for m in params.methods] == [("tsjnet", "models:/tsjnet@champion")]
    assert params.ablation is None
    out = tmp_path / "champion"
    assert (params.metrics, params.fusion_metrics, params.task_metrics, params.report) == (
        str(out / "evaluation.json"), str(out / "fusion.json"), str(out / "task.json"), str(out / "evaluation.md"))
    assert (params.fused_dir, params.plots_dir) == (str(out / "fused"), str(out / "plots"))
