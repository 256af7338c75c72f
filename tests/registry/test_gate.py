"""The promotion gate: the rule itself, the metrics files, and promotion through a real MLflow registry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import mlflow
import pytest

from tests.params import section
from tsjnet.config.registry import GateParams
from tsjnet.errors import DataError
from tsjnet.orchestration import read_promotion, summary_markdown
from tsjnet.registry.gate import decide, read_metrics, yardstick_digest
from tsjnet.registry.register import (CANDIDATE, CHAMPION, Rescore, current_champion, log_fusion_model,
                                      promote)

GATE = GateParams(metrics={"fused_miou": "max", "ssim": "max", "mse": "min"}, min_delta=0.01)
BASE = {"fused_miou": 0.50, "ssim": 0.70, "mse": 0.020}


def test_no_champion_promotes() -> None:
    decision = decide(BASE, None, GATE)
    assert decision.promote and decision.reason == "no champion yet" and decision.champion is None


@pytest.mark.parametrize(("change", "promote", "reason"), [
    ({"fused_miou": 0.52}, True, "better on fused_miou"),
    ({"mse": 0.005}, True, "better on mse"),                      # lower is better for a "min" metric
    ({"fused_miou": 0.60, "ssim": 0.69}, False, "worse on ssim"),  # any regression blocks
    ({"mse": 0.021}, False, "worse on mse"),
    ({"fused_miou": 0.505}, False, "no gate metric improves by more than min_delta=0.01"),
    ({}, False, "no gate metric improves"),                      # a tie keeps the champion
])
def test_rule(change: dict[str, float], promote: bool, reason: str) -> None:
    decision = decide({**BASE, **change}, BASE, GATE)
    assert decision.promote is promote and decision.reason.startswith(reason)
    assert decision.improvement["mse"] == pytest.approx(BASE["mse"] - change.get("mse", BASE["mse"]))


def test_missing_or_non_finite_metric_is_an_error_never_a_pass() -> None:
    with pytest.raises(DataError, match=r"candidate lacks gate metric\(s\) \['mse'\]"):
        decide({"fused_miou": 0.9, "ssim": 0.9}, None, GATE)
    with pytest.raises(DataError, match=r"champion lacks gate metric\(s\) \['ssim'\]"):
        decide(BASE, {"fused_miou": 0.1, "mse": 0.5}, GATE)
    with pytest.raises(DataError, match="not finite"):
        decide({**BASE, "ssim": math.nan}, None, GATE)


def test_empty_gate_is_refused() -> None:
    with pytest.raises(ValueError, match="register.gate.metrics: .*at least one gate metric"):
        section("register.gate", metrics={})


def write(path: Path, content: object) -> Path:
    path.write_text(json.dumps(content) if not isinstance(content, str) else content)
    return path


def test_read_metrics_merges_flat_files(tmp_path: Path) -> None:
    files = [write(tmp_path / "fusion.json", {"ssim": 0.7, "mse": 0.02}),
             write(tmp_path / "task.json", {"fused_miou": 1})]
    assert read_metrics(files) == {"ssim": 0.7, "mse": 0.02, "fused_miou": 1.0}


@pytest.mark.parametrize(("files", "message"), [
    ({"a.json": {"ssim": {"mean": 0.7}}}, r"a.json does not match its contract FlatMetrics \(ssim.int: Input should"),
    ({"a.json": {"ssim": True}}, r"a.json does not match its contract FlatMetrics \(ssim.int: Input should"),
    ({"a.json": [0.7]}, r"\(\(file\): Input should be an object"),
    ({"a.json": "{broken"}, r"\(\(file\): Invalid JSON"),
    ({"a.json": {"ssim": 0.7}, "b.json": {"ssim": 0.6}}, "'ssim' appears in more than one"),
], ids=["nested", "bool", "list", "broken", "duplicate"])
def test_read_metrics_rejects_bad_files(tmp_path: Path, files: dict[str, object], message: str) -> None:
    paths = [write(tmp_path / name, content) for name, content in files.items()]
    with pytest.raises(DataError, match=message):
        read_metrics(paths)
    with pytest.raises(DataError, match="absent.json not found: run the evaluate stage"):
        read_metrics([tmp_path / "absent.json"])


def register(checkpoint: Path, name: str, metrics: dict[str, float], report: Path, yardstick: str = "judges A",
             rescore: Rescore | None = None) -> tuple[str, bool]:
    """Log a new version of `name` and gate it with `metrics` measured with `yardstick`: (version, promoted)."""
    with mlflow.start_run() as run:
        champion = current_champion(name, yardstick, rescore)
        version = log_fusion_model(section("register", model_name=name, checkpoint=str(checkpoint)))
        decision = promote(version, metrics, GATE, report, yardstick, champion)
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["gate.decision"] == ("promoted" if decision.promote else "rejected")
    assert tags["gate.version"] == str(version.version)
    return str(version.version), decision.promote


def summary(report: Path) -> str:
    """The Prefect run summary of the report the register code wrote (the orchestration side of the contract)."""
    return summary_markdown("run", {}, read_promotion(report))


def aliases(name: str) -> dict[str, str]:
    return {alias: str(version) for alias, version in mlflow.MlflowClient().get_registered_model(name).aliases.items()}


def test_promotion_through_the_registry(tracking: str, checkpoint: Path, model_name: str, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "promotion.json"
    assert register(checkpoint, model_name, BASE, report) == ("1", True)
    assert aliases(model_name) == {CANDIDATE: "1", CHAMPION: "1"}

    better = {**BASE, "ssim": 0.75}
    assert register(checkpoint, model_name, better, report) == ("2", True)
    assert aliases(model_name) == {CANDIDATE: "2", CHAMPION: "2"}
    written = json.loads(report.read_text())
    assert written["decision"] == "promoted" and written["champion_before"] == "1" and written["champion_after"] == "2"
    assert written["improvement"]["ssim"] == pytest.approx(0.05) and written["champion"]["ssim"] == 0.70
    assert f"{model_name} version 2**: promoted to champion (champion now: version 2)" in summary(report)

    worse = {**better, "fused_miou": 0.40, "ssim": 0.90}
    assert register(checkpoint, model_name, worse, report) == ("3", False)
    assert aliases(model_name) == {CANDIDATE: "3", CHAMPION: "2"}
    rejected = mlflow.MlflowClient().get_model_version(model_name, "3").tags
    assert rejected["gate.decision"] == "rejected" and rejected["gate.reason"] == "worse on fused_miou"
    assert float(rejected["metric.fused_miou"]) == 0.40
    assert json.loads(report.read_text())["champion_after"] == "2"
    assert f"{model_name} version 3**: not promoted (champion now: version 2)" in summary(report)

    with pytest.raises(DataError, match=r"candidate lacks gate metric\(s\) \['mse'\]"):
        register(checkpoint, model_name, {"fused_miou": 0.99, "ssim": 0.99}, report)
    assert aliases(model_name)[CHAMPION] == "2"


def test_a_champion_measured_with_another_yardstick_is_remeasured(tracking: str, checkpoint: Path, model_name: str,
                                                                  tmp_path: Path) -> None:
    """Numbers from other judges or test data are never compared: the champion is re-measured first."""
    report = tmp_path / "promotion.json"
    assert register(checkpoint, model_name, BASE, report, "judges A") == ("1", True)
    better = {**BASE, "ssim": 0.75}
    with pytest.raises(DataError, match=rf"champion {model_name} v1 was measured with another yardstick "
                                        r"\(judges A; the candidate's: judges B\)"):
        register(checkpoint, model_name, better, report, "judges B")
    assert aliases(model_name) == {CANDIDATE: "1", CHAMPION: "1"}  # refused before anything was registered

    asked: list[str] = []

    def rescore(uri: str) -> dict[str, float]:  # under judges B the champion scores higher than it did
        asked.append(uri)
        return {**BASE, "ssim": 0.80}

    assert register(checkpoint, model_name, better, report, "judges B", rescore) == ("2", False)
    assert asked == [f"models:/{model_name}/1"]
    written = json.loads(report.read_text())
    assert written["champion_rescored"] and written["champion"]["ssim"] == 0.80
    assert written["reason"] == "worse on ssim (champion re-measured: it was promoted on numbers from other judges " \
                                "or test data)"
    champion = mlflow.MlflowClient().get_model_version(model_name, "1").tags
    assert champion["gate.yardstick"] == "judges B" and float(champion["metric.ssim"]) == 0.80

    assert register(checkpoint, model_name, {**BASE, "ssim": 0.85}, report, "judges B", rescore) == ("3", True)
    assert asked == [f"models:/{model_name}/1"]  # same yardstick now: compared with the tags, not re-measured
    assert not json.loads(report.read_text())["champion_rescored"]


def test_yardstick_digest_follows_contents_names_and_settings(tmp_path: Path) -> None:
    judges = tmp_path / "judges"
    judges.mkdir()
    write(judges / "a.pt", "weights")
    data = write(tmp_path / "test.png", "pixels")
    paths = [str(judges), str(data)]
    digest = yardstick_digest(paths, "shared")
    assert yardstick_digest(paths, "shared") == digest
    assert yardstick_digest(paths, "per_method") != digest
    write(judges / "a.pt", "retrained")
    retrained = yardstick_digest(paths, "shared")
    assert retrained != digest
    (judges / "a.pt").rename(judges / "b.pt")
    assert yardstick_digest(paths, "shared") != retrained
    with pytest.raises(DataError, match="absent.pt \\(register.yardstick in params.yaml\\) not found"):
        yardstick_digest([str(tmp_path / "absent.pt")], "shared")
