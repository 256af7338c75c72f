"""Prefect flow `tsjnet-pipeline`: the DVC pipeline, one task per stage, under one MLflow parent run.

Stage order comes from dvc.yaml at run time (DVC's DAG, dvc.yaml order as tie-break). After the data stages
the dataset is pushed to the DVC remote. Stages listed in `gpu_stages` can run on the GPU work pool: the
`tsjnet-stage` deployment reproduces them there and pushes outputs + run cache, then this flow pulls and
reproduces the same stage locally, which DVC restores from the run cache instead of re-running it, so this
checkout's dvc.lock ends up exactly as after a local `dvc repro`.
"""

from __future__ import annotations

import mlflow
from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.runtime import flow_run

from flows.tasks import dvc_stage, publish_summary, pull_data, push_data
from tsjnet.config import load_params
from tsjnet.errors import TsjnetError
from tsjnet.orchestration import DATA_STAGES, StageFailed, apply_param_overrides, pipeline_stages
from tsjnet.tracking import data_hash, pipeline_run


def run_remote_stage(deployment: str, stage: str, force: bool, overrides: list[str], remote: bool,
                     params_path: str) -> None:
    """Run `stage` as a flow run of `deployment` (GPU pool) and wait; a failed run fails with its message."""
    child = run_deployment(
        name=deployment,
        parameters={"stage": stage, "force": force, "overrides": overrides, "remote": remote,
                    "params_path": params_path,
                    "parent_run_id": mlflow.active_run().info.run_id},
        timeout=None,
    )
    if child.state is None or not child.state.is_completed():
        message = child.state.message if child.state else "no state"
        raise StageFailed(f"DVC stage {stage!r} on deployment {deployment!r} (flow run {child.name})", 1, [message])


@flow(name="tsjnet-pipeline")
def tsjnet_pipeline(
    profile: str | None = None,
    overrides: list[str] | None = None,
    force: bool = False,
    remote: bool = True,
    gpu_deployment: str | None = None,
    gpu_stages: list[str] | None = None,
    params_path: str = "params.yaml",
) -> str:
    """Reproduce the DVC pipeline in the working directory; return the Markdown summary.

    profile / overrides are written into params.yaml (like `dvc exp run -S`) so dvc.lock records them.
    force re-runs every stage. remote pulls before and pushes after (DVC remote from params.remote).
    gpu_deployment (e.g. "tsjnet-stage/gpu") sends gpu_stages (default ["train"]) to that deployment.
    """
    logger = get_run_logger()
    changes = apply_param_overrides(params_path, overrides or [], profile)
    params = load_params(params_path)
    stages = pipeline_stages()
    remote_stages = set(gpu_stages or ["train"]) if gpu_deployment else set()
    if remote_stages - set(stages):
        raise TsjnetError(f"gpu_stages {sorted(remote_stages - set(stages))} are not stages of dvc.yaml {stages}")
    last_data_stage = max((stages.index(s) for s in DATA_STAGES if s in stages), default=None)
    logger.info("stages in order: %s", ", ".join(stages))
    with pipeline_run(params, name="prefect-pipeline"):
        mlflow.set_tags({"prefect_flow_run_id": str(flow_run.get_id()), "orchestrator": "prefect"})
        if remote:
            pull_data(params_path)
        for index, stage in enumerate(stages):
            if stage in remote_stages:
                if remote:
                    push_data(params_path)
                run_remote_stage(gpu_deployment, stage, force, changes, remote, params_path)
                if remote:
                    pull_data(params_path)
            dvc_stage(stage, force=force and stage not in remote_stages, pull=remote and stage in remote_stages)
            if remote and index == last_data_stage:
                push_data(params_path)
        if remote:
            push_data(params_path)
        mlflow.set_tag("dvc_data_hash", data_hash(params.data.out))
    return publish_summary("tsjnet pipeline", "tsjnet-pipeline-summary", params.register.report)

