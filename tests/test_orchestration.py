"""tsjnet.orchestration: stage order from DVC, params overrides, metrics summary, champion regressions."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.conf_project import write_conf
from tests.params import conf_values, section
from tsjnet.config import ParamsError
from tsjnet.errors import DataError
from tsjnet.orchestration import (StageFailed, apply_param_overrides, champion_regressions, environment,
                                  metrics_tables, pipeline_stages, read_promotion, summary_markdown)
from tsjnet.registry.gate import decide
from tsjnet.registry.report import PromotionReport

SSIM_GATE = section("register.gate", metrics={"ssim": "max"})


def test_stage_order_follows_the_dag_and_dvc_yaml_order(tmp_path: Path) -> None:
    from dvc.repo import Repo

    Repo.init(str(tmp_path), no_scm=True).close()
    stages = {  # `report` is listed first but needs `train`; `ingest` and `lint` are independent roots
        "report": {"cmd": "echo", "deps": ["model.bin"]},
        "ingest": {"cmd": "echo", "outs": ["data"]},
        "train": {"cmd": "echo", "deps": ["data"], "outs": ["model.bin"]},
        "lint": {"cmd": "echo"},
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    assert pipeline_stages(tmp_path) == ["ingest", "train", "report", "lint"]


def test_overrides_are_rendered_like_dvc_exp_run_and_validated_first(tmp_path: Path) -> None:
    path = write_conf(tmp_path, {"seed": 0}, {"small": {"seed": 1, "train": {"epochs": 12}}})
    assert apply_param_overrides(path, ["seed=5"], profile="small") == ["seed=5", "profile=small"]
    assert yaml.safe_load(path.read_text()) == conf_values({"seed": 5, "train": {"epochs": 12}, "profile": "small"})
    before = path.read_text()
    with pytest.raises(ParamsError, match="no_such_key"):
        apply_param_overrides(path, ["+no_such_key=1"])
    with pytest.raises(ParamsError, match="profile/gpu"):
        apply_param_overrides(path, profile="gpu")
    assert path.read_text() == before


def test_metrics_tables_flatten_numbers_and_summary_shows_the_verdict(tmp_path: Path) -> None:
    (tmp_path / "validation.json").write_text(json.dumps({"pairs": 4, "checks": {"failed": 0}, "note": "ok",
                                                          "passed": True}))
    tables = metrics_tables(tmp_path)
    assert tables == {"validation": {"pairs": 4.0, "checks.failed": 0.0}}
    promotion = PromotionReport.of("tsjnet", "2", decide({"ssim": 0.6}, {"ssim": 0.7}, SSIM_GATE), champion_before="1")
    text = summary_markdown("run", tables, read_promotion(promotion.write(tmp_path / "promotion.json")))
    assert "tsjnet version 2**: not promoted (champion now: version 1)" in text
    assert "Reason: worse on ssim" in text and "| checks.failed | 0 |" in text
    assert "No model was registered" in summary_markdown("run", {}, read_promotion(tmp_path / "absent.json"))


@pytest.mark.parametrize(("change", "message"), [
    ({"champion_after": None}, r"champion_after: Input should be a valid string"),
    ({"gate.champion_after": "1"}, r"gate\.champion_after: Extra inputs are not permitted"),  # the old reader's key
    ({"decision": "maybe"}, r"decision: Input should be 'promoted' or 'rejected'"),
], ids=["null", "unknown-key", "bad-value"])
def test_malformed_promotion_report_names_the_file_and_field(tmp_path: Path, change: dict, message: str) -> None:
    valid = PromotionReport.of("tsjnet", "1", decide({"ssim": 0.7}, None, SSIM_GATE), champion_before=None)
    path = tmp_path / "promotion.json"
    path.write_text(json.dumps({**valid.model_dump(mode="json"), **change}))
    with pytest.raises(DataError, match=f"promotion report {re.escape(str(path))} is malformed.*{message}"):
        read_promotion(path)
    path.write_text("{broken")
    with pytest.raises(DataError, match=f"promotion report {re.escape(str(path))} is malformed.*Invalid JSON"):
        read_promotion(path)


def test_committed_promotion_report_keeps_its_format() -> None:
    path = Path(__file__).parents[1] / "reports" / "promotion.json"  # written by the register stage, in git
    assert PromotionReport.read(path).to_json() == path.read_text()


def test_champion_regressions_respect_direction_and_tolerance() -> None:
    gate = section("register.gate", metrics={"ssim": "max", "loss": "min"})
    promoted = {"ssim": 0.70, "loss": 0.20}
    assert champion_regressions({"ssim": 0.71, "loss": 0.19}, promoted, gate) == []
    lines = champion_regressions({"ssim": 0.65, "loss": 0.30}, promoted, gate)
    assert [line.split(":")[0] for line in lines] == ["ssim regressed", "loss regressed"]
    assert champion_regressions({"ssim": 0.69, "loss": 0.20}, promoted, gate, tolerance=0.02) == []
    with pytest.raises(DataError, match="lacks gate metric"):
        champion_regressions({"ssim": 0.7}, promoted, gate)


def test_stage_failed_carries_the_output_tail_and_environment_restores() -> None:
    error = StageFailed("DVC stage 'train'", 2, ["loading", "error: CUDA out of memory"])
    assert str(error).endswith("last output lines:\nloading\nerror: CUDA out of memory") and error.returncode == 2
    os.environ.pop("TSJNET_TEST_VAR", None)
    with environment({"TSJNET_TEST_VAR": "1", "HOME": None}):
        assert os.environ["TSJNET_TEST_VAR"] == "1"
    assert "TSJNET_TEST_VAR" not in os.environ
