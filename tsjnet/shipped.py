"""The shipped real-data model (`tsjnet ship`): the model a real-data pipeline run trained, carded and committed.

`tsjnet repro --profile msrs` runs the whole pipeline on the real pairs of params `shipped:` (train on ivf-train's
MSRS pairs, validate on ivf-dev dev_val, test on ivf-dev dev_train). `ship` then checks that the trained model is
the one dvc.lock records for that run, copies it to `shipped.out`, scores it beside the reference methods on the
val and test pairs (13 fusion metrics, 95% bootstrap intervals, paired verdicts), and writes the card from what the
run recorded: data digests, the DVC data hash and git commit of its train stage, stage-by-stage wall times from
its MLflow runs, its task-driven scores. A fresh clone (no real data) fine-tunes from it (`train.init_from`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from tsjnet.config import Params
from tsjnet.config.data import PairSource
from tsjnet.config.shipped import ShippedParams
from tsjnet.data import PairDataset, open_dataset
from tsjnet.errors import DataError
from tsjnet.evaluation.comparison import compare_methods, comparison_markdown, score_pairs
from tsjnet.evaluation.methods import load_method, split_available
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.checkpoint import load_checkpoint_model
from tsjnet.reports import TaskMetrics, TrainMetrics
from tsjnet.tracking import configure, data_hash
from tsjnet.training.fusion_data import file_digest, record_files

CANDIDATE = "tsjnet"
#: The splits in the order the card shows them (the metrics file's keys are sorted).
ROLES = ("train", "val", "test")
#: The settings of the run that the card lists, per params section.
CARD_SETTINGS = {
    "train": ("model", "epochs", "task_warmup_epochs", "batch_size", "crop", "lr", "w_det", "w_seg", "init_from",
              "blend_residual", "blend_levels"),
    "train_baseline": ("model", "epochs", "crop"),
    "detector": ("epochs", "min_size", "max_size"),
    "segmenter": ("epochs", "crop"),
}


def open_pairs(source: PairSource, key: str) -> PairDataset:
    """The pairs of `source`; a missing folder or names file fails naming the params key to fix."""
    root = Path(source.root)
    if not root.is_dir():
        raise DataError(f"{key}.root: {root} not found; point it at an MSRS-layout folder "
                        "(the real sets are read in place from ../shared/data, see README 'Real data')")
    pairs = open_dataset("msrs", root, names_file=root / source.names)
    if not pairs.records:
        raise DataError(f"{key}: {root / source.names} names no pairs")
    return pairs


def shipped_splits(settings: ShippedParams, roles: tuple[str, ...] = ROLES) -> dict[str, PairDataset]:
    """The shipped model's real pairs per split (`shipped.<role>_pairs`)."""
    return {role: open_pairs(getattr(settings, f"{role}_pairs"), f"shipped.{role}_pairs") for role in roles}


def reference_models(settings: ShippedParams, device: torch.device) -> dict[str, FusionModel]:
    """The reference methods whose files are here (an optional one without its file is left out, with a warning)."""
    specs, _ = split_available(settings.references)
    return {spec.name: load_method(spec, device).model for spec in specs}


def compare_on_splits(models: dict[str, FusionModel], splits: dict[str, PairDataset],
                      candidates: list[str]) -> dict[str, Any]:
    """Every model scored on each split's pairs; each candidate against every other model (`compare_methods`)."""
    results = {}
    for role, pairs in splits.items():
        scores = {name: score_pairs(model, pairs, f"{name} on {role}") for name, model in models.items()}
        results[role] = compare_methods(scores, candidates)
    return results


