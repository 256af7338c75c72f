"""The `tsjnet-research` flow: input stages through DVC, the research set under one MLflow run, the answers."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
import yaml

from flows.research import research
from tests.params import write_params
from tests.research.conftest import research_overrides, research_root  # noqa: F401 (fixture)
from tsjnet.reports import ResearchReport

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_the_flow_prepares_its_inputs_runs_the_set_and_tracks_it(dvc_project: Path, research_root: Path) -> None:  # noqa: F811
    params = write_params(dvc_project / "research.yaml", research_overrides(research_root, seeds=[0]))
    counts = research(params_path=str(params))
    lock = yaml.safe_load((dvc_project / "dvc.lock").read_text())
    assert sorted(lock["stages"]) == ["ingest", "pseudolabel", "validate"]  # its input stages only, no training
    report = ResearchReport.read(research_root / "research.json")
    assert report.command == "prefect flow tsjnet-research" and report.seeds == [0]
    assert sum(counts.values()) == len(report.comparisons) > 0
    run = mlflow.search_runs(filter_string="tags.kind = 'research'", output_format="list")[0]
    assert run.data.metrics["tsjnet.miou"] == pytest.approx(report.figures["SynthScenes"]["tsjnet"]["miou"].mean)
    artifacts = {Path(a.path).name for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "research")}
    assert artifacts == {"research.md", "research.png", "research.json"}


def test_the_deployment_points_at_the_flow() -> None:
    deployments = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())["deployments"]
    entry = next(deployment for deployment in deployments if deployment["name"] == "research")
    assert entry["entrypoint"] == "flows/research.py:research" and research.name == "tsjnet-research"
