"""MLflow tracking: one parent run per pipeline execution, one nested run per stage.

The parent run is opened by `tsjnet repro` (or the Prefect flow), which exports its id in
``TSJNET_PARENT_RUN_ID`` so the stage processes that `dvc repro` starts nest under it. A stage run by
hand without a parent still logs, as a top-level run. Every run carries the git commit and the DVC
hash of the ingested data as tags. Tracking defaults to a local sqlite store (offline, nothing to
start); ``MLFLOW_TRACKING_URI`` points it at a shared server instead.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from tsjnet.config import Params
from tsjnet.config.compose import flatten
from tsjnet.config.tracking import MlflowParams

PARENT_ENV = "TSJNET_PARENT_RUN_ID"


def configure(params: MlflowParams) -> str:
    """Point MLflow at the configured store and experiment; return the tracking URI in use."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or params.tracking_uri
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(params.experiment) is None:
        # A tracking server keeps artifacts in its own store (S3); only a local store gets a local folder.
        server = uri.startswith(("http://", "https://"))
        location = params.artifact_location
        if server:
            location = None
        elif "://" not in location and not location.startswith("mlflow-artifacts:"):
            location = Path(location).resolve().as_uri()
        mlflow.create_experiment(params.experiment, artifact_location=location)
    mlflow.set_experiment(params.experiment)
    return uri


def git_commit() -> str:
    """The checked-out commit, or 'unknown' outside a git work tree."""
    result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def data_hash(data_out: str, lock: Path = Path("dvc.lock")) -> str:
    """The md5 DVC recorded for the ingested data folder, or 'unversioned' before the first repro."""
    if not lock.is_file():
        return "unversioned"
    stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
    for stage in stages.values():
        for out in stage.get("outs", []):
            if Path(out.get("path", "")) == Path(data_out):
                return str(out.get("md5", "unversioned"))
    return "unversioned"


@contextmanager
def stage_run(stage: str, params: Params, sections: tuple[str, ...]) -> Iterator[Any]:
    """Open the MLflow run of one stage (nested under the pipeline's run when there is one)."""
    import mlflow

    configure(params.mlflow)
    tags = {
        "stage": stage,
        "profile": params.profile,
        "git_commit": git_commit(),
        "dvc_data_hash": data_hash(params.data.out),
    }
    dumped = params.model_dump(by_alias=True)
    with mlflow.start_run(run_name=stage, parent_run_id=os.environ.get(PARENT_ENV), tags=tags) as run:
        for section in sections:
            logged = flatten(section, dumped[section])
            mlflow.log_params({k: str(v)[:500] for k, v in logged.items()})
        yield run


@contextmanager
def pipeline_run(params: Params, name: str = "pipeline") -> Iterator[Any]:
    """Open the parent run and export its id so stage subprocesses nest under it."""
    import mlflow

    configure(params.mlflow)
    tags = {"git_commit": git_commit(), "profile": params.profile, "kind": "pipeline"}
    with mlflow.start_run(run_name=name, tags=tags) as run:
        previous = os.environ.get(PARENT_ENV)
        os.environ[PARENT_ENV] = run.info.run_id
        try:
            yield run
        finally:
            if previous is None:
                os.environ.pop(PARENT_ENV, None)
            else:
                os.environ[PARENT_ENV] = previous
