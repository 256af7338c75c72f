"""Point DVC at the data remote described by params.remote, keeping secrets and machine paths out of git.

What is shared by everyone (the remote URL, a fixed endpoint from params.yaml) goes to `.dvc/config`, which is
committed. What belongs to one machine (an endpoint taken from AWS_ENDPOINT_URL) goes to `.dvc/config.local`,
which DVC git-ignores. Credentials are never written anywhere: DVC's S3 client (botocore) reads
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or AWS_PROFILE from the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import typer

from tsjnet.config import ParamsError, load_params
from tsjnet.config.data import RemoteParams
from tsjnet.errors import TsjnetError

REMOTE_NAME = "storage"


def remote_sections(params: RemoteParams, root: Path, env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DVC remote options split into (shared `.dvc/config`, machine-local `.dvc/config.local`) sections."""
    from dvc.config_schema import RelPath

    url = params.url
    if params.kind == "local":
        if "://" in url:
            raise ParamsError(f"remote.url {url!r} is not a folder but remote.kind is 'local'; "
                              "set remote.kind: s3 or give a folder path")
        # RelPath makes DVC store the folder relative to .dvc/, so the committed config works in any checkout.
        return {"url": url if Path(url).is_absolute() else RelPath((root / url).resolve())}, {}
    if not url.startswith("s3://") or not urlparse(url).netloc:
        raise ParamsError(f"remote.url {url!r} must look like s3://bucket/path when remote.kind is 's3'")
    shared: dict[str, Any] = {"url": url}
    local: dict[str, Any] = {}
    if params.endpoint_url:
        shared["endpointurl"] = params.endpoint_url
    elif env.get("AWS_ENDPOINT_URL"):
        local["endpointurl"] = env["AWS_ENDPOINT_URL"]
    return shared, local


def configure_remote(params: RemoteParams, root: str | Path = ".", env: Mapping[str, str] | None = None,
                     name: str = REMOTE_NAME) -> str:
    """Make `name` the default DVC remote of the repository at `root`; return the URL it now points to.

    Re-running replaces earlier settings of the same remote (a stale local endpoint is removed too).
    """
    from dvc.config import Config

    root = Path(root).resolve()
    dvc_dir = root / ".dvc"
    if not dvc_dir.is_dir():
        raise TsjnetError(f"{root} is not a DVC repository (no .dvc/); run `dvc init` there first")
    shared, local = remote_sections(params, root, os.environ if env is None else env)
    config = Config(dvc_dir=str(dvc_dir))
    with config.edit("repo") as conf:
        conf["remote"][name] = shared
        conf["core"]["remote"] = name
    if local or name in config.read("local")["remote"]:
        with config.edit("local") as conf:
            if local:
                conf["remote"][name] = local
            else:
                del conf["remote"][name]
    return params.url


def remote(params_path: str = typer.Option("params.yaml", "--params", help="params.yaml to read remote: from"),
           override: list[str] = typer.Option([], "--set", "-S", help="key.sub=value, e.g. remote.kind=s3")) -> None:
    """Configure the DVC remote from params.yaml `remote:` (credentials stay in the environment)."""
    params = load_params(params_path, override)
    url = configure_remote(params.remote, Path(params_path).resolve().parent)
    typer.echo(f"DVC remote '{REMOTE_NAME}' ({params.remote.kind}) -> {url}; `dvc push` / `dvc pull` now use it")
