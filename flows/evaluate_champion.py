"""Prefect flow `tsjnet-evaluate-champion`: does the current champion still hold up on newly ingested data?

Re-runs the DVC stages that prepare the evaluation data (ingest, validate, pseudolabel; ingest forced: a
real dataset folder is not a DVC dependency, so DVC cannot see new files in it), evaluates
``models:/<register.model_name>@champion`` on the result with the evaluate stage's script, and
compares the gate metrics (params register.gate) with the numbers the champion was promoted on. Any gate
metric worse by more than `tolerance` fails the flow, naming each regressed metric.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import mlflow
from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.tasks import command_step, dvc_stage
from tsjnet.config import load_params
from tsjnet.errors import TsjnetError
from tsjnet.orchestration import (EVALUATION_DATA_STAGES, GateFailed, champion_markdown, champion_regressions,
                                  pipeline_stages)
from tsjnet.registry.gate import read_metrics
from tsjnet.registry.register import CHAMPION, champion_metrics
from tsjnet.tracking import pipeline_run

#: The evaluate stage's script, pointed at one model URI, writing its metrics files into {out} (not metrics/).
EVALUATE_COMMAND = "python stages/evaluate.py --params {params} --model {model} --out {out}"


@flow(name="tsjnet-evaluate-champion")
def evaluate_champion(tolerance: float = 0.0, refresh_data: bool = True, out: str = "reports/champion",
                      evaluate_command: str = EVALUATE_COMMAND, params_path: str = "params.yaml") -> dict[str, float]:
    """Return the champion's gate metrics on the current data; raise `GateFailed` listing every regression."""
    params = load_params(params_path)
    register = params.register
    for index, stage in enumerate(s for s in pipeline_stages() if s in EVALUATION_DATA_STAGES):
        dvc_stage(stage, force=refresh_data and index == 0)
    with pipeline_run(params, name="evaluate-champion"):
        version, promoted = champion_metrics(register.model_name)
        if version is None or promoted is None:
            raise TsjnetError(f"no '{CHAMPION}' alias on registered model {register.model_name!r}: run the "
                              "pipeline (register stage) first")
        model = f"models:/{register.model_name}@{CHAMPION}"
        command_step(shlex.split(evaluate_command.format(params=params_path, model=model, out=out)), f"evaluate {model}")
        current = read_metrics([Path(out) / Path(name).name for name in register.metrics_files])
        regressions = champion_regressions(current, promoted, register.gate, tolerance)
        mlflow.log_metrics({f"champion.{name}": value for name, value in current.items()})
        mlflow.set_tags({"champion_version": version.version, "champion_check": "failed" if regressions else "passed"})
    create_markdown_artifact(
        markdown=champion_markdown(register.model_name, version.version, current, promoted, register.gate, regressions),
        key="tsjnet-champion-check", description="champion gate metrics on newly ingested data")
    if regressions:
        raise GateFailed(f"champion {register.model_name} v{version.version} regressed on the new data:\n"
                         + "\n".join(f"  - {line}" for line in regressions))
    return {name: current[name] for name in register.gate.metrics}
