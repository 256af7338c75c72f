"""The training runs of the research set: every variant of `train:` and the baseline, once per seed.

A variant is `train:` with `research.common` and its own `set` applied and validated like params.yaml itself, so a
typo in a variant fails before anything trains. Its files live under `research.out_dir/seed<N>/<name>/`; the
warm-up state is shared per seed and network (`warmup<suffix>.pt`), so the variants that differ only in their task
losses train the fusion-only warm-up once (tsjnet.training.joint.warm_start), and every run resumes after a kill.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tsjnet.config import Params, ParamsError
from tsjnet.config.train import BaselineParams, FusionTrainParams, TrainParams
from tsjnet.training.joint import FusionJob

#: The baseline's method name in the research report.
BASELINE = "seafusion"


@dataclass(frozen=True)
class PlannedRun:
    """One network to train: its method name (variant or baseline), seed and job."""

    method: str
    seed: int
    job: FusionJob


def _folder(out_dir: str, seed: int, method: str) -> Path:
    return Path(out_dir) / f"seed{seed}" / method


def _files(out_dir: str, seed: int, method: str, warmup: str | None) -> dict[str, Any]:
    """The run's checkpoint, model and metrics paths (and its shared warm-up file)."""
    folder = _folder(out_dir, seed, method)
    return {"checkpoint": str(folder / "checkpoint.pt"), "out": str(folder / "model.pt"),
            "metrics": str(folder / "train.json"), "warmup_checkpoint": warmup}


def _validated(kind: type[FusionTrainParams], values: dict[str, Any], where: str) -> FusionTrainParams:
    try:
        return kind.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ParamsError(f"{where} gives invalid train settings ({problems}); fix it in conf/config.yaml") from None


def variant_params(params: Params, name: str, seed: int) -> TrainParams:
    """`train:` + `research.common` + the variant's `set`, with this seed's files."""
    research = params.research
    variant = next(v for v in research.variants if v.name == name)
    merged = params.train.model_dump() | research.common | variant.set
    draft = _validated(TrainParams, merged, f"research.variants {name!r}")
    kwargs = draft.model_kwargs()  # the network: runs of one network share a warm-up
    suffix = "".join(f"-{key}-{value}" for key, value in sorted(kwargs.items()))
    warmup = str(Path(research.out_dir) / f"seed{seed}" / f"warmup{suffix}.pt")
    return _validated(TrainParams, merged | _files(research.out_dir, seed, name, warmup), f"research.variants {name!r}")


def baseline_params(params: Params, seed: int, epochs: int) -> BaselineParams:
    """`train_baseline:` trained for `epochs` (the variants' budget), with this seed's files."""
    merged = params.train_baseline.model_dump() | {"epochs": epochs} | _files(params.research.out_dir, seed, BASELINE, None)
    return _validated(BaselineParams, merged, "research.baseline (train_baseline:)")


def _job(params: Params, method: str, seed: int, train: FusionTrainParams, model_kwargs: dict[str, Any]) -> FusionJob:
    return FusionJob(name=f"{method}_seed{seed}", params=train, loss=params.loss, detector=params.detector,
                     segmenter=params.segmenter, data_root=Path(params.pseudolabel.out), model_kwargs=model_kwargs,
                     seed=seed)


def plan_runs(params: Params) -> list[PlannedRun]:
    """Every run, seed by seed (so a partial set still answers the questions for the finished seeds)."""
    research, runs = params.research, []
    for seed in research.seeds:
        variants = [variant_params(params, variant.name, seed) for variant in research.variants]
        for variant, train in zip(research.variants, variants):
            runs.append(PlannedRun(variant.name, seed, _job(params, variant.name, seed, train, train.model_kwargs())))
        if research.baseline:
            budget = max(train.epochs for train in variants)
            runs.append(PlannedRun(BASELINE, seed, _job(params, BASELINE, seed, baseline_params(params, seed, budget), {})))
    return runs
