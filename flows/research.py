"""Prefect flow `tsjnet-research`: the paper's research questions (`tsjnet research`) as a scheduled, tracked run.

First the DVC stages that make its inputs (the evaluation data and the pretrained judges; each skipped when up to
date), then the research set under one MLflow run (tag kind=research): every seed-pooled figure of the main
dataset, the verdict counts and both report files with the plot. The answers become the Markdown artifact
`tsjnet-research`. Like the command, a re-run after a kill trains only the runs that had not finished.
"""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.tasks import dvc_stage
from tsjnet.config import load_params
from tsjnet.orchestration import RESEARCH_INPUT_STAGES, pipeline_stages
from tsjnet.research.report import answers, figure_path
from tsjnet.research.run import run_research
from tsjnet.tracking import pipeline_run


@flow(name="tsjnet-research")
def research(params_path: str = "params.yaml", overrides: list[str] | None = None, prepare: bool = True,
             device: str = "auto") -> dict[str, int]:
    """Run the research set (params `research:` with `overrides`, e.g. ["research.seeds=[0]"]); return how many
    comparisons came out better, worse and within noise."""
    params = load_params(params_path, overrides or [])
    if prepare:
        for stage in (s for s in pipeline_stages() if s in RESEARCH_INPUT_STAGES):
            dvc_stage(stage)
    command = "prefect flow tsjnet-research" + (f" with overrides {overrides}" if overrides else "")
    with pipeline_run(params, name="research"):
        mlflow.set_tag("kind", "research")
        report = run_research(params, device, command)
        main = report.figures[report.main_dataset]
        mlflow.log_metrics({f"{method}.{metric}": figure.mean for method, figures in main.items()
                            for metric, figure in figures.items() if figure.mean is not None and math.isfinite(figure.mean)})
        report_path = Path(params.research.report)
        for path in (report_path, figure_path(report_path), Path(params.research.metrics)):
            mlflow.log_artifact(str(path), artifact_path="research")
    create_markdown_artifact(markdown="\n".join(answers(report)), key="tsjnet-research",
                             description="the research questions' verdicts (reports/research_questions.md)")
    words = ("better", "worse", "within noise")
    return {word: sum(row.verdict == word for row in report.comparisons) for word in words}
