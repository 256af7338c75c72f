"""Pairs matched by stem (folders or S3 prefixes), unmatched names listed, deterministic shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.batch.samples import upload_folder
from tsjnet.batch.plan import Pair, list_pairs, plan_shards
from tsjnet.errors import DataError


def test_folder_pairs_by_stem(pairs: tuple[Path, Path]) -> None:
    ir, vi = pairs
    found = list_pairs(str(ir), str(vi))
    assert [pair.name for pair in found] == ["a", "b", "c", "d", "e"]
    assert found[1] == Pair("b", str(ir / "b.png"), str(vi / "b.png"))


def test_s3_and_mixed_locations_pair_the_same_way(pairs: tuple[Path, Path], s3: Any) -> None:
    ir, vi = pairs
    upload_folder(s3, ir, "tsjnet-batch", "set/ir")
    upload_folder(s3, vi, "tsjnet-batch", "set/vi")
    found = list_pairs("s3://tsjnet-batch/set/ir", str(vi))
    assert [pair.name for pair in found] == ["a", "b", "c", "d", "e"]
    assert found[0] == Pair("a", "s3://tsjnet-batch/set/ir/a.png", str(vi / "a.png"))


def test_unmatched_names_are_listed_not_dropped(pairs: tuple[Path, Path], s3: Any) -> None:
    ir, vi = pairs
    (vi / "b.png").unlink()
    (ir / "e.png").unlink()
    upload_folder(s3, ir, "tsjnet-batch", "ir")
    with pytest.raises(DataError, match=f"1 name\\(s\\) missing from {vi}: b; 1 name\\(s\\) missing from "
                                        "s3://tsjnet-batch/ir: e. Add the missing partners"):
        list_pairs("s3://tsjnet-batch/ir", str(vi))


def test_shards_are_consecutive_name_ranges_whatever_the_input_order() -> None:
    pairs = [Pair(name, f"ir/{name}", f"vi/{name}") for name in "edcba"]
    shards = plan_shards(pairs, 2)
    assert [(shard.id, [pair.name for pair in shard.pairs]) for shard in shards] == [
        ("shard-00000", ["a", "b"]), ("shard-00001", ["c", "d"]), ("shard-00002", ["e"])]
    assert plan_shards(list(reversed(pairs)), 2) == shards
    with pytest.raises(DataError, match="shard_size must be at least 1"):
        plan_shards(pairs, 0)
