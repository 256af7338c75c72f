"""The benchmark suite runs end to end at a tiny size and writes consistent JSON and Markdown."""

import json
from pathlib import Path

import pytest
import torch

from tsjnet.bench.report import markdown
from tsjnet.bench.run import FUSION_METHODS, run_benchmarks
from tsjnet.bench.timing import median_seconds

ROOT = Path(__file__).resolve().parents[2]


def test_median_seconds_runs_warmup_and_repeats() -> None:
    calls = []
    seconds = median_seconds(lambda: calls.append(1), torch.device("cpu"), repeats=3, warmup=2)
    assert len(calls) == 5 and seconds >= 0


@pytest.mark.slow
def test_suite_writes_every_section(tmp_path: Path) -> None:
    results = run_benchmarks(tmp_path, repeats=1, height=64, width=64, natten_cpu=False, pipeline=False,
                             params_path=str(ROOT / "params.yaml"))
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written["fusion_latency"] and {row["model"] for row in written["fusion_latency"]} == set(FUSION_METHODS)
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
