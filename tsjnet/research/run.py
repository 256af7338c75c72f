"""Run the research set: train every planned run, score every method on every dataset, write JSON and Markdown.

Training resumes: a run whose checkpoint has all its epochs only re-scores, so a killed set continues where it
stopped and a finished one re-renders its report in minutes. Nothing here downloads anything: the judges are the
pipeline's pretrained detectors and segmenter, opened (with the test split) before the first epoch trains, so a
missing one fails at once naming the DVC stage that writes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from tsjnet.config import Params
from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.evaluation.methods import load_method, split_available
from tsjnet.evaluation.run import SOURCE_NAMES
from tsjnet.metrics.bootstrap import Resampled
from tsjnet.registry.checkpoint import load_fusion_model, resolve_device
from tsjnet.reports import ResearchReport
from tsjnet.research.plan import BASELINE, PlannedRun, plan_runs
from tsjnet.research.questions import comparisons, figure, mean_ranks
from tsjnet.research.report import write_markdown
from tsjnet.research.scoring import fuse_dataset, fusion_draws, task_draws
from tsjnet.evaluation.judges import SHARED_KEY
from tsjnet.tasks.scoring import SOURCES, cross_judged, load_task_nets
from tsjnet.tracking import git_commit
from tsjnet.training.distributed import init_world
from tsjnet.training.joint import train_fusion

console = Console(stderr=True)


def describe(params: Params, runs: Sequence[PlannedRun]) -> dict[str, str]:
    """Method -> one line saying what it is (the report's legend)."""
    sets = {variant.name: variant.set for variant in params.research.variants}
    lines = {run.method: ("train: with " + ", ".join(f"{key}={json.dumps(value)}" for key, value in
                                                    (params.research.common | sets[run.method]).items())
                          if run.method in sets else
                          f"train_baseline: ({params.train_baseline.model}), {run.job.params.epochs} epochs")
             for run in runs}
    lines |= {modality: f"the {modality} image, judged by the {modality} detector" for modality in SOURCES}
    lines |= {cross_judged(modality, SHARED_KEY): f"the {modality} image, judged by the fused images' detector "
              f"({SHARED_KEY}): fused vs this row leaves that judge's own weakness out" for modality in SOURCES}
    return lines | {spec.name: f"{spec.model} (untrained)" for spec in params.research.references}


def _datasets(params: Params) -> dict[str, PairDataset]:
    main = {SOURCE_NAMES[params.data.source]: open_dataset("msrs", params.pseudolabel.out, params.research.split)}
    return main | {extra.name: open_dataset("paired", ".", ir_dir=extra.ir, vi_dir=extra.vi)
                   for extra in params.data.extra_datasets}


def run_research(params: Params, device: str = "auto", command: str = "tsjnet research") -> ResearchReport:
    """Train and score the whole set of `params.research`; write its JSON and Markdown report (which name `command`,
    the command line that asked for it); return the report."""
    started, research = time.perf_counter(), params.research
    torch_device = resolve_device(device)
    datasets = _datasets(params)
    main = next(iter(datasets))
    nets = load_task_nets(params.detector, params.segmenter, torch_device)
    references, skipped = split_available(research.references)
    untrained = {spec.name: load_method(spec, torch_device).model for spec in references}
    runs = plan_runs(params)

    for index, run in enumerate(runs, 1):
        console.rule(f"research run {index}/{len(runs)}: {run.method}, seed {run.seed}")
        train_fusion(run.job, init_world(torch_device))

    scored: dict[str, dict[str, list[Resampled]]] = {dataset: {} for dataset in datasets}
    for seed in research.seeds:
        models = {run.method: load_fusion_model(run.job.params.out, torch_device) for run in runs if run.seed == seed}
        models |= untrained if seed == research.seeds[0] else {}
        for dataset, pairs in datasets.items():
            fused = {method: fuse_dataset(model, pairs, f"{method} (seed {seed}) on {dataset}")
                     for method, model in models.items()}
            fusion = {method: fusion_draws(pairs, images) for method, images in fused.items()}
            if dataset == main:
                sources = SOURCES if seed == research.seeds[0] else ()
                tasks = task_draws(pairs, fused, nets, torch_device, sources)
                fusion = {name: fusion[name].merge(tasks[name]) if name in fusion else tasks[name] for name in tasks}
            for method, draws in fusion.items():
                scored[dataset].setdefault(method, []).append(draws)

    names = [BASELINE] * research.baseline + [spec.name for spec in references]
    figures = {dataset: {method: {metric: figure(draws, metric) for metric in draws[0].values}
                         for method, draws in by_method.items()} for dataset, by_method in scored.items()}
    report = ResearchReport(
        commit=git_commit(), command=command, main_dataset=main, split=research.split, seeds=list(research.seeds),
        images={dataset: len(pairs) for dataset, pairs in datasets.items()},
        seconds=round(time.perf_counter() - started, 1), methods=describe(params, runs) | {
            spec.name: f"skipped: {spec.weights} not found" for spec in skipped},
        figures=figures, comparisons=comparisons(scored, main, names),
        ranking={dataset: mean_ranks(by_method) for dataset, by_method in figures.items()})
    report.write(research.metrics)
    write_markdown(report, Path(research.report))
    return report
