"""DVC stage `evaluate`: fuse the test split with every method; fusion + task metrics, plots, report, MLflow.

Extra options serve the champion check (flows/evaluate_champion.py): ``--model URI`` evaluates only that
model as the primary method, ``--out DIR`` writes every output under DIR instead of the stage's paths.
"""

from __future__ import annotations

import argparse
import sys
import time

from tsjnet.config import load_params
from tsjnet.evaluation.run import evaluation_data, log_to_mlflow, run_evaluation
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run


def main(params_path: str = "params.yaml", model: str | None = None, out: str | None = None) -> None:
    """Run the evaluation under the stage's MLflow run; print the gate metrics and how long it took."""
    params = load_params(params_path)
    settings = params.evaluate if model is None else params.evaluate.for_model(model)
    settings = settings if out is None else settings.under(out)
    data = evaluation_data(params)
    started = time.perf_counter()
    with stage_run("evaluate", params, sections=("evaluate", "detector", "segmenter")):
        result = run_evaluation(settings, data, params.detector, params.segmenter)
        log_to_mlflow(result)
    gate = ", ".join(f"{name} {value:.4f}" for name, value in result.gate.items())
    print(f"evaluate: {gate}; report {result.report} [{time.perf_counter() - started:.1f} s]")


def _side_options() -> argparse.Namespace:
    """Take --model/--out off the command line, leaving --params to `run_stage`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=None)
    options, rest = parser.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    return options


if __name__ == "__main__":
    side = _side_options()
    run_stage(lambda path: main(path, side.model, side.out), __doc__)
