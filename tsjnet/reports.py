"""Typed contracts of the JSON files one part of tsjnet writes and another reads (metrics/*.json, bench.json).

Each file has one model here. Its writer builds the model and calls `write`; its readers call `read`, which fails
with a `DataError` naming the file and the offending field instead of handing a renamed or missing key on as
``None``. Non-finite numbers (an undefined correlation, the PSNR of identical images) are written as null, since
JSON has no NaN. The promotion report's model (`tsjnet.registry.report`) is a `Record` too, beside its writer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictFloat, StrictInt, ValidationError

from tsjnet.errors import DataError

#: A count or a measurement; a JSON true/false is not a number.
Number = StrictInt | StrictFloat
#: A metric value; None where it is undefined (written as null).
Metric = float | None


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


class JsonFile:
    """Write/read one JSON file through its pydantic model (mixed into `Record` and the `RootModel`s below)."""

    def to_json(self) -> str:
        """Indented JSON, keys in field (or insertion) order, non-finite numbers as null, unset fields absent."""
        dumped = self.model_dump(mode="python", by_alias=True, exclude_unset=True)  # type: ignore[attr-defined]
        return json.dumps(_finite(dumped), indent=2, allow_nan=False) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the file (parent folders created); returns its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path

    @classmethod
    def missing(cls, path: Path) -> str:
        """The error message for a missing file."""
        return f"{path} not found: run the stage or command that writes it first"

    @classmethod
    def malformed(cls, path: Path, problems: str) -> str:
        """The error message for a file that breaks the contract (`problems`: field: message; ...)."""
        return (f"{path} does not match its contract {cls.__name__} ({problems}); "
                "re-run the stage or command that writes it")

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """The file's content; a missing file, bad JSON or a field that breaks the contract is a `DataError`."""
        path = Path(path)
        if not path.is_file():
            raise DataError(cls.missing(path))
        try:
            return cls.model_validate_json(path.read_text())  # type: ignore[attr-defined]
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors())
            raise DataError(cls.malformed(path, problems)) from None


class Record(JsonFile, BaseModel):
    """A file whose keys are fields: an unknown key is a contract break too."""

    model_config = ConfigDict(extra="forbid")


class FlatMetrics(RootModel[dict[str, Number]], JsonFile):
    """``{"name": number}``: what DVC's metrics commands and the promotion gate read (evaluation.json, the
    segmenter's and pseudolabel's metrics)."""


class TrainMetrics(Record):
    """A fusion training stage's final figures (train.json, train_fusion_only.json, train_baseline.json): the
    epochs run, the wall time, and each validation loss term (``val/<term>``) and task score (``val_<score>``)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float] = Field(init=False)

    epochs: int
    train_seconds: float


class DetectorMetrics(RootModel[dict[str, dict[str, float]]], JsonFile):
    """The detectors' final validation figures, per detector (infrared, visible, blend)."""


class ValidationMetrics(Record):
    """The validate stage's counts: expectations run and failed, files with problems, problems per check."""

    passed: bool
    pairs: int
    expectations: int
    expectations_failed: int
    file_problems: int
    files_with_problems: int
    problems_by_check: dict[str, int]


class TaskRow(Record):
    """One input's task scores with 95% bootstrap intervals (``*_ci_low``/``*_ci_high``) and its judge."""

    detector: str | None
    map50: Metric = None
    map50_ci_low: Metric = None
    map50_ci_high: Metric = None
    map: Metric = None
    map_ci_low: Metric = None
    map_ci_high: Metric = None
    AP50: dict[str, Metric] = {}
    AP50_ci_low: dict[str, Metric] = {}
    AP50_ci_high: dict[str, Metric] = {}
    miou: Metric
    miou_ci_low: Metric
    miou_ci_high: Metric
    miou_no_bg: Metric
    miou_no_bg_ci_low: Metric
    miou_no_bg_ci_high: Metric
    IoU: dict[str, Metric]
    IoU_ci_low: dict[str, Metric]
    IoU_ci_high: dict[str, Metric]


class TaskMetrics(RootModel[dict[str, TaskRow]], JsonFile):
    """task.json: input (infrared, visible, each fused method) -> its task scores."""


class FusionMetrics(RootModel[dict[str, dict[str, dict[str, Metric]]]], JsonFile):
    """fusion.json: dataset -> method -> metric -> mean over the dataset's images."""


Rows = list[dict[str, Any]]


class BenchReport(Record):
    """reports/bench.json, written by `tsjnet bench` alone; a section it did not run is absent (null)."""

    machine: str
    matmul_peak: Rows
    fusion_latency: Rows
    neighborhood_attention: Rows
    train_step: Rows
    fusion_metrics: dict[str, Any] | None = None
    edge: dict[str, Any] | None = None
    detector_step: dict[str, Any] | None = None
    fusion_quality_ivf_dev: dict[str, Any] | None = None
    real_pairs: dict[str, Any] | None = None
    serving: dict[str, Any] | None = None
    pipeline: dict[str, Any] | None = None


Verdict = Literal["better", "worse", "within noise"]


class Figure(Record):
    """A figure pooled over seeds (the mean of the per-seed values) with its 95% bootstrap interval over images,
    and the value of each seed (one value for a method that does not train)."""

    mean: Metric
    ci_low: Metric
    ci_high: Metric
    seeds: list[Metric]


class Comparison(Record):
    """candidate - baseline on one metric: the seed-pooled paired difference, each seed's difference, the verdict
    ("better"/"worse" only when the pooled interval excludes 0 AND every seed's difference has its sign)."""

    question: str
    candidate: str
    baseline: str
    metric: str
    difference: Figure
    verdict: Verdict
    pooled_verdict: Verdict  # what the pooled interval alone says; differs from `verdict` when the seeds disagree


class ResearchReport(Record):
    """reports/research_questions.json, written by `tsjnet research` alone; the Markdown report is rendered from it."""

    commit: str
    command: str  # the command line that wrote it (its overrides included)
    main_dataset: str
    split: str
    seeds: list[int]
    images: dict[str, int]  # dataset -> pairs scored
    seconds: float  # wall time of the whole set
    methods: dict[str, str]  # method -> what it is
    figures: dict[str, dict[str, dict[str, Figure]]]  # dataset -> method -> metric -> figure
    comparisons: list[Comparison]
    ranking: dict[str, dict[str, float]]  # dataset -> method -> mean rank over the 13 fusion metrics (1 = best)
