"""The lite-vs-SeAFusion quality section: one budget for both, real ivf-dev pairs, a verdict from the numbers."""

import math
from pathlib import Path
from typing import Any

import pytest

from tests.params import make_params
from tsjnet.bench.quality import BASELINE, CANDIDATE, REFERENCE, fusion_quality, open_ivf_dev
from tsjnet.bench.report import markdown
from tsjnet.bench.run import run_benchmarks
from tsjnet.data import PairDataset
from tsjnet.errors import DataError

HEADLINE = ("EN", "SD", "SF", "AG", "MI", "MSE", "PSNR", "CC", "SCD", "SSIM", "VIF", "Qabf", "CV")
LOWER_IS_BETTER = {"MSE", "CV"}


@pytest.fixture(scope="module")
def result(ivf_dev: Path) -> dict[str, Any]:
    """Two Adam steps on 64 x 64 crops per network, scored on the first two dev_val pairs."""
    train, val = open_ivf_dev(ivf_dev / "MSRS")
    assert (len(train), len(val)) == (40, 20)
    assert not {r.name for r in train.records} & {r.name for r in val.records}
    return fusion_quality(train, PairDataset(val.root, val.records[:2]), make_params(), steps=2, crop=64)


@pytest.mark.realdata
def test_both_networks_take_the_same_steps_and_every_method_has_every_metric(result: dict[str, Any]) -> None:
    rows = {row["method"]: row for row in result["methods"]}
    assert list(rows) == [CANDIDATE, BASELINE, REFERENCE]
    assert rows[CANDIDATE]["train_steps"] == rows[BASELINE]["train_steps"] == 2
    assert rows[CANDIDATE]["train_seconds"] > 0 and rows[BASELINE]["train_seconds"] > 0
    assert rows[REFERENCE]["train_steps"] == 0
    for row in rows.values():
        assert all(math.isfinite(row[metric]) for metric in HEADLINE), row
    assert (result["train_pairs"], result["val_pairs"], result["crop"], result["batch_size"]) == (40, 2, "64x64", 2)


@pytest.mark.realdata
def test_verdict_is_counted_from_the_paired_intervals(result: dict[str, Any]) -> None:
    rows = result["val intervals"]["versus"][CANDIDATE][BASELINE]["metrics"]
    assert set(rows) == set(HEADLINE) and result["metrics_compared"] == 13
    for metric, row in rows.items():
        lower = metric in LOWER_IS_BETTER
        low, high = (-row["ci_high"], -row["ci_low"]) if lower else (row["ci_low"], row["ci_high"])
        assert row["verdict"] == ("better" if low > 0 else "worse" if high < 0 else "within noise"), metric
    better = sum(row["verdict"] == "better" for row in rows.values())
    assert (result["lite_better"], result["lite_beats_seafusion"]) == (better, better >= 7)
    assert result["lite_better"] + result["lite_worse"] + result["within_noise"] == 13


@pytest.mark.realdata
def test_markdown_shows_one_row_per_method_the_intervals_and_the_verdict(result: dict[str, Any]) -> None:
    text = markdown({"machine": "test", "fusion_quality_ivf_dev": result})
    # the means row and the interval row; the candidate also has a verdict row against each other method
    for method, rows in ((CANDIDATE, 4), (BASELINE, 2), (REFERENCE, 2)):
        assert sum(line.startswith(f"| {method} |") for line in text.splitlines()) == rows
    headline = "yes" if result["lite_beats_seafusion"] else "no"
    assert f"- lite_beats_seafusion: {headline}" in text
    assert f"- lite_better: {result['lite_better']}" in text and "majority" in text
    assert "#### val intervals: 2 pairs, mean [95% bootstrap CI over pairs]" in text
    assert f"| {CANDIDATE} | {BASELINE} | {result['lite_better']} | {result['lite_worse']} |" in text


def test_missing_ivf_dev_fails_first_naming_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "ivf-dev" / "MSRS"
    with pytest.raises(DataError, match=r"ivf-dev/MSRS: .*--ivf-dev .*--no-quality"):
        run_benchmarks(tmp_path / "out", repeats=1, height=64, width=64, natten_cpu=False, pipeline=False,
                       params_path="params.yaml", quality=(missing, 1))
    assert not (tmp_path / "out").exists()  # nothing was timed or written before the error
