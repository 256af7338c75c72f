"""Fixtures for the flow tests: an offline Prefect test server, one MLflow store, a tiny DVC project.

The tiny project has the real pipeline's stage names but each stage is `python fake_stage.py <name>`,
a few milliseconds of work, so the flows drive real `dvc repro` calls without training anything.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conf_project import write_conf
from tests.params import section
from tsjnet.registry.gate import decide
from tsjnet.registry.report import PromotionReport

OFFLINE_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
               "PREFECT_UI_ENABLED": "false", "MLFLOW_ENABLE_TELEMETRY": "false"}

# Stage name -> (deps, outs); the order is the real pipeline's, minus the pretraining stages.
FAKE_STAGES = {
    "ingest": ([], ["data/ingested"]),
    "validate": (["data/ingested"], []),
    "pseudolabel": (["data/ingested"], ["data/prepared"]),
    "train": (["data/prepared"], ["models/tsjnet.pt"]),
    "evaluate": (["models/tsjnet.pt"], []),
    "register": (["models/tsjnet.pt"], []),
}

# Each stage writes its outs (recording the MLflow parent run id it was given); validate and evaluate write
# metrics, register writes the promotion report. FAKE_FAIL=<stage> makes that stage fail like a real one.
FAKE_STAGE_SCRIPT = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path
    stage = sys.argv[1]
    print(f"{stage}: starting")
    if os.environ.get("FAKE_FAIL") == stage:
        print(f"error: {stage} found a broken file data/bad.png; fix it", file=sys.stderr)
        sys.exit(3)
    parent = os.environ.get("TSJNET_PARENT_RUN_ID", "")
    if stage == "ingest":
        Path("data/ingested").mkdir(parents=True, exist_ok=True)
        Path("data/ingested/pairs.txt").write_text("a\\nb\\n")
    elif stage == "pseudolabel":
        Path("data/prepared").mkdir(parents=True, exist_ok=True)
        Path("data/prepared/labels.txt").write_text("person\\n")
    elif stage == "validate":
        Path("metrics").mkdir(exist_ok=True)
        Path("metrics/validation.json").write_text(json.dumps({"pairs": 2, "checks": {"failed": 0}}))
    elif stage == "train":
        Path("models").mkdir(exist_ok=True)
        Path("models/tsjnet.pt").write_text(parent)
    elif stage == "evaluate":
        Path("metrics/fusion.json").write_text(json.dumps({"ssim": 0.71}))
    elif stage == "register":
        Path("reports").mkdir(exist_ok=True)
        Path("reports/promotion.json").write_text(__PROMOTION_JSON__)
    print(f"{stage}: done")
''')

#: What the fake register stage writes: built by the register stage's own model, so it cannot drift from the
#: real report (version 3 beats champion 2 on ssim).
FAKE_PROMOTION = PromotionReport.of(
    "tsjnet", "3", decide({"ssim": 0.71}, {"ssim": 0.70}, section("register.gate", metrics={"ssim": "max"})),
    champion_before="2")


def _stage_entry(name: str, deps: list[str], outs: list[str]) -> dict:
    metrics = {"validate": "metrics/validation.json", "evaluate": "metrics/fusion.json"}
    entry: dict = {"cmd": f"python fake_stage.py {name}", "deps": ["fake_stage.py", *deps]}
    if name == "ingest":
        entry["params"] = ["profile", "seed"]
    if outs:
        entry["outs"] = outs
    if name in metrics:
        entry["metrics"] = [{metrics[name]: {"cache": False}}]
    if name == "register":
        entry["outs"] = [{"reports/promotion.json": {"cache": False}}]
    return entry


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API for every flow test (offline, its own PREFECT_HOME)."""
    from prefect.testing.utilities import prefect_test_harness

    from tsjnet.orchestration import environment

    mlflow_db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    with environment({**OFFLINE_ENV, "MLFLOW_TRACKING_URI": f"sqlite:///{mlflow_db}"}):
        with prefect_test_harness(server_startup_timeout=180):
            yield


@pytest.fixture
def dvc_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DVC project (no git) with fake stages, a local DVC remote, as the working directory."""
    from dvc.repo import Repo

    root = tmp_path / "project"
    root.mkdir()
    Repo.init(str(root), no_scm=True).close()
    script = FAKE_STAGE_SCRIPT.replace("__PROMOTION_JSON__", repr(FAKE_PROMOTION.to_json()))
    (root / "fake_stage.py").write_text(script)
    stages = {name: _stage_entry(name, deps, outs) for name, (deps, outs) in FAKE_STAGES.items()}
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    write_conf(root, {"seed": 0, "remote": {"kind": "local", "url": str(tmp_path / "remote")}},
               {"small": {"seed": 1}})
    monkeypatch.chdir(root)
    return root
