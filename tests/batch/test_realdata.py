"""Batch fusion on real MSRS pairs from ivf-dev (read in place): pairing and pixels identical to `fuse_pair`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batch.samples import expected_fusion, png_pixels
from tsjnet.batch.manifest import FUSED, read_manifest, shard_manifest_location
from tsjnet.batch.model import resolve_model
from tsjnet.batch.plan import list_pairs, plan_shards
from tsjnet.batch.shard import fuse_shard


@pytest.mark.realdata
def test_msrs_test_folders_pair_and_fuse_like_fuse_pair(ivf_dev: Path, checkpoint: Path, tmp_path: Path) -> None:
    ir, vi = ivf_dev / "MSRS" / "test" / "ir", ivf_dev / "MSRS" / "test" / "vi"
    pairs = list_pairs(str(ir), str(vi))
    assert len(pairs) == 56  # ivf-dev README: 56 test pairs
    shards = plan_shards(pairs, 28)
    assert [len(shard.pairs) for shard in shards] == [28, 28]
    first_two = plan_shards(list(shards[0].pairs[:2]), 2)[0]
    out = str(tmp_path / "out")
    assert fuse_shard(first_two, out, resolve_model(str(checkpoint))).status == FUSED
    for row in read_manifest(shard_manifest_location(out, first_two)):
        fused = png_pixels(Path(row.output))
        assert fused.shape == (480, 640, 3)
        assert (fused == expected_fusion(checkpoint, Path(row.ir), Path(row.vi))).all()
