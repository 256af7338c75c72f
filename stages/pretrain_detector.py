"""DVC stage `pretrain_detector`: one Faster R-CNN per modality in `detector.modalities` on data.out.

Checkpoints go to detector.checkpoint_dir/<modality>.pt after every epoch; killed and re-run, training
continues after the last finished epoch. Final val mAP@0.5 per modality -> detector.metrics.
"""

from __future__ import annotations

import time

from tsjnet.config import load_params
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run
from tsjnet.training.epoch_log import MlflowEpochLog
from tsjnet.training.pretrain import pretrain_detectors


def main(params_path: str = "params.yaml") -> None:
    """Train the detectors under this stage's MLflow run and print their val mAP@0.5."""
    params = load_params(params_path)
    started = time.perf_counter()
    with stage_run("pretrain_detector", params, sections=("detector",)):
        results = pretrain_detectors(params.detector, params.pseudolabel.out, seed=params.seed,
                                     log_metrics=MlflowEpochLog().metrics)
    scores = ", ".join(f"{modality} mAP@0.5 {metrics['map50']:.3f}" for modality, metrics in results.items())
    print(f"pretrain_detector: {scores} [{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
