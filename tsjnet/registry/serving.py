"""Run `mlflow models serve` (or any server) as a child process and talk to it over HTTP.

Shared by `tsjnet bench`'s load run and the endpoint tests, so both start, wait for and end the server the
same way: in its own process group (uvicorn and its workers end together), bound to 127.0.0.1 by default, with
the request body limit of `tsjnet.registry.http_limits`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tsjnet.errors import TsjnetError
from tsjnet.registry.http_limits import LIMIT_VARIABLE, PROTOCOL

#: Start-up allowance: loading torch and the model in a fresh process on a busy 2-core machine.
STARTUP_S = 240
#: Without telemetry: a scoring server on an offline machine must not try to phone home.
OFFLINE = {"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "1"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(max_body_bytes: int) -> dict[str, str]:
    """What a `serve_command` process needs on top of the environment: the body limit, no telemetry, and this
    environment's ``bin`` first on PATH (MLflow starts ``uvicorn`` through the shell)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {"UVICORN_HTTP": PROTOCOL, LIMIT_VARIABLE: str(max_body_bytes), "PATH": path, **OFFLINE}


def serve_command(model_uri: str, port: int, host: str = "127.0.0.1", workers: int = 1) -> list[str]:
    """`mlflow models serve` of `model_uri` from this Python environment (run it with `serve_env`)."""
    return [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
            "-h", host, "-p", str(port), "-w", str(workers)]


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
            ) -> Iterator[subprocess.Popen]:
    """Run `command` in its own process group, output to `log`; the group is ended by its id afterwards."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout_s: float = STARTUP_S) -> None:
    """Poll `url` until it answers 200; a process that exits or a timeout raises with the log's tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TsjnetError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise TsjnetError(f"{url} not up after {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def scoring_server(model_uri: str, max_body_bytes: int, log: Path, env: dict[str, str] | None = None
                   ) -> Iterator[str]:
    """`mlflow models serve` of `model_uri` on a free 127.0.0.1 port, up and answering; yields its base URL.

    `env` adds to this process's environment (e.g. ``MLFLOW_TRACKING_URI`` for a ``models:/`` URI).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with started(serve_command(model_uri, port), {**os.environ, **(env or {}), **serve_env(max_body_bytes)},
                 log) as process:
        wait_until_up(f"{url}/ping", process, log)
        yield url


def post(url: str, body: dict | bytes, content_type: str = "application/json", timeout_s: float = 120
         ) -> tuple[int, str]:
    """POST `body` (a dict is sent as JSON); (status, response text), error statuses included."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
