"""The `tsjnet-pipeline` flow: stage order, push retries, failure propagation, GPU hand-off, DVC lock state."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.states import Completed, Failed

import flows.pipeline as pipeline
import flows.tasks as tasks
from flows.pipeline import tsjnet_pipeline
from tsjnet.orchestration import StageFailed

pytestmark = pytest.mark.usefixtures("prefect_server")

STAGE_LABELS = [f"DVC stage {name!r}"
                for name in ("ingest", "validate", "pseudolabel", "train", "evaluate", "register")]


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the label of every command the tasks would run, instead of running it."""
    calls: list[str] = []
    monkeypatch.setattr(tasks, "run_command", lambda args, label: calls.append(label))
    return calls


def test_tasks_follow_the_dvc_stages_with_push_after_the_data_stages(dvc_project: Path, commands: list[str]) -> None:
    tsjnet_pipeline(remote=True)
    assert commands == ["dvc pull", *STAGE_LABELS[:2], "dvc push", *STAGE_LABELS[2:], "dvc push"]


def test_push_is_retried_until_the_remote_answers(dvc_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def flaky_remote(args: list[str], label: str) -> None:
        calls.append(label)
        if label == "dvc push" and calls.count("dvc push") <= 2:
            raise StageFailed(label, 1, ["ERROR: unexpected error - connection reset by peer"])

    monkeypatch.setattr(tasks, "run_command", flaky_remote)
    monkeypatch.setattr(pipeline, "push_data", tasks.push_data.with_options(retry_delay_seconds=0))
    tsjnet_pipeline(remote=True)
    # Two failed attempts and the successful third after validate, then the final push.
    assert calls == ["dvc pull", *STAGE_LABELS[:2], "dvc push", "dvc push", "dvc push", *STAGE_LABELS[2:], "dvc push"]


def test_gpu_stage_runs_on_the_gpu_deployment_then_is_restored_locally(dvc_project: Path, commands: list[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict] = []

    def fake_run_deployment(name: str, parameters: dict, timeout: float | None) -> SimpleNamespace:
        started.append({"name": name, **parameters})
        return SimpleNamespace(name="gpu-run", state=Completed())

    monkeypatch.setattr(pipeline, "run_deployment", fake_run_deployment)
    tsjnet_pipeline(remote=True, profile="small", gpu_deployment="tsjnet-stage/gpu")
    assert [(run["name"], run["stage"], run["overrides"], run["force"]) for run in started] == [
        ("tsjnet-stage/gpu", "train", ["profile=small"], False)]
    assert started[0]["parent_run_id"]
    train = commands.index("DVC stage 'train'")
    assert commands[train - 2:train] == ["dvc push", "dvc pull"]  # inputs out before, outputs + run cache back


def test_failed_gpu_run_fails_the_flow_with_its_message(dvc_project: Path, commands: list[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "run_deployment", lambda name, parameters, timeout: SimpleNamespace(
        name="gpu-run", state=Failed(message="CUDA out of memory")))
    with pytest.raises(StageFailed, match="(?s)'train' on deployment 'tsjnet-stage/gpu'.*CUDA out of memory"):
        tsjnet_pipeline(remote=False, gpu_deployment="tsjnet-stage/gpu")
    assert "DVC stage 'evaluate'" not in commands


def test_failing_stage_fails_the_flow_with_the_stage_error(dvc_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL", "train")
    with pytest.raises(StageFailed, match="(?s)DVC stage 'train' failed.*broken file data/bad.png; fix it"):
        tsjnet_pipeline(remote=False)
    assert (dvc_project / "metrics/validation.json").is_file()
    assert not (dvc_project / "metrics/fusion.json").exists()


def test_flow_leaves_dvc_up_to_date_and_reports_metrics(dvc_project: Path, tmp_path: Path) -> None:
    from dvc.repo import Repo

    summary = tsjnet_pipeline(profile="small", remote=True)

    with Repo(str(dvc_project)) as repo:
        assert repo.status() == {}  # a hand-run `dvc repro` now has nothing to do
    lock = yaml.safe_load((dvc_project / "dvc.lock").read_text())
    assert lock["stages"]["ingest"]["params"]["params.yaml"] == {"profile": "small", "seed": 1}  # effective values
    assert any((tmp_path / "remote").rglob("*")), "dvc push wrote nothing to the local remote"

    parent = mlflow.get_run((dvc_project / "models/tsjnet.pt").read_text())  # the stage saw the parent run id
    assert parent.data.tags["orchestrator"] == "prefect" and parent.info.run_name == "prefect-pipeline"
    assert "tsjnet version 3**: promoted to champion (champion now: version 3)" in summary
    assert "| ssim | 0.71 |" in summary
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tsjnet-pipeline-summary"])))
    assert any(artifact.data == summary for artifact in artifacts)

    trained = (dvc_project / "models/tsjnet.pt").stat().st_mtime_ns
    tsjnet_pipeline(remote=False)  # nothing changed: DVC skips every stage
    assert (dvc_project / "models/tsjnet.pt").stat().st_mtime_ns == trained
