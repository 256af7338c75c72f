"""Params of `tsjnet research` (`research:`): the paper's research questions as one set of training runs.

Every variant is the `train:` section with `common` and its own `set` applied, trained once per seed with the
same budget; the SeAFusion-style baseline (`train_baseline:`) gets the variants' epoch count, so every trained
network sees the same number of steps. The judges are the pipeline's pretrained detectors and segmenter.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from tsjnet.config.base import Section
from tsjnet.config.evaluate import MethodSpec, PlainName

#: The variants each research question compares; `research.variants` must name all of them.
REQUIRED_VARIANTS = ("fusion_only", "seg_only", "det_only", "tsjnet", "tsjnet_no_dsm")


class VariantSpec(Section):
    """One ablation: a name and the `train:` keys it changes (on top of `research.common`)."""

    name: PlainName
    set: dict[str, Any]


class ResearchParams(Section):
    """`research:` seeds, the split scored, the variants, the references and where results go."""

    seeds: list[int] = Field(min_length=1)  # each variant trains once per seed; verdicts must hold over all
    split: str  # the split every method is scored on (the judges never trained on it)
    common: dict[str, Any]  # `train:` keys every variant changes, e.g. init_from: null (all from scratch)
    variants: list[VariantSpec]
    baseline: bool  # also train the SeAFusion-style baseline (train_baseline:) per seed, with the variants' epochs
    references: list[MethodSpec]  # untrained methods (classical rules, released weights), scored once
    out_dir: str  # checkpoints, models and the warm-up states (resumable; not committed)
    report: str  # Markdown: one table and verdict per research question
    metrics: str  # every figure of the report as JSON

    @model_validator(mode="after")
    def _questions_answerable(self) -> "ResearchParams":
        names = [variant.name for variant in self.variants] + [spec.name for spec in self.references]
        repeated = sorted({name for name in names if names.count(name) > 1})
        missing = [name for name in REQUIRED_VARIANTS if name not in names]
        if repeated or missing:
            raise ValueError(f"research.variants must name each of {', '.join(REQUIRED_VARIANTS)} once (the research "
                             f"questions compare them); repeated: {repeated or '-'}, missing: {missing or '-'}")
        if any(spec.checkpoint is not None for spec in self.references):
            raise ValueError("research.references are untrained methods (model: ...); trained ones are variants")
        return self
