"""DVC stage `ingest`: materialise params `data:` into data.out (MSRS layout) and write the manifest CSV."""

from __future__ import annotations

import time
from collections import Counter

import mlflow

from tsjnet.config import load_params
from tsjnet.data.ingest import materialise
from tsjnet.data.manifest import build_manifest, write_manifest
from tsjnet.stage import run_stage
from tsjnet.tracking import stage_run


def main(params_path: str = "params.yaml") -> None:
    """Ingest the configured source; print what was written and how long it took."""
    params = load_params(params_path)
    data = params.data
    started = time.perf_counter()
    with stage_run("ingest", params, sections=("data",)):
        records = materialise(data)
        manifest = build_manifest(records, data.out)
        write_manifest(manifest, data.manifest)
        mlflow.log_metric("pairs", len(records))
    splits = ", ".join(f"{split} {count}" for split, count in sorted(Counter(r.split for r in records).items()))
    print(f"ingest: {len(records)} pairs ({splits}) from {data.source} -> {data.out}, "
          f"manifest {data.manifest} [{time.perf_counter() - started:.1f} s]")


if __name__ == "__main__":
    run_stage(main, __doc__)
