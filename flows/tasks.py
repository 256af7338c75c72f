"""Prefect tasks shared by the flows: one DVC stage, data push/pull, the run summary artifact.

Every task shells out to DVC (`python -m dvc ...` with this interpreter), so a scheduled run and a hand-run
`dvc repro` execute the same stage commands and leave the same dvc.lock. Command output is streamed line by
line into the Prefect run log; a failing command raises `StageFailed` carrying the tail of that output.
"""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from collections.abc import Sequence

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tsjnet.config import load_params
from tsjnet.data.remote import configure_remote
from tsjnet.orchestration import StageFailed, metrics_tables, read_promotion, summary_markdown
from tsjnet.pipeline import dvc_env

TAIL_LINES = 40
#: Seconds between attempts of remote I/O (push/pull): transient network or object-store errors.
REMOTE_RETRY_DELAYS = [10, 30, 60]


def run_command(args: Sequence[str], label: str) -> None:
    """Run `args`, logging each output line as it arrives; raise `StageFailed(label, ...)` on a non-zero exit."""
    logger = get_run_logger()
    logger.info("$ %s", " ".join(args))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    env = {**dvc_env(), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", env=env) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            tail.append(line)
            logger.info(line)
    if process.returncode != 0:
        raise StageFailed(label, process.returncode, tail)


def dvc(*args: str) -> list[str]:
    """A DVC command line run with this interpreter (the venv that holds the stage code)."""
    return [sys.executable, "-m", "dvc", *args]


@task(task_run_name="stage-{stage}", cache_policy=NO_CACHE)
def dvc_stage(stage: str, force: bool = False, pull: bool = False) -> None:
    """Reproduce exactly `stage`: DVC skips it when its deps, params and outs are unchanged (unless forced).

    --single-item stops DVC from walking upstream, so each Prefect task runs its own stage only; the flow
    orders the tasks along DVC's DAG. `pull` adds --pull: a run-cache hit then fetches the outputs from the
    remote and restores them; without it DVC finds the run-cache entry, lacks the files, and runs the stage.
    """
    options = [*(["--force"] if force else []), *(["--pull"] if pull else [])]
    run_command(dvc("repro", "--single-item", stage, *options), f"DVC stage {stage!r}")


@task(retries=len(REMOTE_RETRY_DELAYS), retry_delay_seconds=REMOTE_RETRY_DELAYS, cache_policy=NO_CACHE)
def push_data(params_path: str = "params.yaml") -> None:
    """Point DVC at params.remote and push the cache and run cache (so another worker can restore stages)."""
    url = configure_remote(load_params(params_path).remote)
    get_run_logger().info("DVC remote -> %s", url)
    run_command(dvc("push", "--run-cache"), "dvc push")


@task(retries=len(REMOTE_RETRY_DELAYS), retry_delay_seconds=REMOTE_RETRY_DELAYS, cache_policy=NO_CACHE)
def pull_data(params_path: str = "params.yaml") -> None:
    """Fetch what the remote has for this checkout (outputs and run cache); missing files are not an error."""
    configure_remote(load_params(params_path).remote)
    run_command(dvc("pull", "--run-cache", "--allow-missing"), "dvc pull")


@task(cache_policy=NO_CACHE)
def publish_summary(title: str, key: str, promotion_report: str) -> str:
    """Publish metrics/*.json and the register verdict as a Markdown artifact; return the Markdown."""
    markdown = summary_markdown(title, metrics_tables(), read_promotion(promotion_report))
    create_markdown_artifact(markdown=markdown, key=key, description=title)
    return markdown


@task(task_run_name="{label}", cache_policy=NO_CACHE)
def command_step(args: list[str], label: str) -> None:
    """One command as its own task (streamed log, `StageFailed` with the output tail on failure)."""
    run_command(args, label)
