"""DVC stage `pretrain_segmenter`: one DeepLabV3+ on a mix of `segmenter.train_modalities` images of data.out.

The checkpoint (segmenter.checkpoint) is written after every epoch; killed and re-run, training continues
after the last finished epoch. Final val mIoU per modality and their mean -> segmenter.metrics.
"""

from __future__ import annotations

import time

from tsjnet.config import load_params
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run
from tsjnet.training.epoch_log import MlflowEpochLog
from tsjnet.training.pretrain import pretrain_segmenter


def main(params_path: str = "params.yaml") -> None:
    """Train the segmenter under this stage's MLflow run and print its val mIoU."""
    params = load_params(params_path)
    started = time.perf_counter()
    with stage_run("pretrain_segmenter", params, sections=("segmenter",)):
        metrics = pretrain_segmenter(params.segmenter, params.pseudolabel.out, seed=params.seed,
                                     log_metrics=MlflowEpochLog().metrics)
    scores = ", ".join(f"{key} {value:.3f}" for key, value in metrics.items() if key.startswith("miou"))
    print(f"pretrain_segmenter: {scores} [{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
