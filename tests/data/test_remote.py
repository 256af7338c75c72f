"""DVC remote configuration: what lands in which config file, and a real push/pull round trip through S3 (moto)."""

from __future__ import annotations

import configparser
import hashlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.params import section, write_params
from tsjnet.config import ParamsError
from tsjnet.config.data import RemoteParams
from tsjnet.data.remote import REMOTE_NAME, configure_remote, remote
from tsjnet.errors import TsjnetError

SECRET = "not-a-real-secret-key"


def _dvc(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _read_config(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    """An empty git + DVC repository (no analytics, no network); in-process `dvc init` keeps it fast."""
    from dvc.repo import Repo

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    with Repo.init(str(repo)) as dvc:
        with dvc.config.edit() as conf:
            conf["core"]["analytics"] = False
    return repo


def test_local_remote_is_stored_relative_to_dvc_dir(dvc_repo: Path) -> None:
    configure_remote(section("remote", kind="local", url="../store"), dvc_repo, env={})
    config = _read_config(dvc_repo / ".dvc" / "config")
    assert config[f"'remote \"{REMOTE_NAME}\"'"]["url"] == "../../store"
    assert config["core"]["remote"] == REMOTE_NAME
    assert not (dvc_repo / ".dvc" / "config.local").exists()


def test_s3_endpoint_from_env_is_machine_local_and_secrets_never_written(dvc_repo: Path) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ACCESS_KEY_ID": "me"}
    configure_remote(section("remote", kind="s3", url="s3://bucket/dvc"), dvc_repo, env=env)
    block = f"'remote \"{REMOTE_NAME}\"'"
    shared = _read_config(dvc_repo / ".dvc" / "config")
    local = _read_config(dvc_repo / ".dvc" / "config.local")
    assert dict(shared[block]) == {"url": "s3://bucket/dvc"}
    assert dict(local[block]) == {"endpointurl": "http://127.0.0.1:9"}
    for path in (dvc_repo / ".dvc").glob("config*"):
        assert SECRET not in path.read_text() and "me" not in dict(_read_config(path).items(block)).values()

    # Switching to a fixed endpoint in params moves it to the shared config and drops the stale local one.
    fixed = section("remote", kind="s3", url="s3://bucket/dvc", endpoint_url="http://minio:9000")
    configure_remote(fixed, dvc_repo, env=env)
    assert _read_config(dvc_repo / ".dvc" / "config")[block]["endpointurl"] == "http://minio:9000"
    assert block not in _read_config(dvc_repo / ".dvc" / "config.local")


@pytest.mark.parametrize("params", [section("remote", kind="s3", url="../folder"),
                                    section("remote", kind="s3", url="s3://"),
                                    section("remote", kind="local", url="s3://bucket/x")])
def test_inconsistent_kind_and_url_are_rejected(dvc_repo: Path, params: RemoteParams) -> None:
    with pytest.raises(ParamsError, match="remote.url"):
        configure_remote(params, dvc_repo, env={})


def test_remote_command_reads_params_next_to_the_repo(dvc_repo: Path) -> None:
    write_params(dvc_repo / "params.yaml", {"remote": {"kind": "local", "url": "../from-params"}})
    app = typer.Typer()
    app.command()(remote)
    result = CliRunner().invoke(app, ["--params", str(dvc_repo / "params.yaml"), "--set", "remote.url=../overridden"])
    assert result.exit_code == 0, result.output
    assert "../overridden" in result.output
    assert _read_config(dvc_repo / ".dvc" / "config")[f"'remote \"{REMOTE_NAME}\"'"]["url"] == "../../overridden"


def test_not_a_dvc_repo(tmp_path: Path) -> None:
    with pytest.raises(TsjnetError, match="dvc init"):
        configure_remote(section("remote"), tmp_path, env={})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_push_pull_round_trip_through_s3(dvc_repo: Path) -> None:
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": SECRET,
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "DVC_NO_ANALYTICS": "1"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key=SECRET).create_bucket(Bucket="tsjnet-data")
        configure_remote(section("remote", kind="s3", url="s3://tsjnet-data/dvc"), dvc_repo, env=env)

        data = dvc_repo / "data"
        (data / "ir").mkdir(parents=True)
        (data / "ir" / "a.png").write_bytes(os.urandom(2048))
        (data / "labels.txt").write_text("0 0.5 0.5 0.1 0.1\n")
        before = _hashes(data)
        _dvc(dvc_repo, "add", "data", env=env)
        _dvc(dvc_repo, "push", env=env)

        shutil.rmtree(data)
        shutil.rmtree(dvc_repo / ".dvc" / "cache")
        _dvc(dvc_repo, "pull", env=env)
        assert _hashes(data) == before
        for path in (dvc_repo / ".dvc").glob("config*"):
            assert SECRET not in path.read_text()
    finally:
        server.stop()
