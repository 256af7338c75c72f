"""The lite-vs-SeAFusion quality section: one budget for both, real ivf-dev pairs, a verdict from the numbers."""

import math
from pathlib import Path
from typing import Any

import pytest

from tsjnet.bench.quality import BASELINE, CANDIDATE, REFERENCE, fusion_quality, open_ivf_dev, verdict
from tsjnet.bench.report import markdown
from tsjnet.bench.run import run_benchmarks
from tsjnet.config import Params
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
    return fusion_quality(train, PairDataset(val.root, val.records[:2]), Params(), steps=2, crop=64)


@pytest.mark.realdata
def test_both_networks_take_the_same_steps_and_every_method_has_every_metric(result: dict[str, Any]) -> None:
    rows = {row["method"]: row for row in result["methods"]}
    assert list(rows) == [CANDIDATE, BASELINE, REFERENCE]
    assert rows[CANDIDATE]["train_steps"] == rows[BASELINE]["train_steps"] == 2
    assert rows[CANDIDATE]["train_seconds"] > 0 and rows[BASELINE]["train_seconds"] > 0
    assert rows[REFERENCE]["train_steps"] == 0
    for row in rows.values():
        assert all(math.isfinite(row[metric]) for metric in HEADLINE), row
        assert row["fuse_pairs_per_second"] > 0
    assert (result["train_pairs"], result["val_pairs"], result["crop"], result["batch_size"]) == (40, 2, "64x64", 2)


@pytest.mark.realdata
def test_verdict_is_recomputed_from_the_metric_means(result: dict[str, Any]) -> None:
    rows = {row["method"]: row for row in result["methods"]}
    lite, sea = rows[CANDIDATE], rows[BASELINE]
    expected = {m: lite[m] <= sea[m] if m in LOWER_IS_BETTER else lite[m] >= sea[m] for m in HEADLINE}
    assert result["lite_matches_or_beats"] == expected
    assert result["metrics_won"] == sum(expected.values()) and result["metrics_compared"] == 13
    assert result["lite_matches_or_beats_seafusion"] == (sum(expected.values()) >= 7)


@pytest.mark.realdata
def test_markdown_shows_one_row_per_method_and_the_verdict(result: dict[str, Any]) -> None:
    text = markdown({"machine": "test", "fusion_quality_ivf_dev": result})
    for method in (CANDIDATE, BASELINE, REFERENCE):
        assert sum(line.startswith(f"| {method} |") for line in text.splitlines()) == 1
    headline = "yes" if result["lite_matches_or_beats_seafusion"] else "no"
    assert f"- lite_matches_or_beats_seafusion: {headline}" in text
    assert f"- metrics_won: {result['metrics_won']}" in text and "majority" in text


def test_ties_match_nan_never_wins_and_the_headline_needs_a_majority() -> None:
    base = {m: 1.0 for m in HEADLINE}
    assert verdict(base, base)["metrics_won"] == 13  # every tie is a match
    worse = {m: (2.0 if m in LOWER_IS_BETTER else 0.5) for m in HEADLINE}
    assert verdict(worse, base)["metrics_won"] == 0 and not verdict(worse, base)["lite_matches_or_beats_seafusion"]
    assert verdict(base | {"EN": math.nan}, base)["lite_matches_or_beats"]["EN"] is False
    six = dict(worse, **{m: 1.0 for m in HEADLINE[:6]})
    assert not verdict(six, base)["lite_matches_or_beats_seafusion"]
    assert verdict(six | {HEADLINE[6]: 1.0}, base)["lite_matches_or_beats_seafusion"]


def test_missing_ivf_dev_fails_first_naming_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "ivf-dev" / "MSRS"
    with pytest.raises(DataError, match=r"ivf-dev/MSRS: .*--ivf-dev .*--no-quality"):
        run_benchmarks(tmp_path / "out", repeats=1, height=64, width=64, natten_cpu=False, pipeline=False,
                       params_path="params.yaml", quality=(missing, 1))
    assert not (tmp_path / "out").exists()  # nothing was timed or written before the error
