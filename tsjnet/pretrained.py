"""The shipped real-data model (`tsjnet pretrain`): TSJNet-lite trained on real IR/VIS pairs, scored, carded.

A fresh clone has no real data, so the default pipeline (SynthScenes) fine-tunes from this committed model
(`train.init_from`) instead of from noise. The run uses the pipeline's own trainer and fusion loss
(`tsjnet.training.joint.train_fusion`, no task networks: the real pairs have no masks), with the train,
validation and test pairs named in params.yaml `pretrain_fusion:`. Validation pairs drive the plateau schedule
and every choice made; test pairs are only scored, once, for the model card, beside the reference methods.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from tsjnet.config import Params
from tsjnet.config.data import PairSource
from tsjnet.config.train import PretrainParams
from tsjnet.data import PairDataset, open_dataset
from tsjnet.errors import DataError
from tsjnet.evaluation.comparison import compare_methods, comparison_markdown, score_pairs
from tsjnet.models.fusion import FusionModel
from tsjnet.evaluation.methods import load_method, split_available
from tsjnet.registry.checkpoint import load_checkpoint_model
from tsjnet.tracking import git_commit
from tsjnet.training.distributed import World
from tsjnet.training.fusion_data import file_digest, record_files
from tsjnet.training.joint import FusionJob, train_fusion

CANDIDATE = "tsjnet"
#: The splits in the order the card shows them (the metrics file's keys are sorted).
ROLES = ("train", "val", "test")


def open_pairs(source: PairSource, role: str) -> PairDataset:
    """The pairs of `source`; a missing folder or names file fails naming the params key to fix."""
    root = Path(source.root)
    if not root.is_dir():
        raise DataError(f"pretrain_fusion.{role}.root: {root} not found; point it at an MSRS-layout folder "
                        "(the real sets are read in place from ../shared/data, see README 'Real data')")
    pairs = open_dataset("msrs", root, names_file=root / source.names)
    if not pairs.records:
        raise DataError(f"pretrain_fusion.{role}: {root / source.names} names no pairs")
    return pairs


def reference_models(settings: PretrainParams, device: torch.device) -> dict[str, FusionModel]:
    """The reference methods whose files are here (an optional one without its file is left out, with a warning)."""
    specs, _ = split_available(settings.references)
    return {spec.name: load_method(spec, device).model for spec in specs}


def compare_on_splits(models: dict[str, FusionModel], settings: PretrainParams, candidates: list[str],
                      splits: dict[str, PairDataset] | None = None) -> dict[str, Any]:
    """Every model scored on the val and test pairs; each candidate against every other model (`compare_methods`)."""
    results = {}
    for role in ROLES[1:]:
        pairs = splits[role] if splits else open_pairs(getattr(settings, f"{role}_pairs"), f"{role}_pairs")
        scores = {name: score_pairs(model, pairs, f"{name} on {role}") for name, model in models.items()}
        results[role] = compare_methods(scores, candidates)
    return results


def pretrain(params: Params, device: torch.device) -> dict[str, Any]:
    """Train the model (resuming a killed run), score it and the references on val and test, write the card."""
    settings = params.pretrain_fusion
    splits = {role: open_pairs(getattr(settings, f"{role}_pairs"), f"{role}_pairs") for role in ROLES}
    job = FusionJob(name="pretrain_fusion", params=settings, loss=params.loss, detector=params.detector,
                    segmenter=params.segmenter, data_root=Path(settings.train_pairs.root), seed=params.seed,
                    splits=(splits["train"], splits["val"]), task_nets=False)
    training = train_fusion(job, World(0, 1, device))
    references = reference_models(settings, device)
    results = compare_on_splits({CANDIDATE: load_checkpoint_model(settings.out, device), **references}, settings,
                                [CANDIDATE], splits)
    card = {
        "model": settings.model, "file": settings.out, "git_commit": git_commit(), "seed": params.seed,
        "data": {role: {"root": getattr(settings, f"{role}_pairs").root, "names": getattr(settings, f"{role}_pairs").names,
                        "pairs": len(pairs), "md5": file_digest(record_files(pairs))} for role, pairs in splits.items()},
        "params": settings.model_dump(mode="json", exclude={"references"}), "loss": params.loss.tsjnet.model_dump(),
        "training": training, "references": list(references), "results": results,
    }
    Path(settings.metrics).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    Path(settings.card).write_text(model_card(card))
    return card


def _data_line(role: str, data: dict[str, Any]) -> str:
    return f"| {role} | `{data['root']}` | `{data['names']}` | {data['pairs']} | `{data['md5']}` |"


def model_card(card: dict[str, Any]) -> str:
    """The Markdown model card, rendered from the card JSON alone (nothing typed by hand)."""
    lines = [
        f"# Shipped model: `{Path(card['file']).name}` ({card['model']})", "",
        "Written by `tsjnet pretrain` from the metrics file beside it; do not edit by hand.", "",
        f"- Trained at git commit `{card['git_commit']}`, seed {card['seed']}, on CPU "
        f"({card['training']['train_seconds']} s), with the pipeline's fusion trainer and loss (`loss.tsjnet`), "
        "no task losses (the real pairs have boxes but no masks).",
        f"- Use: `tsjnet fuse --model {card['file']} ...`, or `train.init_from` to fine-tune "
        "(the default pipeline does).",
        "- Data (read in place, never copied; md5 over the files' bytes in order):", "",
        "| split | root | names | pairs | md5 |", "|---|---|---|---:|---|",
        *[_data_line(role, card["data"][role]) for role in ROLES], "",
        "- Settings: " + ", ".join(f"{k}={v}" for k, v in sorted(card["params"].items())
                                   if k in {"epochs", "batch_size", "crop", "lr", "plateau_stalls", "model"}), "",
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
