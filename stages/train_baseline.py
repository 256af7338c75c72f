"""DVC stage `train_baseline`: the SeAFusion baseline (content loss L_int + 10 L_texture, optionally its
semantic loss via train_baseline.w_seg / strategy seafusion_rounds) through the same trainer as TSJNet.

Resumable and torchrun-capable like stages/train.py.
"""

from __future__ import annotations

from pathlib import Path

from tsjnet.config import load_params
from tsjnet.stage import run_stage
from tsjnet.training.joint import FusionJob
from tsjnet.training.launch import run_job


def main(params_path: str = "params.yaml") -> None:
    """Train params `train_baseline:` under the stage's MLflow run."""
    params = load_params(params_path)
    job = FusionJob(name="seafusion", params=params.train_baseline, loss=params.loss, detector=params.detector,
                    segmenter=params.segmenter, data_root=Path(params.pseudolabel.out), seed=params.seed)
    run_job(job, "train_baseline", params, sections=("train_baseline", "loss", "detector", "segmenter"))


if __name__ == "__main__":
    run_stage(main, __doc__)
