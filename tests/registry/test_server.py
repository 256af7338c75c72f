"""End to end on a shared setup: `mlflow/server.sh` with S3 artifacts on a moto server, once per backend store
(sqlite, and a throw-away PostgreSQL cluster: tests/postgres.py). The register stage's fusion part runs through
it twice (promoted, then refused by the gate), the database is checked to hold the aliases, and fresh processes
fuse a real MSRS pair from ``models:/tsjnet@champion``: the `fuse` command on both backends, `mlflow models
serve` over HTTP (including a malformed request answered with 400) on PostgreSQL.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import mlflow
import numpy as np
import pytest
import sqlalchemy
from moto.server import ThreadedMotoServer
from PIL import Image
from sqlalchemy.engine import make_url

from tests import postgres
from tests.params import section
from tests.registry.samples import point_mlflow_at
from tsjnet.data.io import read_ir, read_vi
from tsjnet.registry.checkpoint import load_fusion_model
from tsjnet.registry.fuse import fuse_pair
from tsjnet.registry.register import CANDIDATE, CHAMPION, current_champion, log_fusion_model, promote
from tsjnet.registry.serving import OFFLINE, free_port, post, serve_command, started, wait_until_up

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

ROOT = Path(__file__).resolve().parents[2]

BUCKET = "tsjnet-mlflow"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
FUSE_COMMAND = "import typer; from tsjnet.registry.cli import fuse; typer.run(fuse)"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 holding an empty BUCKET, shared by the servers of both backends."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client of the moto server (its fake credentials)."""
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")


@pytest.fixture(scope="module")
def postgres_uri() -> Iterator[str]:
    """A throw-away PostgreSQL cluster (tests/postgres.py); a skip where PostgreSQL is not installed, except in CI."""
    with postgres.cluster(postgres.installed(), free_port()) as uri:
        yield uri


class Pair(NamedTuple):
    """A real MSRS test pair and what the checkpoint makes of it in this process."""

    name: str
    ir: Path
    vi: Path
    expected: np.ndarray


@pytest.fixture(scope="module")
def pair(checkpoint: Path, ivf_dev: Path) -> Pair:
    """The first ivf-dev test pair (480x640) and the checkpoint's fusion of it."""
    name = sorted((ivf_dev / "MSRS" / "test" / "ir").glob("*.png"))[0].stem
    ir_path, vi_path = (ivf_dev / "MSRS" / "test" / side / f"{name}.png" for side in ("ir", "vi"))
    expected = fuse_pair(load_fusion_model(checkpoint, "cpu"), read_ir(ir_path), read_vi(vi_path))
    assert expected.shape == (480, 640, 3)
    return Pair(name, ir_path, vi_path, expected)


@dataclass(frozen=True)
class Registry:
    """A running tracking server on one backend store, after two register rounds through it."""

    backend: str
    model: str  # the registered model's name
    tracking_uri: str
    client_env: dict[str, str]  # the server's URL only: no S3 endpoint, no credentials
    store_uri: str  # the backend store, password included, to check what the database itself holds
    log: Path
    secrets: tuple[str, ...]  # what must stay out of the server's log


def backend_store(backend: str, request: pytest.FixtureRequest, folder: Path) -> tuple[str, dict[str, str]]:
    """The store URI and the server's environment for it; PostgreSQL's password goes in PGPASSWORD, not the URI."""
    if backend == "sqlite":
        uri = f"sqlite:///{folder / 'server.db'}"
        return uri, {"MLFLOW_BACKEND_STORE_URI": uri}
    uri = request.getfixturevalue("postgres_uri")
    url = make_url(uri)
    return uri, {"MLFLOW_BACKEND_STORE_URI": url.set(password=None).render_as_string(hide_password=False),
                 "PGPASSWORD": str(url.password)}