def check_real_run(params: Params, lock: Path = Path("dvc.lock")) -> None:
    """The run to ship trained on the shipped pairs and its model is the file dvc.lock records; else say how."""
    for role in ROLES:
        wanted = getattr(params.shipped, f"{role}_pairs")
        if params.data.splits.get(role) != wanted:
            raise DataError(f"data.splits.{role} is {params.data.splits.get(role)!r}, not shipped.{role}_pairs "
                            f"{wanted.model_dump()}: `tsjnet ship` cards a run on the shipped pairs; run "
                            "`tsjnet repro --profile msrs` first")
    model = Path(params.train.out)
    if not model.is_file():
        raise DataError(f"{model} (train.out) not found: run `tsjnet repro --profile msrs` first")
    locked = data_hash(params.train.out, lock)  # the md5 dvc.lock records for that output
    if locked != file_digest([model]):
        raise DataError(f"{model} is not the model {lock} records (md5 {locked}): re-run "
                        "`tsjnet repro --profile msrs` so that the shipped model is the pipeline's output")


def stage_times(params: Params) -> dict[str, Any]:
    """Wall time of each stage of the latest pipeline run that trained the model (its MLflow runs) and its tags."""
    import mlflow

    configure(params.mlflow)
    found = mlflow.search_runs(experiment_names=[params.mlflow.experiment], filter_string="tags.stage = 'train'",
                               order_by=["start_time DESC"], max_results=1, output_format="list")
    if not found:
        raise DataError(f"no train stage run in MLflow experiment {params.mlflow.experiment!r} "
                        f"({params.mlflow.tracking_uri}): run `tsjnet repro --profile msrs` first")
    train = found[0]
    parent_id = train.data.tags.get("mlflow.parentRunId")
    children = mlflow.search_runs(experiment_names=[params.mlflow.experiment],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
                                  order_by=["start_time ASC"], output_format="list") if parent_id else [train]
    rows = [{"stage": run.data.tags.get("stage", run.info.run_name),
             "seconds": round((run.info.end_time - run.info.start_time) / 1000, 1)}
            for run in children if run.info.end_time]
    total = None
    if parent_id:
        parent = mlflow.get_run(parent_id).info
        total = round((parent.end_time - parent.start_time) / 1000, 1) if parent.end_time else None
    return {"git_commit": train.data.tags.get("git_commit", "unknown"),
            "dvc_data_hash": train.data.tags.get("dvc_data_hash", "unversioned"),
            "stages": rows, "pipeline_seconds": total}


def task_scores(params: Params) -> list[dict[str, Any]]:
    """mAP@0.5 and mIoU with their intervals per input, and the judge that scored it (the evaluate stage's file)."""
    keys = {"detector", "map50", "map50_ci_low", "map50_ci_high", "miou", "miou_ci_low", "miou_ci_high"}
    return [{"input": name, **row.model_dump(include=keys, exclude_unset=True)}
            for name, row in TaskMetrics.read(params.evaluate.task_metrics).root.items()]


def copy_report(report: Path, copy: Path) -> None:
    """The run's evaluation report beside the card, without its figures (they stay in the run's plots folder)."""
    lines = report.read_text().splitlines(keepends=True)
    kept = [line for line in lines if "![" not in line]
    note = (f"> Copied by `tsjnet ship` from the real run's `{report}`; its {len(lines) - len(kept)} figure(s) stay "
            "in that run's plots folder.\n\n") if len(kept) < len(lines) else ""
    copy.write_text(note + "".join(kept))


