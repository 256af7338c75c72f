"""Pipeline wall times: the README run command (`tsjnet repro`) and a no-op `dvc repro` right after it."""

from __future__ import annotations

import subprocess
import sys
import time

from tsjnet.pipeline import dvc_env


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=dvc_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def pipeline_benchmark(force: bool) -> dict[str, float]:
    """Seconds for the full run (`--force` re-runs every stage) and for an immediate no-op `dvc repro`."""
    full = [sys.executable, "-m", "tsjnet.cli", "repro"] + (["--force"] if force else [])
    return {
        "run_command_s": _timed(full),
        "noop_dvc_repro_s": _timed([sys.executable, "-m", "dvc", "repro"]),
    }
