"""What a batch run did, pair by pair: one JSON-lines manifest per shard, merged into one for the run.

A shard's manifest is written after all of its outputs, so a complete manifest whose outputs still exist
proves the shard is finished; that is the whole resume rule (`shard_is_done`). Both live next to the
outputs (``<out>/_manifest/<shard>.jsonl`` and ``<out>/manifest.jsonl``), so any worker of a cluster can
read them where the outputs are, also on S3.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from tsjnet.batch.model import ModelRef
from tsjnet.batch.plan import Shard
from tsjnet.batch.storage import exists, join, read_text, write_bytes
from tsjnet.errors import DataError

SHARD_FOLDER = "_manifest"
MERGED_NAME = "manifest.jsonl"
FUSED, FAILED = "fused", "failed"


@dataclass(frozen=True)
class ManifestRow:
    """One pair: inputs, output, the model (as asked and the version used), and the outcome."""

    shard: str
    name: str
    ir: str
    vi: str
    output: str
    model: str
    model_version: str | None
    gray: bool
    status: str
    error: str | None = None


def output_location(out: str, name: str) -> str:
    """Where the fused image of pair `name` goes: <out>/<name>.png, as `tsjnet fuse` writes it."""
    return join(out, f"{name}.png")


def shard_manifest_location(out: str, shard: Shard) -> str:
    """<out>/_manifest/<shard id>.jsonl."""
    return join(out, SHARD_FOLDER, f"{shard.id}.jsonl")


def to_jsonl(rows: list[ManifestRow]) -> str:
    """One JSON object per line, keys in field order."""
    return "".join(json.dumps(asdict(row)) + "\n" for row in rows)


def from_jsonl(text: str, where: str) -> list[ManifestRow]:
    """Parse a manifest; a line that is not a manifest row is an error naming the file and the line."""
    names = {field.name for field in fields(ManifestRow)}
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            data = json.loads(line)
            rows.append(ManifestRow(**{key: data[key] for key in names if key in data}))
        except (json.JSONDecodeError, TypeError) as error:
            raise DataError(f"{where} line {number} is not a manifest row ({error}); delete the file to fuse its "
                            "shard again") from None
    return rows


def write_manifest(location: str, rows: list[ManifestRow]) -> None:
    """Write `rows` as JSON lines to a file or S3 key."""
    write_bytes(location, to_jsonl(rows).encode())


def read_manifest(location: str) -> list[ManifestRow] | None:
    """The rows of a manifest, or None when it does not exist."""
    text = read_text(location)
    return None if text is None else from_jsonl(text, location)


def shard_is_done(out: str, shard: Shard, model: ModelRef, gray: bool) -> bool:
    """True when the shard's manifest lists exactly its pairs, all fused with this model version and setting, and
    every output still exists; anything else (no manifest, a failed pair, another model, a deleted output) means
    the shard is fused again."""
    rows = read_manifest(shard_manifest_location(out, shard))
    if rows is None:
        return False
    wanted = [(pair.name, pair.ir, pair.vi, output_location(out, pair.name)) for pair in shard.pairs]
    if [(row.name, row.ir, row.vi, row.output) for row in rows] != wanted:
        return False
    if any(row.status != FUSED or row.model != model.uri or row.model_version != model.version or row.gray != gray
           for row in rows):
        return False
    return all(exists(row.output) for row in rows)


def merge_manifests(out: str, shards: list[Shard]) -> list[ManifestRow]:
    """Concatenate the shard manifests of this plan in shard order into <out>/manifest.jsonl; return the rows.

    A shard without a manifest is an error: merging runs after every shard has reported.
    """
    rows: list[ManifestRow] = []
    for shard in shards:
        location = shard_manifest_location(out, shard)
        shard_rows = read_manifest(location)
        if shard_rows is None:
            raise DataError(f"{location} is missing: shard {shard.id} did not finish; run the batch again to fuse it")
        rows += shard_rows
    write_manifest(join(out, MERGED_NAME), rows)
    return rows
