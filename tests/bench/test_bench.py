"""The benchmark suite runs end to end at a tiny size and writes consistent JSON and Markdown; the released
SeAFusion gets a latency row exactly when its weights file is there."""

import json
from pathlib import Path

import pytest
import torch

from tsjnet.bench.fusion import fusion_latency
from tsjnet.bench.report import markdown
from tsjnet.bench.run import FUSION_METHODS, SEAFUSION_RELEASE, fusion_methods, run_benchmarks
from tsjnet.bench.timing import median_seconds
from tsjnet.models.seafusion_release import ATTRIBUTION, SeAFusionRelease

ROOT = Path(__file__).resolve().parents[2]


def test_median_seconds_runs_warmup_and_repeats() -> None:
    calls = []
    seconds = median_seconds(lambda: calls.append(1), torch.device("cpu"), repeats=3, warmup=2)
    assert len(calls) == 5 and seconds >= 0


def test_release_row_only_when_its_weights_are_there(tmp_path: Path) -> None:
    assert fusion_methods(tmp_path / "absent.pth") == dict.fromkeys(FUSION_METHODS)
    weights = tmp_path / "SeAFusion.pth"
    torch.save(SeAFusionRelease().state_dict(), weights)
    assert fusion_methods(weights) == {**dict.fromkeys(FUSION_METHODS), "seafusion_release": weights}
    cpu = torch.device("cpu")
    row = fusion_latency("seafusion_release", 16, 24, cpu, repeats=1, peak_gflops=1.0, weights=weights)
    assert row["model"] == "seafusion_release" and row["seconds"] > 0 and row["gmacs"] > 0
    assert row["attribution"] == ATTRIBUTION
    assert "attribution" not in fusion_latency("seafusion_release", 16, 24, cpu, repeats=1, peak_gflops=1.0)


@pytest.mark.slow
def test_suite_writes_every_section(tmp_path: Path) -> None:
    release = ROOT / SEAFUSION_RELEASE
    results = run_benchmarks(tmp_path, repeats=1, height=64, width=64, natten_cpu=False, pipeline=False,
                             params_path=str(ROOT / "params.yaml"), release_weights=release)
    written = json.loads((tmp_path / "bench.json").read_text())
    models = {row["model"] for row in written["fusion_latency"]}
    assert written["fusion_latency"] and models == set(fusion_methods(release))
    for row in written["fusion_latency"]:
        assert row["seconds"] > 0 and row["size"] == "64x64"
        if row["model"].startswith("tsjnet"):
            assert row["gmacs"] > 0 and 0 < row["fraction_of_matmul_peak"]
    attention = written["neighborhood_attention"][0]
    assert attention["ours_forward_s"] > 0 and attention["ours_forward_backward_s"] > attention["ours_forward_s"] / 10
    assert written["train_step"][0]["seconds_per_step"] > 0 and written["train_step"][0]["peak_rss_mib"] > 0
    assert written["fusion_metrics"]["total_seconds"] > 0
    table = (tmp_path / "bench.md").read_text()
    assert table == markdown(results)
    assert "## fusion_latency" in table and "tsjnet_paper" in table
