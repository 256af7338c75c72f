"""DVC stages `train` and `train_fusion_only`: TSJNet jointly trained with the frozen detectors and segmenter.

``python stages/train.py`` trains params `train:` (L_MFF + w_det L_Det + w_seg L_Seg) -> train.out;
``--variant fusion_only`` trains the ablation without task losses -> train.ablation_out. Killed and re-run,
it continues after the last finished epoch. On several GPUs:
``torchrun --standalone --nproc_per_node N stages/train.py [--variant ...]`` (see tsjnet.training.distributed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tsjnet.config import load_params
from tsjnet.stage import run_stage
from tsjnet.training.joint import FusionJob
from tsjnet.training.launch import run_job

VARIANTS = {"joint": "train", "fusion_only": "train_fusion_only"}  # variant -> DVC stage name


def main(params_path: str = "params.yaml", variant: str = "joint") -> None:
    """Train the requested variant under its stage's MLflow run."""
    params = load_params(params_path)
    train = params.train if variant == "joint" else params.train.fusion_only()
    job = FusionJob(name=f"tsjnet_{variant}", params=train, loss=params.loss, detector=params.detector,
                    segmenter=params.segmenter, data_root=Path(params.pseudolabel.out),
                    model_kwargs=train.model_kwargs(), seed=params.seed)
    run_job(job, VARIANTS[variant], params, sections=("train", "loss", "detector", "segmenter"))


def _variant() -> str:
    """Take --variant off the command line, leaving --params to `run_stage`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="joint")
    options, rest = parser.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    return options.variant


if __name__ == "__main__":
    chosen = _variant()
    run_stage(lambda path: main(path, chosen), __doc__)
