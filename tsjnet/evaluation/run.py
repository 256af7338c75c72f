"""The evaluate stage as a library call: fuse, score, write metrics/plots/report, log to MLflow.

Order matters for failing fast: checkpoints, datasets and task networks are all opened before the first
image is fused, so a missing file stops the stage in seconds with the file and the stage that writes it.

Outputs (paths from params `evaluate:`):
  fused_dir/<method>/<name>.png          the main dataset's split, per method
  fused_dir/judge_train/<method>/<name>.png  evaluate.judges per_method: the train pairs its judge learns from
  fused_dir/<extra>/<method>/<name>.png  each cross-dataset set of data.extra_datasets
  metrics (flat gate metrics), fusion_metrics (dataset -> method -> means), task_metrics (input -> scores);
  fusion and task values carry their 95% bootstrap interval as ``<key>_ci_low``/``<key>_ci_high`` beside them
  plots_dir/task_*.csv, plots_dir/figures/*.png (per-class bars, confusion matrices, sample grids), report
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tsjnet.config import Params
from tsjnet.config.data import ExtraDataset
from tsjnet.config.evaluate import EvaluateParams
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.errors import DataError
from tsjnet.evaluation.fuse_split import fuse_split, fused_input
from tsjnet.evaluation.fusion_eval import fusion_means
from tsjnet.evaluation.grid import sample_grid
from tsjnet.evaluation.judges import JUDGE_TRAIN_DIR, SHARED_KEY, build_judges, plan_judges
from tsjnet.evaluation.methods import Method, load_method, missing_reason, split_available
from tsjnet.evaluation.plots import FIGURES_DIR, task_figures, write_task_csvs
from tsjnet.evaluation.report import ReportData, write_report
from tsjnet.evaluation.summary import gate_metrics
from tsjnet.tasks.scoring import (SOURCES, evaluate_inputs, load_task_nets, source_input,
                                        with_intervals)
from tsjnet.reports import FlatMetrics, FusionMetrics, TaskMetrics
from tsjnet.metrics.suite import HEADLINE_METRICS
from tsjnet.registry.checkpoint import resolve_device

#: params data.source -> the main dataset's display name.
SOURCE_NAMES = {"synth": "SynthScenes", "msrs": "MSRS", "paired": "paired"}


@dataclass(frozen=True)
class EvaluationData:
    """What is evaluated: the labelled main dataset (MSRS layout) and the unlabelled cross-dataset sets."""

    root: Path
    name: str
    extra: Sequence[ExtraDataset] = ()


def evaluation_data(params: Params) -> EvaluationData:
    """What the evaluate stage evaluates under `params`: the pseudolabel stage's output and the cross-dataset sets."""
    return EvaluationData(root=Path(params.pseudolabel.out), name=SOURCE_NAMES[params.data.source],
                          extra=params.data.extra_datasets)


@dataclass
class EvaluationResult:
    """The stage's numbers and the files it wrote (metrics files first, then plots and the report)."""

    gate: dict[str, float]
    fusion: dict[str, dict[str, dict[str, float]]]
    task: dict[str, dict[str, object]]
    files: list[Path]
    report: Path


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_").lower() or "dataset"


def _open_extras(extra: Sequence[ExtraDataset], taken: Sequence[str]) -> dict[str, PairDataset]:
    """The cross-dataset sets; their names become folders next to the method folders, so they must be unique."""
    names = [e.name for e in extra]
    clashes = sorted({n for n in names if names.count(n) > 1} | (set(names) & {*taken, JUDGE_TRAIN_DIR}))
    if clashes:
        raise DataError(f"data.extra_datasets names {clashes} are repeated or equal the main dataset's, an "
                        f"evaluate.methods name or {JUDGE_TRAIN_DIR!r} (the judges' training images); their fused "
                        "folders would mix: rename the datasets")
    return {e.name: open_dataset("paired", ".", ir_dir=e.ir, vi_dir=e.vi) for e in extra}


def _fuse_all(methods: Sequence[Method], datasets: dict[str, PairDataset], folders: dict[str, Path]
              ) -> dict[str, dict[str, Path]]:
    """dataset -> method -> folder of fused PNGs, every method over every dataset."""
    fused: dict[str, dict[str, Path]] = {}
    for dataset, pairs in datasets.items():
        fused[dataset] = {m.name: folders[dataset] / m.name for m in methods}
        for method in methods:
            fuse_split(method, pairs, fused[dataset][method.name], label=f"{method.name} on {dataset}")
    return fused


