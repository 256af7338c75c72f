"""Fuse one shard: the work a single worker task does, skipped when a previous run already finished it.

Every pair goes through `tsjnet.registry.fuse.fuse_pair`, the path `tsjnet fuse` and the served model use,
so a batch output is pixel-identical to serving the same pair. A pair with bad input (unreadable file, size
mismatch) is recorded as failed with its message and the shard carries on; anything else (storage down, a
bug) fails the task, which the flow may retry.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tsjnet.batch.manifest import (FAILED, FUSED, ManifestRow, output_location, shard_is_done,
                                   shard_manifest_location, write_manifest)
from tsjnet.batch.model import ModelRef, cached_model
from tsjnet.batch.plan import Pair, Shard
from tsjnet.batch.storage import fetch, png_bytes, write_bytes
from tsjnet.data.io import read_ir, read_vi
from tsjnet.errors import DataError
from tsjnet.models.fusion import FusionModel
from tsjnet.registry.fuse import fuse_pair

SKIPPED = "skipped"


@dataclass(frozen=True)
class ShardResult:
    """What a task reports back: the shard, `fused` or `skipped`, failed pair names, the worker process."""

    shard: str
    status: str
    pairs: int
    failed: tuple[str, ...]
    pid: int


def fuse_one(fusion: FusionModel, pair: Pair, out: str, scratch: Path, gray: bool) -> str | None:
    """Fuse `pair` into its output location; returns None, or the error message of bad input."""
    try:
        ir = read_ir(fetch(pair.ir, scratch / "ir"))
        vi = read_vi(fetch(pair.vi, scratch / "vi"))
        fused = fuse_pair(fusion, ir, vi, gray=gray)
    except DataError as error:
        return str(error)
    write_bytes(output_location(out, pair.name), png_bytes(fused))
    return None


def fuse_shard(shard: Shard, out: str, model: ModelRef, gray: bool = False, device: str = "cpu") -> ShardResult:
    """Fuse every pair of `shard` into `out` and write the shard manifest last; skip a finished shard."""
    if shard_is_done(out, shard, model, gray):
        return ShardResult(shard.id, SKIPPED, len(shard.pairs), (), os.getpid())
    fusion = cached_model(model, device)
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"tsjnet-{shard.id}-") as scratch:
        for pair in shard.pairs:
            error = fuse_one(fusion, pair, out, Path(scratch), gray)
            rows.append(ManifestRow(shard.id, pair.name, pair.ir, pair.vi, output_location(out, pair.name), model.uri,
                                    model.version, gray, FAILED if error else FUSED, error))
    write_manifest(shard_manifest_location(out, shard), rows)
    return ShardResult(shard.id, FUSED, len(rows), tuple(row.name for row in rows if row.status == FAILED), os.getpid())
