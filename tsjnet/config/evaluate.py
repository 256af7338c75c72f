"""Params for the evaluate stage: which fusion methods are compared, and where every result goes.

A method is either a trained checkpoint (`checkpoint`, tsjnet.registry.checkpoint format, written by the DVC
stage named in `stage`) or a model built by name from the model registry (`model`): a parameter-free rule
(e.g. ``classical_laplacian``), or a network given a plain state dict from elsewhere (`weights`, e.g. the
released ``seafusion_release`` weights). The primary method is the one whose numbers feed the promotion gate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from tsjnet.config.base import Section

#: Method names become folder names and MLflow metric names: keep them plain.
METHOD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _plain(value: str) -> str:
    if not METHOD_NAME.match(value):
        raise ValueError(f"name {value!r} must be letters, digits, '_' or '-' (it names a folder)")
    return value


#: A method's (or a research variant's) name, checked against METHOD_NAME.
PlainName = Annotated[str, AfterValidator(_plain)]


class MethodSpec(Section):
    """One fusion method under evaluation."""

    name: PlainName
    checkpoint: str | None = None  # local checkpoint or MLflow model URI
    model: str | None = None  # registry name of a method that needs no checkpoint
    weights: str | None = None  # plain state dict for `model` (e.g. weights its authors released), loaded strictly
    stage: str | None = None  # the DVC stage that writes `checkpoint` (named in the missing-file error)
    optional: bool = False  # a missing checkpoint or weights file is skipped (and said so) instead of failing

    @model_validator(mode="after")
    def _one_source(self) -> "MethodSpec":
        if (self.checkpoint is None) == (self.model is None):
            raise ValueError(f"method {self.name!r}: give exactly one of checkpoint (trained) or model (a rule)")
        if self.weights is not None and self.model is None:
            raise ValueError(f"method {self.name!r}: weights need model (the registered network they fit)")
        if self.optional and self.checkpoint is None and self.weights is None:
            raise ValueError(f"method {self.name!r}: only a checkpoint or weights file can be optional")
        return self


class JudgeParams(Section):
    """`evaluate.judges`: which detector judges each method's fused images (conf/config.yaml explains the modes).

    `per_method` fine-tunes one copy of `detector.fusion_detector` per method on that method's fused training
    images (SeAFusion's task-driven protocol), so no method is judged by a detector used to another's images.
    """

    mode: Literal["shared", "per_method"]
    epochs: int = Field(ge=1)
    max_train_pairs: int | None = Field(ge=1)  # evenly spaced over the sorted train split; None = all of it
    lr: float = Field(gt=0)
    seed: int
    checkpoint_dir: str  # one <method>.pt per judge: a killed run resumes


class EvaluateParams(Section):
    """`evaluate:` section (the data root is `pseudolabel.out`, the task networks come from `detector`/`segmenter`)."""

    split: str
    methods: list[MethodSpec]
    primary: str  # its numbers are the gate metrics
    ablation: str | None  # fusion-only training of the primary, for the joint-training claim
    n_grid_samples: int = Field(ge=1)
    fused_dir: str
    metrics: str  # flat gate metrics for the registry
    fusion_metrics: str
    task_metrics: str
    plots_dir: str
    report: str
    device: str  # auto = CUDA when available
    judges: JudgeParams

    @model_validator(mode="after")
    def _methods_consistent(self) -> "EvaluateParams":
        names = [method.name for method in self.methods]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"evaluate.methods names must be unique, repeated: {duplicates}")
        if self.primary not in names:
            raise ValueError(f"evaluate.primary {self.primary!r} must be one of evaluate.methods ({names})")
        if self.ablation is not None and self.ablation not in names:
            raise ValueError(f"evaluate.ablation {self.ablation!r} must be one of evaluate.methods ({names}) or null")
        if next(m for m in self.methods if m.name == self.primary).optional:
            raise ValueError(f"evaluate.primary {self.primary!r} cannot be optional: the gate needs its numbers")
        return self

    def method(self, name: str) -> MethodSpec:
        """The spec of method `name`."""
        return next(method for method in self.methods if method.name == name)

    def for_model(self, uri: str) -> "EvaluateParams":
        """Only the primary method, loaded from `uri` (a checkpoint or ``models:/name@alias``): the champion check."""
        primary = self.method(self.primary).model_copy(update={"checkpoint": uri, "stage": None})
        return self.model_copy(update={"methods": [primary], "ablation": None})

    def under(self, out: str | Path) -> "EvaluateParams":
        """Every output moved into folder `out` (same file names), so a side evaluation never touches the stage's."""
        out = Path(out)
        moved = {key: str(out / Path(getattr(self, key)).name)
                 for key in ("metrics", "fusion_metrics", "task_metrics", "report")}
        judges = self.judges.model_copy(update={"checkpoint_dir": str(out / "judges")})
        return self.model_copy(update={**moved, "fused_dir": str(out / "fused"), "plots_dir": str(out / "plots"),
                                       "judges": judges})
