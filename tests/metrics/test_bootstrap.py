"""Bootstrap intervals over images and the verdicts built on them: "better" only when the interval excludes 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsjnet.metrics.bootstrap import (Interval, Resampled, compare, mean_ci, paired_difference,
                                      paired_statistic_difference, percentile_interval, pool, resample,
                                      statistic_ci, verdict)

RNG = np.random.default_rng(7)
SCORES = RNG.normal(0.5, 0.1, 16)  # one score per image
ALTERNATING = 0.1 * (-1.0) ** np.arange(16)  # per-image differences of both signs, mean 0


def test_interval_contains_the_mean_and_is_reproducible() -> None:
    interval = mean_ci(SCORES)
    assert interval.mean == pytest.approx(float(np.mean(SCORES)))
    assert interval.low < interval.mean < interval.high
    assert mean_ci(SCORES) == interval  # seeded
    assert mean_ci(SCORES, seed=1) != interval


def test_interval_shrinks_with_more_images() -> None:
    few, many = (mean_ci(np.random.default_rng(0).normal(0.5, 0.1, n)) for n in (16, 400))
    assert many.high - many.low < (few.high - few.low) / 3  # about 1/sqrt(25) as wide


def test_constant_values_have_a_zero_width_interval() -> None:
    assert mean_ci([0.3] * 8) == Interval(0.3, 0.3, 0.3)


def test_identical_inputs_are_within_noise() -> None:
    difference, word = compare(SCORES, SCORES)
    assert difference == Interval(0.0, 0.0, 0.0) and word == "within noise"


def test_clear_shift_is_better_and_the_reverse_worse() -> None:
    shifted = SCORES + 0.1 + ALTERNATING / 2
    difference, word = compare(shifted, SCORES)
    assert difference.low > 0 and word == "better"
    assert compare(SCORES, shifted)[1] == "worse"


def test_higher_mean_inside_the_noise_is_not_better() -> None:
    candidate = SCORES + 0.01 + ALTERNATING  # a higher mean, but some images lose 0.09
    difference, word = compare(candidate, SCORES)
    assert difference.mean > 0 and difference.low < 0 < difference.high and word == "within noise"


def test_lower_is_better_flips_the_verdict() -> None:
    shifted = SCORES + 0.1 + ALTERNATING / 2
    assert compare(shifted, SCORES, lower_is_better=True)[1] == "worse"
    assert compare(SCORES, shifted, lower_is_better=True)[1] == "better"
    assert verdict(Interval(-0.2, -0.3, -0.1), lower_is_better=True) == "better"


def test_interval_touching_zero_is_within_noise() -> None:
    assert verdict(Interval(0.1, 0.0, 0.2)) == "within noise"
    assert verdict(Interval(-0.1, -0.2, 0.0)) == "within noise"


def test_nan_values_give_an_undefined_interval_and_no_verdict() -> None:
    interval = mean_ci([0.1, math.nan, 0.3])
    assert math.isnan(interval.mean) and math.isnan(interval.low) and math.isnan(interval.high)
    assert interval.format() == "nan"
    assert compare([0.9, math.nan, 0.9], [0.1, 0.1, 0.1])[1] == "within noise"
    single = mean_ci([0.4])  # one image: a mean, no interval
    assert single.mean == 0.4 and math.isnan(single.low) and single.format() == "0.400"
    assert math.isnan(mean_ci([]).mean)


def test_undefined_replicates_are_left_out() -> None:
    interval = percentile_interval(0.5, np.array([math.nan, 0.4, 0.6, math.inf]))
    assert 0.4 <= interval.low <= interval.high <= 0.6
    assert math.isnan(percentile_interval(0.5, np.array([math.nan])).low)
    assert math.isnan(percentile_interval(math.nan, np.array([0.4, 0.6])).low)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one value per image"):
        paired_difference([0.1, 0.2, 0.3], [0.1, 0.2])
    def statistic(idx: np.ndarray) -> dict[str, float]:
        return {"x": float(idx.mean())}

    reference = resample(statistic, 8, 100)
    for other in (resample(statistic, 8, 200), resample(statistic, 8, 100, seed=1), resample(statistic, 9, 100)):
        with pytest.raises(ValueError, match="same draws"):
            reference.difference(other, "x")


def test_format_and_json_fields_round_trip() -> None:
    interval = Interval(0.5123, 0.4981, 0.5274)
    assert interval.format() == "0.512 [0.498, 0.527]"
    assert Interval(0.01, -0.002, 0.03).format(3, signed=True) == "+0.010 [-0.002, +0.030]"
    fields = interval.fields("miou")
    assert fields == {"miou": 0.5123, "miou_ci_low": 0.4981, "miou_ci_high": 0.5274}
    assert Interval.read(fields, "miou") == interval
    undefined = Interval.read({"miou": 0.3, "miou_ci_low": None}, "miou")  # null in JSON
    assert undefined.mean == 0.3 and math.isnan(undefined.low) and math.isnan(undefined.high)


# A dataset-level statistic that is not a mean of per-image values: pooled hits over pooled objects
# (like mIoU from a pooled confusion matrix).
HITS, OBJECTS = RNG.integers(0, 10, 16), RNG.integers(10, 20, 16)


def _pooled(hits: np.ndarray):
    return lambda idx: float(hits[idx].sum() / OBJECTS[idx].sum())


def test_statistic_over_resampled_images() -> None:
    interval = statistic_ci(_pooled(HITS), len(HITS))
    assert interval.mean == pytest.approx(HITS.sum() / OBJECTS.sum())
    assert interval.low < interval.mean < interval.high
    assert math.isnan(statistic_ci(_pooled(HITS), 1).low)  # one image: no interval


def test_paired_statistic_difference() -> None:
    same = paired_statistic_difference(_pooled(HITS), _pooled(HITS), len(HITS))
    assert same == Interval(0.0, 0.0, 0.0) and verdict(same) == "within noise"
    more = np.minimum(HITS + 3, OBJECTS)  # every image detects up to 3 more objects
    difference = paired_statistic_difference(_pooled(more), _pooled(HITS), len(HITS))
    assert difference.low > 0 and verdict(difference) == "better"


def test_resampled_statistics_share_draws() -> None:
    """Two inputs resampled separately (same seed, same image count) pair up draw by draw."""
    first = resample(lambda idx: {"score": _pooled(HITS)(idx)}, len(HITS))
    second = resample(lambda idx: {"score": _pooled(np.minimum(HITS + 3, OBJECTS))(idx)}, len(HITS))
    assert verdict(second.difference(first, "score")) == "better"
    assert first.difference(first, "score") == Interval(0.0, 0.0, 0.0)
    assert first.interval("score") == statistic_ci(_pooled(HITS), len(HITS))


def test_pool_averages_values_and_draws_of_runs_on_the_same_images() -> None:
    a = resample(lambda i: {"x": float(np.mean(np.arange(6.0)[i]))}, 6, 200)
    b = a.with_values({"x": a.values["x"] + 2.0})
    b = Resampled(b.values, {"x": a.replicates["x"] + 2.0}, a.draws)
    pooled = pool([a, b])
    assert pooled.values["x"] == pytest.approx(a.values["x"] + 1.0)
    np.testing.assert_allclose(pooled.replicates["x"], a.replicates["x"] + 1.0)
    with pytest.raises(ValueError, match="same draws"):
        pool([a, resample(lambda i: {"x": 0.0}, 5, 200)])


def test_merge_joins_statistics_of_the_same_draws_only() -> None:
    a = resample(lambda i: {"x": 1.0}, 4, 100)
    merged = a.merge(resample(lambda i: {"y": 2.0}, 4, 100))
    assert merged.values == {"x": 1.0, "y": 2.0} and set(merged.replicates) == {"x", "y"}
    with pytest.raises(ValueError, match="same draws"):
        a.merge(resample(lambda i: {"y": 2.0}, 4, 101))
