"""End to end: a real Prefect server and process worker run a scheduled deployment to COMPLETED.

A trivial flow, not the pipeline: what is under test is the deployment machinery (server, work pool,
interval schedule, worker) with the pinned prefect / fastapi / SQLAlchemy versions, fully offline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.flows.conftest import OFFLINE_ENV

PREFECT = str(Path(sys.executable).parent / "prefect")
TINY_FLOW = '''
from prefect import flow


@flow(name="e2e-tiny")
def tiny(n: int = 3) -> int:
    return sum(range(n))
'''
SERVER_START_S, COMPLETED_WITHIN_S = 150, 150


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Terminate the process group (the server spawns uvicorn, the worker spawns flow runs), then kill it."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def api(url: str, path: str, body: dict | None = None) -> object:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def wait_for(check: object, within_s: float, what: str, logs: list[Path]) -> object:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            result = check()  # type: ignore[operator]
        except OSError:
            result = None
        if result:
            return result
        time.sleep(2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"{what} not within {within_s} s\n{tails}")


@pytest.fixture
def prefect_env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return {**os.environ, **OFFLINE_ENV, "PREFECT_HOME": str(tmp_path / "home"),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
            "PREFECT_SERVER_API_PORT": str(port), "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in reversed(processes):
        stop(process)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_interval_deployment_runs_to_completion_on_a_process_worker(
        tmp_path: Path, prefect_env: dict[str, str], started: list[subprocess.Popen]) -> None:
    url = prefect_env["PREFECT_API_URL"]
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    port = url.split(":")[-1].split("/")[0]
    started.append(subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port],
                                    env=prefect_env, stdout=server_log.open("w"), stderr=subprocess.STDOUT,
                                    start_new_session=True))
    wait_for(lambda: api(url, "/health"), SERVER_START_S, "Prefect server healthy", [server_log])

    project = tmp_path / "tiny"
    project.mkdir()
    (project / "tiny_flow.py").write_text(TINY_FLOW)
    cli = {"env": prefect_env, "cwd": project, "capture_output": True, "text": True, "timeout": 180}
    created = subprocess.run([PREFECT, "work-pool", "create", "e2e-pool", "--type", "process"], **cli)
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run([PREFECT, "--no-prompt", "deploy", "tiny_flow.py:tiny", "--name", "every-10s",
                               "--pool", "e2e-pool", "--interval", "10"], **cli)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    started.append(subprocess.Popen([PREFECT, "worker", "start", "--pool", "e2e-pool"], env=prefect_env,
                                    cwd=project, stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
                                    start_new_session=True))
    completed_filter = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}
    runs = wait_for(lambda: api(url, "/flow_runs/filter", completed_filter), COMPLETED_WITHIN_S,
                    "a scheduled flow run COMPLETED", [server_log, worker_log])
    assert runs[0]["deployment_id"] is not None and runs[0]["auto_scheduled"]  # type: ignore[index]
