"""The benchmark suite runs end to end at a tiny size and writes consistent JSON and Markdown; the released
SeAFusion gets a latency row exactly when its weights file is there; `--only` re-measures one section in place."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tests.params import make_params
from tsjnet.bench.edge import TARGET_PAIRS_PER_SECOND, edge_benchmark, edge_pair
from tsjnet.bench.fusion import fusion_latency
from tsjnet.bench.report import markdown
from tsjnet.bench.run import (FUSION_METHODS, SEAFUSION_RELEASE, fusion_methods, machine, refresh_sections,
                              run_benchmarks)
from tsjnet.bench.timing import median_seconds
from tsjnet.bench.training import detector_step_benchmark
from tsjnet.cli import app
from tsjnet.config.data import PairSource
from tsjnet.errors import DataError, TsjnetError
from tsjnet.export.runtime import RUNTIMES
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
    assert [row["runtime"] for row in written["edge"]["runtimes"]] == list(RUNTIMES) and "## edge" in table
    assert [row["size"] for row in written["detector_step"]["rows"]] == ["192x256", "240x320"]
    assert "## detector_step" in table


def test_detector_step_times_ours_and_torchvisions_ops_on_the_same_steps() -> None:
    section = detector_step_benchmark(make_params({}), repeats=1, batch=2, sizes=((64, 96),))
    (row,) = section["rows"]
    assert row["size"] == "64x96" and row["batch"] == 2 and row["ours_s"] > 0 and row["torchvision_s"] > 0
    assert row["speedup"] == pytest.approx(row["torchvision_s"] / row["ours_s"])
    assert "| size | batch | ours_s | torchvision_s | speedup |" in markdown({"machine": "m", "detector_step": section})


def test_edge_section_times_the_user_path_in_every_runtime() -> None:
    shipped = ROOT / "models" / "pretrained" / "tsjnet_lite_msrs.pt"
    section = edge_benchmark(32, 48, repeats=1, weights=shipped)
    assert section["weights"] == str(shipped) and section["pair"] == "random" and section["size"] == "32x48"
    assert section["threads"] == 2 and section["matmul_peak_gflops"] > 0 and section["gflop_per_pair"] > 0
    assert [row["runtime"] for row in section["runtimes"]] == list(RUNTIMES)
    for row in section["runtimes"]:
        assert row["pairs_per_second"] == pytest.approx(1 / row["seconds"]) and 0 < row["fraction_of_matmul_peak"]
        assert row["max_diff_grey_levels"] <= 1  # every runtime within 1/255 of the network as trained
        assert row["meets_target"] == (row["pairs_per_second"] >= TARGET_PAIRS_PER_SECOND)
    table = markdown({"machine": "test", "edge": section})
    assert "## edge" in table and "| runtime | seconds | pairs_per_second |" in table
    assert f"- target_pairs_per_second: {TARGET_PAIRS_PER_SECOND:g}" in table


def test_edge_pair_is_the_first_real_pair_cropped_or_noise(tmp_msrs: Path) -> None:
    source = PairSource(root=str(tmp_msrs), names=str(tmp_msrs / "names.txt"))
    (tmp_msrs / "names.txt").write_text("00003D\n00001D\n")
    name, ir, vi = edge_pair(source, 8, 10)
    assert name == "00001D" and ir.shape == (8, 10) and vi.shape == (8, 10, 3)
    assert edge_pair(source, 10_000, 10)[0] == "random"  # larger than the images
    assert edge_pair(PairSource(root=str(tmp_msrs / "absent"), names="x.txt"), 8, 10)[0] == "random"


def test_only_remeasures_the_named_section_and_keeps_the_rest(tmp_path: Path) -> None:
    kept = {"machine": "full run", "matmul_peak": [{"device": "cpu", "gflops": 1.0}], "fusion_latency": [],
            "neighborhood_attention": [], "train_step": [], "edge": {"pairs": 1}, "real_pairs": {"old": 1}}
    (tmp_path / "bench.json").write_text(json.dumps(kept))
    results = run_benchmarks(tmp_path, repeats=1, height=32, width=32, natten_cpu=False, pipeline=False,
                             params_path=str(ROOT / "params.yaml"), only=["fusion_metrics"])
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written == results and list(written) == [*list(kept)[:5], "fusion_metrics", "edge", "real_pairs"]
    assert {key: written[key] for key in kept} == kept  # machine line, timings and other sections untouched
    section = written["fusion_metrics"]
    assert section["size"] == "32x32" and section["total_seconds"] > 0
    assert section["measured_on"].startswith(f"{machine()}; ") and "commit " in section["measured_on"]
    assert (tmp_path / "bench.md").read_text() == markdown(results)


def test_only_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="bench.json not found"):
        refresh_sections(tmp_path, ["edge"], {})
    (tmp_path / "bench.json").write_text(json.dumps({"machine": "m", "matmul_peak": [], "fusion_latency": [],
                                                     "neighborhood_attention": [], "train_step": []}))
    with pytest.raises(TsjnetError, match="--only real_pairs: not a section.*choose from fusion_metrics, edge"):
        refresh_sections(tmp_path, ["real_pairs"], {})


def test_cli_only_runs_just_that_section(tmp_path: Path) -> None:
    report = {"machine": "m", "matmul_peak": [], "fusion_latency": [], "neighborhood_attention": [],
              "train_step": [], "real_pairs": {"old": 1}, "serving": {"old": 1}}
    (tmp_path / "bench.json").write_text(json.dumps(report))
    args = ["bench", "--out", str(tmp_path), "--size", "32x32", "--repeats", "1", "--params", str(ROOT / "params.yaml")]
    result = CliRunner().invoke(app, [*args, "--only", "fusion_metrics"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "bench.json").read_text())
    assert set(written) == {*report, "fusion_metrics"} and written["serving"] == {"old": 1}  # quality etc. not run
    refused = CliRunner().invoke(app, [*args, "--only", "latency"])
    assert refused.exit_code == 2 and "fusion_metrics" in refused.output
