"""95% bootstrap confidence intervals over images, and verdicts that only say "better" when the interval does.

Every figure a report shows is computed from a handful of images; the interval says how much it would move with
another draw of images from the same source. Resampling is over image indices: a mean of per-image values
(fusion metrics) and a dataset-level statistic (mAP, mIoU from a pooled confusion matrix) are resampled alike,
the latter recomputed on each resample. A comparison of two methods uses the *paired* difference on the same
draws (both methods saw the same images), which is far tighter than two overlapping marginal intervals and is
what a "beats" claim needs. Percentile intervals; draws come from a fixed seed, so a report is reproducible and
every statistic over the same number of images sees the same draws (which is what makes them paired).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from tsjnet.reports import Verdict

LEVEL = 0.95
N_RESAMPLES = 2000
#: A statistic of the images at the given indices (repeats count as often as they occur).
Statistic = Callable[[np.ndarray], float]
#: Several named statistics of the same images, computed together (e.g. mAP and per-class AP of one run).
Statistics = Callable[[np.ndarray], Mapping[str, float]]


def _float(value: object) -> float:
    """JSON-read value -> float (null and non-numbers -> NaN)."""
    return float(value) if isinstance(value, Real) and not isinstance(value, bool) else math.nan


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval; `low`/`high` are NaN when the interval is undefined."""

    mean: float
    low: float
    high: float

    def format(self, digits: int = 3, signed: bool = False) -> str:
        """``0.512 [0.498, 0.527]`` (a bare number when the interval is undefined); `signed` for differences."""
        spec = f"{'+' if signed else ''}.{digits}f"
        if not np.isfinite(self.low):
            return f"{self.mean:{spec}}"
        return f"{self.mean:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high}

    def fields(self, name: str) -> dict[str, float]:
        """``{name: mean, name_ci_low: low, name_ci_high: high}``: flat, so readers of ``name`` keep working."""
        return {name: self.mean, f"{name}_ci_low": self.low, f"{name}_ci_high": self.high}

    @classmethod
    def read(cls, values: Mapping[str, object], name: str) -> Interval:
        """The interval `fields` wrote into `values` (missing or null parts -> NaN)."""
        return cls(_float(values.get(name)), _float(values.get(f"{name}_ci_low")),
                   _float(values.get(f"{name}_ci_high")))