def run_evaluation(params: EvaluateParams, data: EvaluationData, detector: DetectorParams,
                   segmenter: SegmenterParams) -> EvaluationResult:
    """Evaluate every available method of `params` on `data`; write every output file; return the numbers."""
    device = resolve_device(params.device)
    specs, missing = split_available(params.methods)
    skipped = {spec.name: missing_reason(spec) for spec in missing}
    datasets = {data.name: open_dataset("msrs", data.root, params.split),
                **_open_extras(data.extra, [data.name, *(spec.name for spec in params.methods)])}
    nets = load_task_nets(detector, segmenter, device)
    methods = [load_method(spec, device) for spec in specs]
    fused_root = Path(params.fused_dir)
    judging = plan_judges(params.judges, detector, data.root, fused_root)

    folders = {name: fused_root if name == data.name else fused_root / name for name in datasets}
    fused = _fuse_all(methods, datasets, folders)
    fusion = {dataset: {method: fusion_means(datasets[dataset], folder) for method, folder in by_method.items()}
              for dataset, by_method in fused.items()}
    judges = build_judges(judging, methods, nets.detectors[SHARED_KEY], device)
    nets.detectors |= judges.detectors
    inputs = [source_input(m) for m in SOURCES] + [fused_input(m, f, judges.keys[m])
                                                   for m, f in fused[data.name].items()]
    if params.primary in judges.keys:  # the sources under the primary's judge too: fused vs IR under one detector
        inputs += [source_input(m, judges.keys[params.primary]) for m in SOURCES]
    scored = evaluate_inputs(inputs, datasets[data.name], nets, device)
    scores = {name: with_intervals(score) for name, score in scored.items()}
    task = {name: score.metrics for name, score in scores.items()}
    gate = gate_metrics(fusion[data.name][params.primary], task, params.primary)

    files = [FlatMetrics(gate).write(params.metrics), FusionMetrics(fusion).write(params.fusion_metrics),
             TaskMetrics(task).write(params.task_metrics), *write_task_csvs(task, params.plots_dir)]
    figures = task_figures(scores, [*SOURCES, params.primary], params.plots_dir)
    grids = {dataset: sample_grid(datasets[dataset], fused[dataset], params.n_grid_samples,
                                  Path(params.plots_dir) / FIGURES_DIR / f"grid_{_slug(dataset)}.png",
                                  f"{dataset}: IR | VIS | fused")
             for dataset in datasets}
    report = write_report(ReportData(
        main_dataset=data.name, split=params.split, primary=params.primary, ablation=params.ablation,
        image_counts={name: len(pairs) for name, pairs in datasets.items()}, fusion=fusion, task=task,
        grids=grids, judges=judges.protocol, figures=figures, skipped=skipped,
        task_draws={name: score.resampled for name, score in scores.items() if score.resampled is not None},
        credits={m.name: m.model.attribution for m in methods if m.model.attribution}),
        params.report)
    return EvaluationResult(gate, fusion, task, [*files, *figures, *grids.values(), report], report)


def log_to_mlflow(result: EvaluationResult) -> None:
    """Log the gate metrics, task and headline fusion scores, and every written file to the active run."""
    import mlflow

    task = {f"task.{name}.{key}": float(value) for name, metrics in result.task.items()
            for key, value in metrics.items() if key in ("map50", "map", "miou", "miou_no_bg")}
    fusion = {f"fusion.{_slug(dataset)}.{method}.{metric}": means[metric]
              for dataset, methods in result.fusion.items() for method, means in methods.items()
              for metric in HEADLINE_METRICS}
    mlflow.log_metrics(result.gate)
    mlflow.log_metrics({key: value for key, value in {**task, **fusion}.items() if math.isfinite(value)})
    for path in result.files:
        mlflow.log_artifact(str(path), artifact_path=artifact_dir(path))


def artifact_dir(path: Path) -> str:
    """The run's artifact folder for a written file: its repo-relative folder (metrics, plots/evaluate/figures ...),
    or just the folder name for a file written outside the project."""
    outside = path.is_absolute() or ".." in path.parent.parts
    return path.parent.name if outside else path.parent.as_posix()


def measure_model(params: Params, uri: str) -> dict[str, float]:
    """The flat gate metrics of the model at `uri` alone, measured as the evaluate stage measures its primary method
    (same judges, test split and settings; no cross-dataset sets), all outputs in a temporary folder.

    The register stage's re-measure of a champion whose numbers came from other judges or data.
    """
    with tempfile.TemporaryDirectory() as out:
        data = replace(evaluation_data(params), extra=())
        return run_evaluation(params.evaluate.for_model(uri).under(out), data, params.detector, params.segmenter).gate
