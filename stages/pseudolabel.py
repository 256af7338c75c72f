"""DVC stage `pseudolabel`: complete the labels of data.out into pseudolabel.out, with provenance and quality."""

from __future__ import annotations

import time

import mlflow

from tsjnet.config import load_params
from tsjnet.labels.prepare import prepare_labels
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run


def main(params_path: str = "params.yaml") -> None:
    """Label every image of data.out; log the label counts and quality metrics to the stage's MLflow run."""
    params = load_params(params_path)
    config = params.pseudolabel
    started = time.perf_counter()
    with stage_run("pseudolabel", params, sections=("pseudolabel",)):
        result = prepare_labels(params.data.out, config, seed=params.seed)
        mlflow.log_metrics(result.metrics)
    sources = result.provenance["source"].value_counts().to_dict()
    quality = {k.removeprefix("quality_"): round(v, 3) for k, v in result.metrics.items()
               if k in ("quality_mask_miou", "quality_box_precision_fusion", "quality_box_recall_fusion")}
    print(f"pseudolabel: {int(result.metrics['images'])} images -> {config.out}, labels by source {sources}, "
          f"quality {quality or 'not measured (no image with true mask and boxes)'} "
          f"[{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
