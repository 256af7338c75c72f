"""End to end on a shared setup: `mlflow/server.sh` (sqlite backend, S3 artifacts on a moto server), register and
promote through it, then fresh processes fuse a real MSRS pair from ``models:/tsjnet@champion``: the `fuse`
command and `mlflow models serve` over HTTP (including a malformed request answered with 400).
"""

from __future__ import annotations

import base64
import io
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

import boto3
import mlflow
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from tests.registry.samples import point_mlflow_at
from tsjnet.config.registry import GateParams, RegisterParams
from tsjnet.data.io import read_ir, read_vi
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.fuse import fuse_pair
from tsjnet.registry.register import CHAMPION, log_fusion_model, promote

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "tsjnet-mlflow"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
OFFLINE = {"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "1"}
STARTUP_S = 240
FUSE_COMMAND = "import typer; from tsjnet.registry.cli import fuse; typer.run(fuse)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run `command` in its own process group; the group (server + its workers) is ended by its id afterwards."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
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


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    pytest.fail(f"{url} not up after {STARTUP_S} s:\n{log.read_text()[-3000:]}")


def post(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 holding an empty BUCKET."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def test_register_promote_then_fuse_and_serve_from_fresh_processes(
        s3_endpoint: str, checkpoint: Path, ivf_dev: Path, tmp_path: Path) -> None:
    name = sorted((ivf_dev / "MSRS" / "test" / "ir").glob("*.png"))[0].stem
    ir_path, vi_path = (ivf_dev / "MSRS" / "test" / side / f"{name}.png" for side in ("ir", "vi"))
    expected = fuse_pair(load_fusion_model(checkpoint, "cpu"), read_ir(ir_path), read_vi(vi_path))
    assert expected.shape == (480, 640, 3)

    # Clients get neither the S3 endpoint nor credentials: artifacts travel through the tracking server.
    base_env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MLFLOW_"))}
    base_env |= OFFLINE | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    port = free_port()
    tracking_uri = f"http://127.0.0.1:{port}"
    server_env = base_env | S3_CREDENTIALS | {
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'server.db'}",
        "MLFLOW_ARTIFACTS_DESTINATION": f"s3://{BUCKET}/artifacts",
        "MLFLOW_S3_ENDPOINT_URL": s3_endpoint, "MLFLOW_PORT": str(port), "MLFLOW_WORKERS": "1"}
    client_env = base_env | {"MLFLOW_TRACKING_URI": tracking_uri}
    params = RegisterParams(checkpoint=str(checkpoint), report=str(tmp_path / "promotion.json"))

    with started(["bash", "mlflow/server.sh"], server_env, tmp_path / "server.log") as server:
        wait_until_up(f"{tracking_uri}/health", server, tmp_path / "server.log")
        # Created without a location, so the server's default (the proxied S3 destination) applies.
        experiment = mlflow.MlflowClient(tracking_uri).create_experiment("e2e")
        with pytest.MonkeyPatch.context() as patch:
            point_mlflow_at(patch, tracking_uri, experiment)
            with mlflow.start_run():
                version = log_fusion_model(params)
                assert promote(version, {"ssim": 0.5}, GateParams(metrics={"ssim": "max"}), params.report).promote
            assert str(mlflow.MlflowClient().get_model_version_by_alias("tsjnet", CHAMPION).version) == "1"
        stored = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
        assert any(item["Key"].endswith("/fusion.pt") for item in stored.get("Contents", [])), \
            [item["Key"] for item in stored.get("Contents", [])]

        serve_port = free_port()
        serve_log = tmp_path / "serve.log"
        serve = [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/tsjnet@{CHAMPION}",
                 "--env-manager", "local", "-h", "127.0.0.1", "-p", str(serve_port), "-w", "1"]
        with started(serve, client_env, serve_log) as serving:
            # The batch command runs while the scoring server boots: two fresh processes, one registry.
            fused_dir = tmp_path / "fused"
            command = [sys.executable, "-c", FUSE_COMMAND, "--model", f"models:/tsjnet@{CHAMPION}",
                       "--ir", str(ir_path), "--vi", str(vi_path), "--out", str(fused_dir)]
            result = subprocess.run(command, env=client_env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            np.testing.assert_array_equal(np.array(Image.open(fused_dir / f"{name}.png")), expected)

            wait_until_up(f"http://127.0.0.1:{serve_port}/ping", serving, serve_log)
            invocations = f"http://127.0.0.1:{serve_port}/invocations"
            record = {"ir": base64.b64encode(ir_path.read_bytes()).decode(),
                      "vi": base64.b64encode(vi_path.read_bytes()).decode()}
            status, body = post(invocations, {"dataframe_records": [record]})
            assert status == 200, body
            fused = json.loads(body)["predictions"][0]["fused"]
            np.testing.assert_array_equal(np.array(Image.open(io.BytesIO(base64.b64decode(fused)))), expected)

            status, body = post(invocations, {"dataframe_records": [{**record, "vi": "not-base64!"}]})
            assert status == 400 and "column 'vi': not valid base64" in body, (status, body)
