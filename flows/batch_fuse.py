"""Prefect flow `tsjnet-batch-fuse`: fuse a large folder or S3 prefix in shards, the shards in parallel on Dask.

The flow plans on the driver (pairs by file stem, shards, the model alias pinned to its registry version),
submits one `fuse-shard` task per shard to a Dask cluster (a local one of `workers` processes, or the
scheduler at `address`), and merges the shard manifests into <out>/manifest.jsonl. Each worker process loads
the model once (tsjnet.batch.model.cached_model); a shard finished by an earlier run is skipped, so a failed
or interrupted run is resumed by running it again with the same parameters.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.futures import as_completed
from prefect_dask import DaskTaskRunner

from tsjnet.batch.manifest import FAILED, MERGED_NAME, merge_manifests
from tsjnet.batch.model import ModelRef, resolve_model
from tsjnet.batch.plan import Shard, list_pairs, plan_shards
from tsjnet.batch.shard import SKIPPED, ShardResult, fuse_shard
from tsjnet.batch.storage import join
from tsjnet.data.paired import format_names
from tsjnet.errors import DataError

DEFAULT_MODEL = "models:/tsjnet@champion"
#: Seconds between attempts of a shard whose task failed for a reason other than bad input (storage, worker lost).
SHARD_RETRY_DELAYS = [10, 30]


def dask_runner(workers: int, address: str | None, api_url: str | None = None) -> DaskTaskRunner:
    """The scheduler at `address` (a running cluster), else a local cluster of `workers` single-threaded processes.

    Local workers get `api_url`, the Prefect API this flow run reports to: without a server (PREFECT_API_URL
    unset) that is the flow's temporary one, and a worker left without it would start a server of its own.
    """
    if address:
        return DaskTaskRunner(address=address)
    cluster = {"n_workers": workers, "threads_per_worker": 1, "processes": True}
    return DaskTaskRunner(cluster_kwargs={**cluster, **({"env": {"PREFECT_API_URL": api_url}} if api_url else {})})


@task(task_run_name="fuse-{shard.id}", cache_policy=NO_CACHE, retries=len(SHARD_RETRY_DELAYS),
      retry_delay_seconds=SHARD_RETRY_DELAYS)
def fuse_shard_task(shard: Shard, out: str, model: ModelRef, gray: bool, device: str) -> ShardResult:
    """One shard on one Dask worker (see tsjnet.batch.shard.fuse_shard)."""
    return fuse_shard(shard, out, model, gray, device)


def summary_markdown(out: str, model: ModelRef, results: list[ShardResult], failed: list[str]) -> str:
    """The run in a few lines: model version, shards fused / skipped, failed pairs, where the manifest is."""
    fused = [result for result in results if result.status != SKIPPED]
    lines = ["# tsjnet batch fusion", "",
             f"- model: `{model.uri}` (version `{model.version}`)",
             f"- shards: {len(results)} ({len(fused)} fused, {len(results) - len(fused)} skipped as finished)",
             f"- pairs: {sum(result.pairs for result in results)} ({len(failed)} failed)",
             f"- manifest: `{join(out, MERGED_NAME)}`"]
    if failed:
        lines.append(f"- failed pairs: {format_names(failed)}")
    return "\n".join(lines) + "\n"


@flow(name="tsjnet-batch-fuse")
def batch_fuse(ir: str, vi: str, out: str, model: str = DEFAULT_MODEL, weights: str | None = None,
               shard_size: int = 64, workers: int = 2, address: str | None = None, gray: bool = False,
               device: str = "cpu") -> list[ShardResult]:
    """Fuse every IR/VIS pair of `ir`/`vi` (folders or s3:// prefixes, matched by stem) into `out` (folder or prefix).

    Returns one result per shard; raises `DataError` listing the pairs whose input was bad (after the manifest
    is written, so the other outputs stand).
    """
    logger = get_run_logger()
    shards = plan_shards(list_pairs(ir, vi), shard_size)
    pinned = resolve_model(model, weights)
    logger.info("%d pair(s) in %d shard(s) of up to %d; model %s -> %s (version %s)", sum(len(s.pairs) for s in shards),
                len(shards), shard_size, model, pinned.load_uri, pinned.version)
    progress = create_progress_artifact(0.0, key="tsjnet-batch-fuse-progress", description="shards finished (%)")
    results, broken = [], []
    with dask_runner(workers, address, str(get_run_context().client.api_url)) as runner:
        futures = [runner.submit(fuse_shard_task, {"shard": shard, "out": out, "model": pinned, "gray": gray,
                                                   "device": device}) for shard in shards]
        for done, future in enumerate(as_completed(futures), start=1):
            future.wait()  # keeps the final state with its data; a failed shard must not cancel the others
            state = future.state
            if state.is_completed():
                results.append(state.result())
                logger.info("%s %s (%d/%d)", results[-1].shard, results[-1].status, done, len(shards))
            else:
                broken.append(state)
                logger.error("a shard failed after its retries (%d/%d): %s", done, len(shards), state.message)
            update_progress_artifact(progress, 100.0 * done / len(shards))
    if broken:
        broken[0].result()  # raises that shard's own error
    results.sort(key=lambda result: result.shard)
    failed = [row.name for row in merge_manifests(out, shards) if row.status == FAILED]
    create_markdown_artifact(summary_markdown(out, pinned, results, failed), key="tsjnet-batch-fuse",
                             description="batch fusion summary")
    if failed:
        raise DataError(f"{len(failed)} pair(s) could not be fused: {format_names(failed)}; their errors are in "
                        f"{join(out, MERGED_NAME)}. Fix or remove those inputs and run again (finished shards are "
                        "skipped)")
    return results
