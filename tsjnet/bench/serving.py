"""A bounded load run against the real endpoint: `mlflow models serve` of the pipeline's model on 127.0.0.1.

The checkpoint is logged and registered exactly as the register stage does (`log_fusion_model`), into a
throwaway sqlite store, and served from its ``models:/`` URI with the body limit of
`tsjnet.registry.http_limits`. `clients` threads then send `requests` requests of one IR/VIS pair (a real MSRS
pair of the asked size when ivf-dev is there, else a synthetic one) after one warm-up request; reported are the
p50/p95 latency, the throughput and the count of requests that did not get HTTP 200.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from PIL import Image
from rich.progress import track

from tsjnet.config.registry import RegisterParams
from tsjnet.errors import TsjnetError
from tsjnet.registry.codec import encode_png
from tsjnet.registry.register import log_fusion_model
from tsjnet.registry.serving import post, scoring_server

#: Where a real pair is taken from inside ivf-dev's MSRS folder (480x640 pairs).
PAIR_SPLIT = "test"


def request_pair(height: int, width: int, msrs: Path | None) -> tuple[str, dict[str, str]]:
    """(description, one request row): the first MSRS `PAIR_SPLIT` pair if it is `height` x `width`, else noise.

    A real pair is sent as its file bytes, like a client would; noise compresses worst, so it is the heavier body.
    """
    ir_files = sorted((msrs / PAIR_SPLIT / "ir").glob("*.png")) if msrs else []
    if ir_files:
        ir_path = ir_files[0]
        vi_path = msrs / PAIR_SPLIT / "vi" / ir_path.name
        with Image.open(ir_path) as image:
            size = image.size
        if vi_path.is_file() and size == (width, height):
            return (f"MSRS {PAIR_SPLIT}/{ir_path.stem}",
                    {side: base64.b64encode(path.read_bytes()).decode("ascii")
                     for side, path in (("ir", ir_path), ("vi", vi_path))})
    rng = np.random.default_rng(0)
    return "synthetic noise", {"ir": encode_png(rng.integers(0, 256, (height, width), dtype=np.uint8)),
                               "vi": encode_png(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))}


@contextmanager
def _tracking_at(uri: str) -> Iterator[None]:
    """MLflow's fluent API pointed at `uri` for the block; the previous URI and its variable come back after."""
    variable = os.environ.get("MLFLOW_TRACKING_URI")
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if variable is not None:
            os.environ["MLFLOW_TRACKING_URI"] = variable


def _register(params: RegisterParams, folder: Path) -> tuple[str, str]:
    """Log and register `params.checkpoint` in a sqlite store under `folder`; (tracking URI, model URI)."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    experiment = mlflow.MlflowClient(uri).create_experiment("bench-serving", (folder / "artifacts").as_uri())
    with _tracking_at(uri), mlflow.start_run(experiment_id=experiment):
        version = log_fusion_model(params)
    return uri, f"models:/{version.name}/{version.version}"


def _timed_post(url: str, body: bytes) -> tuple[float, int, str]:
    start = time.perf_counter()
    try:
        status, text = post(url, body)
    except OSError as error:  # refused, reset or timed out: counted as an error, the run goes on
        status, text = 0, f"{type(error).__name__}: {error}"
    return time.perf_counter() - start, status, text


def serving_load(params: RegisterParams, requests: int, clients: int, height: int, width: int,
                 msrs: Path | None = None) -> dict[str, Any]:
    """Serve `params.checkpoint` and fire `requests` requests from `clients` concurrent clients (see module doc)."""
    if requests < 1 or clients < 1:
        raise TsjnetError(f"serving load needs at least one request and one client, got {requests} and {clients}")
    pair, row = request_pair(height, width, msrs)
    body = json.dumps({"dataframe_records": [row]}).encode()
    if len(body) > params.max_body_bytes:
        raise TsjnetError(f"one {height}x{width} request is {len(body)} bytes, above register.max_body_bytes "
                          f"({params.max_body_bytes}); raise the limit or pick a smaller --size")
    with tempfile.TemporaryDirectory(prefix="tsjnet-serving-") as folder:
        tracking, model_uri = _register(params, Path(folder))
        with scoring_server(model_uri, params.max_body_bytes, Path(folder) / "serve.log",
                            {"MLFLOW_TRACKING_URI": tracking}) as url:
            invocations = f"{url}/invocations"
            _, status, text = _timed_post(invocations, body)
            if status != 200:
                raise TsjnetError(f"the served model refused the warm-up request ({status}): {text[:500]}")
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                futures = [pool.submit(_timed_post, invocations, body) for _ in range(requests)]
                results = [future.result() for future in track(
                    as_completed(futures), total=requests, description=f"{requests} requests, {clients} clients")]
            wall = time.perf_counter() - start
    latencies = np.array([seconds for seconds, _, _ in results])
    failures = [f"{status}: {text[:200]}" for _, status, text in results if status != 200]
    return {
        "model": params.checkpoint, "pair": pair, "size": f"{height}x{width}", "body_bytes": len(body),
        "requests": requests, "clients": clients, "server_workers": 1,
        "p50_s": float(np.percentile(latencies, 50)), "p95_s": float(np.percentile(latencies, 95)),
        "throughput_rps": requests / wall, "errors": len(failures), "first_error": failures[0] if failures else None,
    }
