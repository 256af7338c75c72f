"""One shard: outputs identical to `fuse_pair`, the manifest written last, finished shards skipped on a re-run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.batch.samples import expected_fusion, png_pixels, upload_folder
from tsjnet.batch.manifest import (FAILED, FUSED, ManifestRow, merge_manifests, read_manifest,
                                   shard_manifest_location)
from tsjnet.batch.model import resolve_model
from tsjnet.batch.plan import list_pairs, plan_shards
from tsjnet.batch.shard import SKIPPED, fuse_shard
from tsjnet.errors import DataError


def test_outputs_match_fuse_pair_and_the_manifest_lists_each_pair(pairs: tuple[Path, Path], checkpoint: Path,
                                                                  tmp_path: Path) -> None:
    ir, vi = pairs
    out = str(tmp_path / "out")
    model = resolve_model(str(checkpoint))
    shard = plan_shards(list_pairs(str(ir), str(vi)), 3)[0]
    result = fuse_shard(shard, out, model)
    assert (result.shard, result.status, result.pairs, result.failed) == ("shard-00000", FUSED, 3, ())
    for name in "abc":
        assert (png_pixels(tmp_path / "out" / f"{name}.png") == expected_fusion(
            checkpoint, ir / f"{name}.png", vi / f"{name}.png")).all()
    assert read_manifest(shard_manifest_location(out, shard)) == [
        ManifestRow("shard-00000", name, str(ir / f"{name}.png"), str(vi / f"{name}.png"), f"{out}/{name}.png",
                    str(checkpoint), model.version, False, FUSED) for name in "abc"]


def test_finished_shard_is_skipped_until_an_output_or_the_model_changes(pairs: tuple[Path, Path], checkpoint: Path,
                                                                        tmp_path: Path) -> None:
    ir, vi = pairs
    out = str(tmp_path / "out")
    model = resolve_model(str(checkpoint))
    shard = plan_shards(list_pairs(str(ir), str(vi)), 5)[0]
    assert fuse_shard(shard, out, model).status == FUSED
    written = (tmp_path / "out" / "b.png").stat().st_mtime_ns
    assert fuse_shard(shard, out, model).status == SKIPPED
    assert fuse_shard(shard, out, replace(model, version="sha256:another")).status == FUSED  # new weights
    assert fuse_shard(shard, out, replace(model, version="sha256:another"), gray=True).status == FUSED
    assert png_pixels(tmp_path / "out" / "b.png").ndim == 2
    (tmp_path / "out" / "d.png").unlink()
    assert fuse_shard(shard, out, replace(model, version="sha256:another"), gray=True).status == FUSED
    assert (tmp_path / "out" / "b.png").stat().st_mtime_ns > written


def test_bad_pair_is_recorded_and_the_shard_fused_again_next_time(pairs: tuple[Path, Path], checkpoint: Path,
                                                                  tmp_path: Path) -> None:
    ir, vi = pairs
    (vi / "c.png").write_bytes(b"truncated")
    out = str(tmp_path / "out")
    model = resolve_model(str(checkpoint))
    shards = plan_shards(list_pairs(str(ir), str(vi)), 2)
    results = [fuse_shard(shard, out, model) for shard in shards]
    assert [result.failed for result in results] == [(), ("c",), ()]
    rows = merge_manifests(out, shards)
    assert [(row.name, row.status) for row in rows] == [("a", FUSED), ("b", FUSED), ("c", FAILED), ("d", FUSED),
                                                       ("e", FUSED)]
    assert "c.png: cannot decode image" in rows[2].error
    assert read_manifest(f"{out}/manifest.jsonl") == rows
    assert [fuse_shard(shard, out, model).status for shard in shards] == [SKIPPED, FUSED, SKIPPED]


def test_s3_in_and_out(pairs: tuple[Path, Path], checkpoint: Path, s3: Any) -> None:
    ir, vi = pairs
    upload_folder(s3, ir, "tsjnet-batch", "in/ir")
    upload_folder(s3, vi, "tsjnet-batch", "in/vi")
    out = "s3://tsjnet-batch/fused"
    model = resolve_model(str(checkpoint))
    shard = plan_shards(list_pairs("s3://tsjnet-batch/in/ir", "s3://tsjnet-batch/in/vi"), 5)[0]
    assert fuse_shard(shard, out, model).status == FUSED
    fused = s3.get_object(Bucket="tsjnet-batch", Key="fused/e.png")["Body"].read()
    assert (png_pixels(fused) == expected_fusion(checkpoint, ir / "e.png", vi / "e.png")).all()
    assert [row.output for row in merge_manifests(out, [shard])] == [f"{out}/{name}.png" for name in "abcde"]
    assert fuse_shard(shard, out, model).status == SKIPPED
    s3.delete_object(Bucket="tsjnet-batch", Key="fused/a.png")
    assert fuse_shard(shard, out, model).status == FUSED


def test_merge_needs_every_shard_and_refuses_a_corrupt_manifest(pairs: tuple[Path, Path], checkpoint: Path,
                                                               tmp_path: Path) -> None:
    ir, vi = pairs
    out = str(tmp_path / "out")
    shards = plan_shards(list_pairs(str(ir), str(vi)), 3)
    fuse_shard(shards[0], out, resolve_model(str(checkpoint)))
    with pytest.raises(DataError, match="shard-00001.jsonl is missing: shard shard-00001 did not finish"):
        merge_manifests(out, shards)
    Path(shard_manifest_location(out, shards[0])).write_text('{"name": "a"}\n')
    with pytest.raises(DataError, match="shard-00000.jsonl line 1 is not a manifest row .*delete the file"):
        merge_manifests(out, shards)