@pytest.fixture(scope="module", params=BACKENDS)
def registry(request: pytest.FixtureRequest, s3_endpoint: str, checkpoint: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """`mlflow/server.sh` on the backend store named by the param, artifacts in S3; the register stage's fusion
    part ran twice through it: version 1 promoted to champion, then version 2 (worse) kept as candidate only."""
    backend = request.param
    folder = tmp_path_factory.mktemp(backend)
    store_uri, store_env = backend_store(backend, request, folder)
    # Clients get neither the S3 endpoint nor credentials: artifacts travel through the tracking server.
    base_env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MLFLOW_", "PG"))}
    base_env |= OFFLINE | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    port = free_port()
    tracking_uri = f"http://127.0.0.1:{port}"
    server_env = base_env | S3_CREDENTIALS | store_env | {
        "MLFLOW_ARTIFACTS_DESTINATION": f"s3://{BUCKET}/{backend}",
        "MLFLOW_S3_ENDPOINT_URL": s3_endpoint, "MLFLOW_PORT": str(port), "MLFLOW_WORKERS": "1"}
    params = section("register", checkpoint=str(checkpoint), report=str(folder / "promotion.json"),
                     gate={"metrics": {"ssim": "max"}})
    log = folder / "server.log"

    with started(["bash", "mlflow/server.sh"], server_env, log, ROOT) as server:
        wait_until_up(f"{tracking_uri}/health", server, log)
        # Created without a location, so the server's default (the proxied S3 destination) applies.
        experiment = mlflow.MlflowClient(tracking_uri).create_experiment("e2e")
        with pytest.MonkeyPatch.context() as patch:
            point_mlflow_at(patch, tracking_uri, experiment)
            for ssim in (0.5, 0.4):
                with mlflow.start_run():
                    champion = current_champion(params.model_name, "judges")
                    promote(log_fusion_model(params), {"ssim": ssim}, params.gate, params.report, "judges", champion)
        # One intra-op thread, as in this process (tests/conftest.py): convolutions split their sums by thread count,
        # which can move a rare pixel by one grey level, and these tests compare pixels exactly.
        client_env = base_env | {"MLFLOW_TRACKING_URI": tracking_uri, "OMP_NUM_THREADS": "1"}
        yield Registry(backend, params.model_name, tracking_uri, client_env, store_uri, log,
                       tuple(value for key, value in store_env.items() if key == "PGPASSWORD"))


def test_register_and_promote_through_the_server(registry: Registry, s3_endpoint: str) -> None:
    client = mlflow.MlflowClient(registry.tracking_uri)
    assert client.get_model_version_by_alias(registry.model, CHAMPION).version == "1"
    refused = client.get_model_version(registry.model, "2").tags
    assert (refused["gate.decision"], refused["gate.champion_after"], refused["metric.ssim"]) == \
        ("rejected", "1", "0.4")

    engine = sqlalchemy.create_engine(registry.store_uri)  # the database itself, not the server's view of it
    try:
        with engine.connect() as database:
            aliases = database.execute(sqlalchemy.text("SELECT alias, version FROM registered_model_aliases "
                                                       "WHERE name = :name"), {"name": registry.model}).all()
    finally:
        engine.dispose()
    assert sorted(map(tuple, aliases)) == [(CANDIDATE, 2), (CHAMPION, 1)]

    stored = s3_client(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix=f"{registry.backend}/")
    keys = [item["Key"] for item in stored.get("Contents", [])]
    assert sum(key.endswith("/fusion.pt") for key in keys) == 2, keys
    log = registry.log.read_text()
    assert not [secret for secret in registry.secrets if secret in log]


def test_fresh_process_fuses_with_the_champion(registry: Registry, pair: Pair, tmp_path: Path) -> None:
    command = [sys.executable, "-c", FUSE_COMMAND, "--model", f"models:/{registry.model}@{CHAMPION}",
               "--ir", str(pair.ir), "--vi", str(pair.vi), "--out", str(tmp_path)]
    result = subprocess.run(command, env=registry.client_env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / f"{pair.name}.png")), pair.expected)


# Serving reads the registry like the fuse command does; once, on the database a team deploys.
@pytest.mark.parametrize("registry", ["postgresql"], indirect=True)
def test_champion_served_over_http(registry: Registry, pair: Pair, tmp_path: Path) -> None:
    serve_port = free_port()
    serve_log = tmp_path / "serve.log"
    serve = serve_command(f"models:/{registry.model}@{CHAMPION}", serve_port)
    with started(serve, registry.client_env, serve_log, ROOT) as serving:
        wait_until_up(f"http://127.0.0.1:{serve_port}/ping", serving, serve_log)
        invocations = f"http://127.0.0.1:{serve_port}/invocations"
        record = {"ir": base64.b64encode(pair.ir.read_bytes()).decode(),
                  "vi": base64.b64encode(pair.vi.read_bytes()).decode()}
        status, body = post(invocations, {"dataframe_records": [record]})
        assert status == 200, body
        fused = json.loads(body)["predictions"][0]["fused"]
        np.testing.assert_array_equal(np.array(Image.open(io.BytesIO(base64.b64decode(fused)))), pair.expected)

        status, body = post(invocations, {"dataframe_records": [{**record, "vi": "not-base64!"}]})
        assert status == 400 and "column 'vi': not valid base64" in body, (status, body)
