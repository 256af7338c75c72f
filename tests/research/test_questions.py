from __future__ import annotations

import numpy as np
import pytest

from tsjnet.metrics.bootstrap import Resampled
from tsjnet.research.questions import compare, figure, mean_ranks
from tsjnet.metrics.suite import HEADLINE_METRICS
from tsjnet.reports import Figure

DRAWS = (4, 50, 0)


def run(value: float, spread: float = 0.01, key: str = "miou") -> Resampled:
    """One scored run whose draws scatter evenly around `value`."""
    return Resampled({key: value}, {key: value + spread * np.linspace(-1, 1, DRAWS[1])}, DRAWS)


def test_a_method_figure_pools_its_seeds_and_keeps_each_seed() -> None:
    pooled = figure([run(0.2), run(0.4)], "miou")
    assert pooled.mean == pytest.approx(0.3) and pooled.seeds == pytest.approx([0.2, 0.4])
    assert pooled.ci_low == pytest.approx(0.3 - 0.01, abs=1e-3) and pooled.ci_high == pytest.approx(0.31, abs=1e-3)


def test_better_needs_the_pooled_interval_and_every_seed() -> None:
    runs = {"a": [run(0.50), run(0.52)], "b": [run(0.40), run(0.41)]}
    row = compare("RQ1", "a", "b", runs, "miou")
    assert (row.verdict, row.pooled_verdict) == ("better", "better") and row.difference.seeds == pytest.approx([0.1, 0.11])
    # pooled clearly positive, but one seed goes the other way: not a verdict that holds across seeds
    runs = {"a": [run(0.60), run(0.39)], "b": [run(0.40), run(0.41)]}
    row = compare("RQ1", "a", "b", runs, "miou")
    assert (row.verdict, row.pooled_verdict) == ("within noise", "better")


def test_a_method_that_does_not_train_pairs_with_every_seed() -> None:
    row = compare("RQ3", "a", "infrared", {"a": [run(0.3), run(0.35), run(0.32)], "infrared": [run(0.5)]}, "miou")
    assert row.difference.seeds == pytest.approx([-0.2, -0.15, -0.18]) and row.verdict == "worse"


def test_lower_is_better_metrics_flip_the_verdict() -> None:
    row = compare("RQ4", "a", "b", {"a": [run(10.0, key="MSE")], "b": [run(20.0, key="MSE")]}, "MSE")
    assert row.verdict == "better"


def test_mean_rank_orders_methods_over_the_thirteen_metrics() -> None:
    def figures(value: float) -> dict[str, Figure]:
        sign = {metric: -1.0 if metric in ("MSE", "CV") else 1.0 for metric in HEADLINE_METRICS}
        return {m: Figure(mean=sign[m] * value, ci_low=None, ci_high=None, seeds=[]) for m in HEADLINE_METRICS}

    ranks = mean_ranks({"worst": figures(1.0), "best": figures(3.0), "middle": figures(2.0)})
    assert ranks == {"best": 1.0, "middle": 2.0, "worst": 3.0}
