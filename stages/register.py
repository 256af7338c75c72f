"""DVC stage `register`: log + register the fusion model (alias candidate), gate it to champion, register teachers.

A champion measured with other judges or test data is re-measured first with the evaluate stage's code
(`tsjnet.evaluation.run.measure_model`), so the gate compares numbers from one yardstick.
"""

from __future__ import annotations

import time

from tsjnet.config import load_params
from tsjnet.evaluation.run import measure_model
from tsjnet.registry.gate import yardstick_digest
from tsjnet.registry.register import register_all
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run


def main(params_path: str = "params.yaml") -> None:
    """Register everything under the stage's MLflow run; print the outcome and how long it took."""
    params = load_params(params_path)
    started = time.perf_counter()
    yardstick = yardstick_digest(params.register.yardstick, params.evaluate.judges.model_dump_json())
    with stage_run("register", params, sections=("register",)):
        summary = register_all(params.register, yardstick, rescore=lambda uri: measure_model(params, uri))
    verdict = "promoted to champion" if summary["promoted"] else "champion unchanged"
    print(f"register: {summary['fusion']} {verdict} ({summary['reason']}); teachers {summary['detector']}, "
          f"{summary['segmenter']} [{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
