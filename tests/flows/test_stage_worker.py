"""The GPU hand-off for real: `tsjnet-stage/gpu` deployed from prefect.yaml, run by a process worker on CPU.

Two checkouts of the tiny fake-stage project share one DVC remote, as a pipeline machine and a GPU machine
would. The pipeline checkout reproduces the stages before `train` and pushes (data + run cache), as
flows/pipeline.py does before `run_deployment`. The GPU checkout holds the same commit (code, params,
dvc.lock) but no data; the worker pulls, trains, pushes outputs and run cache. Back in the pipeline checkout,
the pipeline's tasks restore `train` from the run cache instead of running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL

from flows.tasks import dvc, dvc_stage, pull_data
from tests.flows.conftest import OFFLINE_ENV
from tests.flows.test_deployment_e2e import PREFECT, stop
from tsjnet.config import load_params
from tsjnet.data.remote import configure_remote
from tsjnet.pipeline import dvc_env

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT = yaml.safe_load((REPO / "prefect.yaml").read_text())
GPU = next(entry for entry in DEPLOYMENT["deployments"] if entry["entrypoint"] == "flows/stage.py:tsjnet_stage")
POOL = GPU["work_pool"]["name"]
#: What a commit holds of the project: the pipeline's definition, code and lock, none of its data or cache.
COMMITTED = ("dvc.yaml", "dvc.lock", "fake_stage.py", "params.yaml", "conf", ".dvc/config")
RUN_WITHIN_S = 420


@flow(name="hand-back")
def hand_back() -> None:
    """What flows/pipeline.py does after the GPU run: pull, then the stage (restored, not run)."""
    pull_data()
    dvc_stage("train", pull=True)


def run(*args: str, cwd: Path) -> str:
    """A DVC command in `cwd` (this interpreter's `python` first on PATH, as the flows run it); its output."""
    done = subprocess.run(dvc(*args), cwd=cwd, env=dvc_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def clone(project: Path, to: Path) -> Path:
    """The GPU machine's checkout of the same commit, with the flow code next to it (as in the repository)."""
    for name in COMMITTED:
        source, target = project / name, to / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    (to / "flows").symlink_to(REPO / "flows")
    return to


@pytest.fixture
def prefect_cli_env(tmp_path: Path) -> dict[str, str]:
    """The worker's and the CLI's environment: the test server's API, this checkout's packages, offline."""
    return {**os.environ, **OFFLINE_ENV, "PREFECT_API_URL": PREFECT_API_URL.value(),
            "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PYTHONPATH": str(REPO), "PATH": dvc_env()["PATH"]}


@pytest.fixture
def gpu_worker(tmp_path: Path, prefect_cli_env: dict[str, str]) -> Iterator[Path]:
    """A process worker polling the GPU pool; yields its log file."""
    with get_client(sync_client=True) as client:
        if POOL not in {pool.name for pool in client.read_work_pools()}:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", POOL], env=prefect_cli_env,
                              cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    yield log
    stop(worker)


def test_gpu_deployment_trains_on_the_worker_and_hands_back_through_the_run_cache(
        dvc_project: Path, tmp_path: Path, prefect_cli_env: dict[str, str], gpu_worker: Path) -> None:
    run("repro", "pseudolabel", cwd=dvc_project)
    configure_remote(load_params(dvc_project / "params.yaml").remote)
    run("push", "--run-cache", cwd=dvc_project)

    checkout = clone(dvc_project, tmp_path / "gpu-checkout")
    deployed = subprocess.run([PREFECT, "--no-prompt", "deploy", "--prefect-file", str(REPO / "prefect.yaml"),
                               "--name", GPU["name"]], cwd=checkout, env={**prefect_cli_env, "PWD": str(checkout)},
                              capture_output=True, text=True, timeout=300, check=False)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    flow_run = run_deployment(f"tsjnet-stage/{GPU['name']}", timeout=RUN_WITHIN_S,
                              parameters={"stage": "train", "parent_run_id": "pipeline-run-1"})
    assert flow_run.state is not None and flow_run.state.is_completed(), (
        f"{flow_run.state}\n{gpu_worker.read_text()[-4000:]}")
    assert flow_run.work_pool_name == POOL

    # It ran in the GPU checkout, on the data it pulled, nested under the given parent run.
    assert (checkout / "data/prepared/labels.txt").is_file()
    assert (checkout / "models/tsjnet.pt").read_text() == "pipeline-run-1"
    assert "train" in yaml.safe_load((checkout / "dvc.lock").read_text())["stages"]
    assert not (dvc_project / "models/tsjnet.pt").exists()
    assert any((tmp_path / "remote" / "runs").rglob("*")), "the worker pushed no run cache"

    # The pipeline's tasks get `train` from the run cache: the worker's output; run here, it would hold no parent.
    hand_back()
    assert (dvc_project / "models/tsjnet.pt").read_text() == "pipeline-run-1"
    assert "up to date" in run("status", "train", cwd=dvc_project)
