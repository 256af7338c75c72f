"""The `evaluate:` params section (tsjnet/config/evaluate.py): defaults, validation, side-run rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tsjnet.config.evaluate import EvaluateParams, MethodSpec


def test_defaults_list_trained_methods_and_rules() -> None:
    params = EvaluateParams()
    assert [m.name for m in params.methods] == ["tsjnet", "tsjnet_fusion_only", "seafusion", "average", "max",
                                                "laplacian"]
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
    with pytest.raises(ValidationError, match="evaluate.primary 'tsjnet' must be one of"):
        EvaluateParams(methods=[rule], ablation=None)
    with pytest.raises(ValidationError, match="evaluate.ablation 'solo'"):
        EvaluateParams(methods=[rule], primary="avg", ablation="solo")
    with pytest.raises(ValidationError, match="unique, repeated: \\['avg'\\]"):
        EvaluateParams(methods=[rule, rule], primary="avg", ablation=None)
    with pytest.raises(ValidationError, match="cannot be optional"):
        EvaluateParams(methods=[{"name": "t", "checkpoint": "t.pt", "optional": True}], primary="t", ablation=None)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        EvaluateParams(plot_dir="x")


def test_for_model_and_under_rewrite_for_the_champion_check(tmp_path: Path) -> None:
    params = EvaluateParams().for_model("models:/tsjnet@champion").under(tmp_path / "champion")
    assert [(m.name, m.checkpoint) for m in params.methods] == [("tsjnet", "models:/tsjnet@champion")]
    assert params.ablation is None
    out = tmp_path / "champion"
    assert (params.metrics, params.fusion_metrics, params.task_metrics, params.report) == (
        str(out / "evaluation.json"), str(out / "fusion.json"), str(out / "task.json"), str(out / "evaluation.md"))
    assert (params.fused_dir, params.plots_dir) == (str(out / "fused"), str(out / "plots"))
