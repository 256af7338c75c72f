"""Prefect flow `tsjnet-stage`: one DVC stage on whichever work pool its deployment targets (the GPU pool).

The pipeline flow starts it with `run_deployment` for the training stages. On its own machine it pulls the
inputs from the DVC remote, reproduces the stage, and pushes outputs and run cache back, so the pipeline's
checkout can restore the stage from the run cache without training again.
"""

from __future__ import annotations

from prefect import flow

from flows.tasks import dvc_stage, pull_data, push_data
from tsjnet.orchestration import apply_param_overrides, environment
from tsjnet.tracking import PARENT_ENV


@flow(name="tsjnet-stage", flow_run_name="stage-{stage}")
def tsjnet_stage(stage: str, force: bool = False, overrides: list[str] | None = None, remote: bool = True,
                 params_path: str = "params.yaml", parent_run_id: str | None = None) -> None:
    """Reproduce `stage` here; its MLflow run nests under `parent_run_id` (the pipeline's run) when given."""
    apply_param_overrides(params_path, overrides or [])
    if remote:
        pull_data(params_path)
    with environment({PARENT_ENV: parent_run_id}):
        dvc_stage(stage, force=force, pull=remote)
    if remote:
        push_data(params_path)