def ship(params: Params, device: torch.device) -> dict[str, Any]:
    """Check the real run, copy its model to `shipped.out`, score it and the references, write JSON and card."""
    check_real_run(params)
    settings = params.shipped
    run = stage_times(params)
    splits = shipped_splits(settings)
    out = Path(settings.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(params.train.out, out)
    copy_report(Path(params.evaluate.report), Path(settings.evaluation))
    references = reference_models(settings, device)
    results = compare_on_splits({CANDIDATE: load_checkpoint_model(out, device), **references},
                                {role: splits[role] for role in ROLES[1:]}, [CANDIDATE])
    dumped = params.model_dump(mode="json")
    card = {
        "model": params.train.model, "file": settings.out, "seed": params.seed, "profile": params.profile, **run,
        "data": {role: {**getattr(settings, f"{role}_pairs").model_dump(), "pairs": len(pairs),
                        "md5": file_digest(record_files(pairs))} for role, pairs in splits.items()},
        "settings": {section: {key: dumped[section][key] for key in keys} for section, keys in CARD_SETTINGS.items()},
        "judges": dumped["evaluate"]["judges"], "loss": params.loss.tsjnet.model_dump(),
        "training": TrainMetrics.read(params.train.metrics).model_dump(), "task": task_scores(params),
        "evaluation": settings.evaluation, "references": list(references), "results": results,
    }
    Path(settings.metrics).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    Path(settings.card).write_text(model_card(card))
    return card


def _data_line(role: str, data: dict[str, Any]) -> str:
    return f"| {role} | `{data['root']}` | `{data['names']}` | {data['pairs']} | `{data['md5']}` |"


def _interval(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.4f} [{row[f'{key}_ci_low']:.4f}, {row[f'{key}_ci_high']:.4f}]" if key in row else "-"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def model_card(card: dict[str, Any]) -> str:
    """The Markdown model card, rendered from the card JSON alone (nothing typed by hand)."""
    settings = "; ".join(f"`{section}`: " + ", ".join(f"{k}={card['settings'][section][k]}" for k in keys)
                         for section, keys in CARD_SETTINGS.items())
    lines = [
        f"# Shipped model: `{Path(card['file']).name}` ({card['model']})", "",
        "Written by `tsjnet ship` from the metrics file beside it; do not edit by hand.", "",
        f"- Trained by the whole pipeline (`tsjnet repro --profile {card['profile']}`) at git commit "
        f"`{card['git_commit']}`, seed {card['seed']}, on DVC data hash `{card['dvc_data_hash']}`; the model is "
        "the `train` stage's output as dvc.lock recorded it.",
        f"- Use: `tsjnet fuse --model {card['file']} ...`, or `train.init_from` to fine-tune "
        "(the default pipeline does).",
        "- Data (read in place, never copied; md5 over the files' bytes in order):", "",
        "| split | root | names | pairs | md5 |", "|---|---|---|---:|---|",
        *[_data_line(role, card["data"][role]) for role in ROLES], "",
        f"- Settings: {settings}.",
        f"- Detection judges: {', '.join(f'{k}={v}' for k, v in sorted(card['judges'].items()))}.", "",
        "## Stage times", "",
        f"Each stage's MLflow run of that pipeline run (the stages that ran; imports and DVC bookkeeping are in "
        f"the total only). Whole run: {_minutes(card['pipeline_seconds'])}.", "",
        "| stage | wall time |", "|---|---:|",
        *[f"| {row['stage']} | {_minutes(row['seconds'])} |" for row in card["stages"]], "",
        "## Task-driven scores (test split)", "",
        f"From the run's evaluation report ([{Path(card['evaluation']).name}]({Path(card['evaluation']).name}): "
        "the detection truth, the judges and every verdict). [low, high]: 95% bootstrap interval over images.", "",
        "| input | judge | mAP@0.5 | mIoU |", "|---|---|---:|---:|",
        *[f"| {row['input']} | {row.get('detector', '-')} | {_interval(row, 'map50')} | {_interval(row, 'miou')} |"
          for row in card["task"]], "",
        "## Fusion quality", "",
        "Every method fuses each pair at its native size (colour output, as `tsjnet fuse` writes it); \"better\" "
        "means the 95% bootstrap interval of the paired per-pair difference excludes 0 (else \"within noise\"). "
        "`val` chose the settings; `test` was scored once.", "",
    ]
    for role in ROLES[1:]:
        lines.append(comparison_markdown(card["results"][role], f"{role} pairs"))
    if "seafusion_release" in card["references"]:
        lines.append("`seafusion_release`: the weights released by the SeAFusion authors (VIF-Benchmark, MIT licence, "
                     "Copyright (c) 2023 Linfeng Tang), scored on their unstretched output.\n")
    return "\n".join(lines)
