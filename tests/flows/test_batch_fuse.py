"""The `tsjnet-batch-fuse` flow on two local Dask worker processes: outputs, manifest, resume, one load per worker.

One Dask cluster of two worker processes serves the whole module (passed to the flow as `address`, the way a
real cluster is used): starting worker processes that import torch is the slow part, so it happens once.
"""

from __future__ import annotations

import inspect
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import yaml
from distributed import Client, LocalCluster
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.batch_fuse import batch_fuse, dask_runner
from tests.batch.samples import (S3_ENV, expected_fusion, png_pixels, save_small_checkpoint, upload_folder,
                                 write_pairs)
from tsjnet.batch.manifest import FAILED, FUSED, read_manifest
from tsjnet.batch.model import ModelRef, cached_model, file_digest, resolve_model
from tsjnet.batch.shard import SKIPPED
from tsjnet.config import load_params
from tsjnet.errors import DataError
from tsjnet.registry.register import log_fusion_model

pytestmark = pytest.mark.usefixtures("prefect_server")
NAMES = ["a", "b", "c", "d", "e"]


def model_loads() -> int:
    """Runs on a worker: how many models this worker process has loaded."""
    return cached_model.cache_info().misses


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[object]:
    """A moto S3 server on localhost, bucket `tsjnet-batch`; AWS_ENDPOINT_URL points at it for the whole module."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in {**S3_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
                patch.setenv(key, value)
            client = boto3.client("s3")
            client.create_bucket(Bucket="tsjnet-batch")
            yield client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def dask_client(prefect_server: None, s3_server: object) -> Iterator[Client]:
    """Two single-threaded worker processes; started last, so they inherit the Prefect, MLflow and S3 settings."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster, set_as_default=False) as client:
            yield client


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_small_checkpoint(tmp_path_factory.mktemp("ckpt") / "fusion.pt")


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[Path, Path]:
    return write_pairs(tmp_path / "in")