def resample_indices(n_images: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> np.ndarray:
    """(n_resamples, n_images) image indices drawn with replacement; one seed and size, one set of draws."""
    return np.random.default_rng(seed).integers(0, n_images, size=(n_resamples, n_images))


def percentile_interval(point: float, replicates: np.ndarray) -> Interval:
    """`point` with the central LEVEL percentile range of the finite `replicates`.

    Undefined (NaN bounds) when the point is not finite or no replicate is: an interval is never made up.
    """
    finite = np.asarray(replicates, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not math.isfinite(point) or finite.size == 0:
        return Interval(point, math.nan, math.nan)
    tail = (1.0 - LEVEL) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Interval(point, float(low), float(high))


def mean_ci(values: Sequence[float], seed: int = 0) -> Interval:
    """Mean of `values` with its 95% percentile bootstrap interval (NaN values propagate into the mean)."""
    data = np.asarray(values, dtype=np.float64)
    mean = float(np.mean(data)) if data.size else math.nan
    if data.size < 2 or not np.all(np.isfinite(data)):
        return Interval(mean, math.nan, math.nan)
    return percentile_interval(mean, data[resample_indices(data.size, seed=seed)].mean(axis=1))


def paired_difference(candidate: Sequence[float], baseline: Sequence[float], seed: int = 0) -> Interval:
    """Mean per-image difference candidate - baseline with its interval (the same images, in the same order)."""
    a, b = np.asarray(candidate, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs one value per image on both sides, got {a.shape} and {b.shape}")
    return mean_ci(a - b, seed=seed)


@dataclass(frozen=True)
class Resampled:
    """Named dataset-level statistics on all images (`values`) and on each bootstrap draw (`replicates`).

    Two `Resampled` of the same images from the same draws (`resample`, same seed) are paired: their
    difference draw by draw is the bootstrap distribution of the difference.
    """

    values: Mapping[str, float]
    replicates: Mapping[str, np.ndarray]  # name -> (n_resamples,)
    draws: tuple[int, int, int]  # (n_images, n_resamples, seed): equal tuples, equal draws

    def with_values(self, values: Mapping[str, float]) -> Resampled:
        """The same draws around other point values (e.g. a reference implementation's numbers)."""
        return replace(self, values=dict(values))

    def merge(self, other: Resampled) -> Resampled:
        """Both sets of statistics on the same draws (e.g. task scores and fusion metrics of the same images)."""
        if self.draws != other.draws:
            raise ValueError(f"merged statistics need the same draws, got {self.draws} and {other.draws}")
        return Resampled({**self.values, **other.values}, {**self.replicates, **other.replicates}, self.draws)

    def interval(self, name: str) -> Interval:
        """Statistic `name` on all images with the percentile interval of its draws."""
        return percentile_interval(self.values[name], self.replicates[name])

    def difference(self, baseline: Resampled, name: str) -> Interval:
        """This minus `baseline` on statistic `name`, with the paired interval."""
        if self.draws != baseline.draws:
            raise ValueError(f"paired comparison of {name!r} needs the same draws, got (images, resamples, seed) "
                             f"{self.draws} and {baseline.draws}")
        return percentile_interval(self.values[name] - baseline.values[name],
                                   self.replicates[name] - baseline.replicates[name])


def pool(runs: Sequence[Resampled]) -> Resampled:
    """The mean of several runs over the same images and draws (e.g. one model trained with several seeds): each
    statistic and each draw averaged over the runs, so its interval is over images for the seed-averaged figure."""
    if not runs:
        raise ValueError("pool needs at least one run")
    draws, names = runs[0].draws, set(runs[0].values)
    if any(run.draws != draws or set(run.values) != names for run in runs):
        raise ValueError("pooled runs need the same draws and the same statistics")
    return Resampled({name: float(np.mean([run.values[name] for run in runs])) for name in names},
                     {name: np.mean([run.replicates[name] for run in runs], axis=0) for name in names}, draws)


def resample(statistics: Statistics, n_images: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Resampled:
    """`statistics` on all `n_images` images and on each of `n_resamples` seeded draws of them.

    Fewer than two images give no replicates (every interval undefined): one image says nothing of another.
    """
    values = dict(statistics(np.arange(n_images)))
    draws = resample_indices(n_images, n_resamples, seed) if n_images >= 2 else np.empty((0, n_images), int)
    rows = [statistics(indices) for indices in draws]
    return Resampled(values, {name: np.array([row[name] for row in rows], dtype=np.float64) for name in values},
                     (n_images, n_resamples, seed))


def _named(statistic: Statistic) -> Statistics:
    return lambda indices: {"value": statistic(indices)}


def statistic_ci(statistic: Statistic, n_images: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Interval:
    """A dataset-level `statistic` (recomputed on each resample of the images) with its percentile interval."""
    return resample(_named(statistic), n_images, n_resamples, seed).interval("value")


def paired_statistic_difference(candidate: Statistic, baseline: Statistic, n_images: int,
                                n_resamples: int = N_RESAMPLES, seed: int = 0) -> Interval:
    """candidate - baseline for two statistics of the same images, each recomputed on the same draws."""
    candidate_run, baseline_run = (resample(_named(s), n_images, n_resamples, seed) for s in (candidate, baseline))
    return candidate_run.difference(baseline_run, "value")


def verdict(difference: Interval, lower_is_better: bool = False) -> Verdict:
    """"better" / "worse" only when the whole interval of candidate - baseline lies on one side of 0."""
    if not (np.isfinite(difference.low) and np.isfinite(difference.high)):
        return "within noise"
    low, high = (-difference.high, -difference.low) if lower_is_better else (difference.low, difference.high)
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "within noise"


def compare(candidate: Sequence[float], baseline: Sequence[float], lower_is_better: bool = False,
            seed: int = 0) -> tuple[Interval, Verdict]:
    """The paired difference and its verdict, in one call."""
    difference = paired_difference(candidate, baseline, seed=seed)
    return difference, verdict(difference, lower_is_better)
