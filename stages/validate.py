"""DVC stage `validate`: Great Expectations on the manifest + per-file checks; report, metrics, verdict."""

from __future__ import annotations

import time

import mlflow

from tsjnet.config import load_params
from tsjnet.data.validate import validate_dataset, write_outputs
from tsjnet.errors import DataError
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run


def main(params_path: str = "params.yaml") -> None:
    """Validate data.out against data.manifest; raise `DataError` listing every problem when any is found."""
    params = load_params(params_path)
    started = time.perf_counter()
    with stage_run("validate", params, sections=("validate",)):
        result = validate_dataset(params.data.manifest, params.data.out, params.validate_.max_box_fraction_outside)
        write_outputs(result, params.validate_.report, params.validate_.metrics)
        mlflow.log_artifact(params.validate_.report)
        mlflow.set_tag("validation", "passed" if result.passed else "failed")
    if not result.passed:
        raise DataError(result.error_message(params.validate_.report))
    print(f"validate: {result.pairs} pairs, {len(result.expectations)} expectations and every file passed; "
          f"report {params.validate_.report} [{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