@pytest.fixture(scope="module")
def champion(prefect_server: None, checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`checkpoint` registered as versions 1 and 2 of a new model (the register stage's pyfunc), champion -> 2."""
    name = f"tsjnet-batch-{uuid.uuid4().hex[:8]}"
    experiment = mlflow.create_experiment(name, tmp_path_factory.mktemp("artifacts").as_uri())
    register = load_params().register.model_copy(update={"model_name": name, "checkpoint": str(checkpoint)})
    with mlflow.start_run(experiment_id=experiment):
        log_fusion_model(register)
    mlflow.MlflowClient().create_model_version(name, source=mlflow.MlflowClient().get_model_version(name, "1").source)
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", "2")
    return name


def test_alias_is_pinned_to_the_version_it_points_to_at_the_start(champion: str) -> None:
    client = mlflow.MlflowClient()
    assert resolve_model(f"models:/{champion}@champion") == ModelRef(
        f"models:/{champion}@champion", f"models:/{champion}/2", "2")
    client.set_registered_model_alias(champion, "candidate", "1")
    assert resolve_model(f"models:/{champion}@candidate").load_uri == f"models:/{champion}/1"
    assert resolve_model(f"models:/{champion}/1") == ModelRef(f"models:/{champion}/1", f"models:/{champion}/1", "1")
    with pytest.raises(DataError, match=f"models:/{champion}@nobody: cannot resolve the alias .*register stage"):
        resolve_model(f"models:/{champion}@nobody")


def test_registered_champion_fused_in_shards_with_one_load_per_worker(
        dask_client: Client, champion: str, checkpoint: Path, pairs: tuple[Path, Path], tmp_path: Path) -> None:
    ir, vi = pairs
    out = tmp_path / "out"

    results = batch_fuse(str(ir), str(vi), str(out), model=f"models:/{champion}@champion", shard_size=2,
                         address=dask_client.scheduler.address)

    assert [(result.shard, result.status, result.pairs) for result in results] == [
        ("shard-00000", FUSED, 2), ("shard-00001", FUSED, 2), ("shard-00002", FUSED, 1)]
    for stem in NAMES:  # the pixels `tsjnet fuse` and the served model give
        assert (png_pixels(out / f"{stem}.png") == expected_fusion(checkpoint, ir / f"{stem}.png",
                                                                   vi / f"{stem}.png")).all()
    rows = read_manifest(str(out / "manifest.jsonl"))
    assert [(row.shard, row.name, row.ir, row.vi, row.output, row.status) for row in rows] == [
        (f"shard-0000{index // 2}", stem, str(ir / f"{stem}.png"), str(vi / f"{stem}.png"), f"{out}/{stem}.png", FUSED)
        for index, stem in enumerate(NAMES)]
    assert {(row.model, row.model_version) for row in rows} == {(f"models:/{champion}@champion", "2")}
    loads = dask_client.run(model_loads)  # worker address -> models loaded there
    pids = dask_client.run(os.getpid)
    busy = {address for address, pid in pids.items() if pid in {result.pid for result in results}}
    assert busy and {address: 1 for address in busy} == {address: loads[address] for address in busy}


def test_rerun_fuses_only_the_shard_whose_output_is_gone(dask_client: Client, checkpoint: Path,
                                                         pairs: tuple[Path, Path], tmp_path: Path) -> None:
    ir, vi = pairs
    out = tmp_path / "out"
    run = {"ir": str(ir), "vi": str(vi), "out": str(out), "model": str(checkpoint), "shard_size": 2,
           "address": dask_client.scheduler.address}
    assert {result.status for result in batch_fuse(**run)} == {FUSED}
    kept = {stem: (out / f"{stem}.png").stat().st_mtime_ns for stem in NAMES}
    (out / "c.png").unlink()

    assert [(result.shard, result.status) for result in batch_fuse(**run)] == [
        ("shard-00000", SKIPPED), ("shard-00001", FUSED), ("shard-00002", SKIPPED)]
    assert [stem for stem in NAMES if (out / f"{stem}.png").stat().st_mtime_ns == kept[stem]] == ["a", "b", "e"]
    rows = read_manifest(str(out / "manifest.jsonl"))
    assert [row.name for row in rows] == NAMES and {row.model_version for row in rows} == {file_digest(checkpoint)}


def test_bad_pair_fails_the_run_by_name_after_the_rest_is_fused(dask_client: Client, checkpoint: Path,
                                                                pairs: tuple[Path, Path], tmp_path: Path) -> None:
    ir, vi = pairs
    (ir / "d.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    with pytest.raises(DataError, match="1 pair\\(s\\) could not be fused: d; their errors are in .*manifest.jsonl"):
        batch_fuse(str(ir), str(vi), str(out), model=str(checkpoint), shard_size=2,
                   address=dask_client.scheduler.address)
    rows = read_manifest(str(out / "manifest.jsonl"))
    assert [row.name for row in rows if row.status == FAILED] == ["d"] and "d.png: cannot decode" in rows[3].error
    assert sorted(path.stem for path in out.glob("*.png")) == ["a", "b", "c", "e"]
    with get_client(sync_client=True) as client:
        summaries = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tsjnet-batch-fuse"])))
    assert any("- pairs: 5 (1 failed)" in summary.data and "- failed pairs: d\n" in summary.data
               and str(out / "manifest.jsonl") in summary.data for summary in summaries)


def test_s3_prefixes_in_and_out(dask_client: Client, s3_server: object, checkpoint: Path,
                                pairs: tuple[Path, Path]) -> None:
    ir, vi = pairs
    upload_folder(s3_server, ir, "tsjnet-batch", "set/ir")
    upload_folder(s3_server, vi, "tsjnet-batch", "set/vi")

    results = batch_fuse("s3://tsjnet-batch/set/ir", "s3://tsjnet-batch/set/vi", "s3://tsjnet-batch/fused",
                         model=str(checkpoint), shard_size=3, address=dask_client.scheduler.address)

    assert [(result.shard, result.status) for result in results] == [("shard-00000", FUSED), ("shard-00001", FUSED)]
    for stem in NAMES:
        fused = s3_server.get_object(Bucket="tsjnet-batch", Key=f"fused/{stem}.png")["Body"].read()
        assert (png_pixels(fused) == expected_fusion(checkpoint, ir / f"{stem}.png", vi / f"{stem}.png")).all()
    rows = read_manifest("s3://tsjnet-batch/fused/manifest.jsonl")
    assert [row.ir for row in rows] == [f"s3://tsjnet-batch/set/ir/{stem}.png" for stem in NAMES]


def test_local_cluster_by_default_or_the_scheduler_given() -> None:
    local = dask_runner(3, None)
    assert local.address is None and local.cluster_kwargs == {"n_workers": 3, "threads_per_worker": 1,
                                                              "processes": True}
    api = "http://127.0.0.1:4200/api"
    assert dask_runner(3, None, api).cluster_kwargs["env"] == {"PREFECT_API_URL": api}  # workers report there
    assert dask_runner(3, "tcp://scheduler:8786", api).address == "tcp://scheduler:8786"


def test_deployment_entry_names_the_flow_and_its_defaults() -> None:
    deployments = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())["deployments"]
    entry = next(deployment for deployment in deployments if deployment["name"] == "batch")
    assert entry["entrypoint"] == "flows/batch_fuse.py:batch_fuse"
    signature = inspect.signature(batch_fuse.fn)
    assert {key: signature.parameters[key].default for key in entry["parameters"]} == entry["parameters"]
