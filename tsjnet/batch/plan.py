"""The work of a batch run: IR/VIS pairs matched by file stem, cut into deterministic shards.

Pairs are sorted by name and cut into consecutive shards of `shard_size`, so the same inputs always give the
same shards (the condition for resuming a run). Adding or removing inputs moves the shard boundaries after
the first change; the shards whose pairs changed are fused again, the others are still skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsjnet.batch.storage import list_images
from tsjnet.data.paired import match_by_stem
from tsjnet.errors import DataError


@dataclass(frozen=True)
class Pair:
    """One IR/VIS pair: its name (the shared file stem) and both locations (path or S3 URI)."""

    name: str
    ir: str
    vi: str


@dataclass(frozen=True)
class Shard:
    """A unit of work for one worker task: consecutive pairs in name order."""

    index: int
    pairs: tuple[Pair, ...]

    @property
    def id(self) -> str:
        """Stable name of the shard (its manifest file is <id>.jsonl)."""
        return f"shard-{self.index:05d}"


def list_pairs(ir: str, vi: str) -> list[Pair]:
    """Every pair of the `ir` and `vi` folders or S3 prefixes, by name; a stem on one side only is an error."""
    matched = match_by_stem(list_images(ir), list_images(vi), ir, vi)
    return [Pair(name, ir_path, vi_path) for name, ir_path, vi_path in matched]


def plan_shards(pairs: list[Pair], shard_size: int) -> list[Shard]:
    """`pairs` in name order, cut into shards of `shard_size` (the last one may be smaller)."""
    if shard_size < 1:
        raise DataError(f"shard_size must be at least 1, got {shard_size}")
    ordered = sorted(pairs, key=lambda pair: pair.name)
    return [Shard(index, tuple(ordered[start:start + shard_size]))
            for index, start in enumerate(range(0, len(ordered), shard_size))]
