"""Real-pair quality of the models a user gets: the shipped model and the default pipeline's fine-tuned one.

Issue #13 asks that `models:/tsjnet@champion` be good on real imagery, also in a fresh clone where the default
run fine-tunes the shipped model (models/pretrained/) on SynthScenes with the task losses. This section scores
both beside the references of params.yaml ``shipped.references`` (classical rules, the released SeAFusion
when its file is there) on the shipped model's validation pairs and on its test pairs (never trained on), with
95% bootstrap intervals and paired verdicts (`tsjnet.evaluation.comparison`): "pipeline vs shipped" says whether
the fine-tuning made real-pair fusion worse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tsjnet.config import Params
from tsjnet.shipped import compare_on_splits, reference_models, shipped_splits
from tsjnet.registry.checkpoint import load_checkpoint_model


def real_pair_quality(params: Params, pipeline_model: Path, device: torch.device) -> dict[str, Any]:
    """Scores of the shipped model, the pipeline's model (if trained here) and the references on val and test."""
    settings = params.shipped
    models = {"shipped": load_checkpoint_model(settings.out, device)}
    if pipeline_model.is_file():
        models["pipeline"] = load_checkpoint_model(pipeline_model, device)
    candidates = list(models)
    models |= reference_models(settings, device)
    return {"shipped": settings.out, "pipeline": str(pipeline_model) if "pipeline" in models else None,
            **compare_on_splits(models, shipped_splits(settings, ("val", "test")), candidates)}
