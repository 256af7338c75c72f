"""`tsjnet repro`: run the DVC pipeline inside one MLflow parent run (stages nest under it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from tsjnet.config import load_params, render_params
from tsjnet.errors import TsjnetError
from tsjnet.tracking import data_hash, pipeline_run


def dvc_env() -> dict[str, str]:
    """Environment for stage subprocesses: this interpreter's bin first, so `python` in dvc.yaml is ours."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def repro(params_path: str = "params.yaml", targets: list[str] | None = None, force: bool = False,
          overrides: list[str] | None = None) -> None:
    """Render params.yaml from conf/ (Hydra ``overrides``, e.g. ``profile=paper``), then run `dvc repro [targets]`
    under a parent MLflow run; raise with the failing output's hint.

    Rendering first is what `dvc exp run` does too: conf/ is the source, so an edit there is never ignored, and a
    changed key (including a hand edit of params.yaml, which rendering replaces) is printed.
    """
    import mlflow

    changed = render_params(params_path, overrides)
    if changed:
        Console(stderr=True).print(f"params.yaml rendered from conf/ {overrides or []}: changed {', '.join(changed)}")
    params = load_params(params_path)
    command = [sys.executable, "-m", "dvc", "repro", *(targets or [])] + (["--force"] if force else [])
    with pipeline_run(params):
        result = subprocess.run(command, env=dvc_env(), check=False)
        mlflow.set_tag("dvc_data_hash", data_hash(params.data.out))
        mlflow.set_tag("dvc_repro_returncode", str(result.returncode))
    if result.returncode != 0:
        raise TsjnetError(f"`dvc repro` failed (exit {result.returncode}); the failing stage's message is above")
