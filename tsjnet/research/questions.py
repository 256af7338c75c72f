"""The four research questions as comparisons of scored runs, and the verdicts the intervals support.

A method's figure is the mean over its seeds, with the 95% bootstrap interval over images of that seed-averaged
figure (every seed is scored on the same draws, so the draws average). A comparison is the paired difference
candidate - baseline, pooled the same way; it says "better" or "worse" only when the pooled interval excludes 0
and every seed's own difference has the same sign, so a verdict holds across seeds, not on average only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tsjnet.metrics.bootstrap import Interval, Resampled, pool, verdict
from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER
from tsjnet.evaluation.judges import SHARED_KEY
from tsjnet.reports import Comparison, Figure
from tsjnet.tasks.scoring import SOURCES, cross_judged

#: dataset -> method -> one scored run per seed (a single run for a method that does not train).
Runs = Mapping[str, Mapping[str, Sequence[Resampled]]]
TASKS = ("map50", "miou")


@dataclass(frozen=True)
class Question:
    """One research question: the comparisons (candidate, baseline) that answer it, on which metrics."""

    key: str
    text: str
    pairs: tuple[tuple[str, str], ...]
    metrics: tuple[str, ...]


def questions(references: Sequence[str]) -> tuple[Question, ...]:
    """RQ1-RQ4 of the TSJNet paper over the research set's methods (`references`: baseline and untrained methods)."""
    return (
        Question("RQ1", "Does guidance from detection and segmentation together beat single-task-driven fusion?",
                 (("tsjnet", "seg_only"), ("tsjnet", "det_only")), TASKS),
        Question("RQ2", "Does the detail salience module (DSM) of the local significant-feature module help?",
                 (("tsjnet", "tsjnet_no_dsm"),), TASKS + HEADLINE_METRICS),
        Question("RQ3", "What does optimising fusion jointly with the task losses do to downstream detection and "
                 "segmentation?",
                 (("seg_only", "fusion_only"), ("det_only", "fusion_only"), ("tsjnet", "fusion_only"),
                  ("tsjnet", "infrared"), ("tsjnet", "visible"),
                  *(("tsjnet", cross_judged(source, SHARED_KEY)) for source in SOURCES)), TASKS),
        Question("RQ4", "How does TSJNet compare with other methods, across datasets?",
                 tuple(("tsjnet", other) for other in references), HEADLINE_METRICS),
    )


def _figure(interval: Interval, seeds: Sequence[float]) -> Figure:
    return Figure(mean=interval.mean, ci_low=interval.low, ci_high=interval.high, seeds=[float(v) for v in seeds])


def figure(runs: Sequence[Resampled], metric: str) -> Figure:
    """A method's seed-pooled figure with its interval and each seed's value."""
    return _figure(pool(runs).interval(metric), [run.values[metric] for run in runs])


def _paired(candidate: Sequence[Resampled], baseline: Sequence[Resampled]) -> list[tuple[Resampled, Resampled]]:
    """Seed by seed; a method that does not train (one run) pairs with every seed of the other."""
    if len(baseline) == 1 or len(candidate) == 1:
        return [(c, b) for c in candidate for b in baseline]
    if len(candidate) != len(baseline):
        raise ValueError(f"seed-by-seed comparison needs as many runs on both sides, got {len(candidate)} and "
                         f"{len(baseline)}")
    return list(zip(candidate, baseline))


def compare(question: str, candidate: str, baseline: str, runs: Mapping[str, Sequence[Resampled]],
            metric: str) -> Comparison:
    """candidate - baseline on `metric`, pooled over seeds, with the verdict that holds across seeds."""
    pairs = _paired(runs[candidate], runs[baseline])
    pooled_candidate, pooled_baseline = pool([c for c, _ in pairs]), pool([b for _, b in pairs])
    difference = pooled_candidate.difference(pooled_baseline, metric)
    per_seed = [c.values[metric] - b.values[metric] for c, b in pairs]
    word = verdict(difference, metric in LOWER_IS_BETTER)
    agree = all(np.sign(d) == np.sign(difference.mean) for d in per_seed)
    return Comparison(question=question, candidate=candidate, baseline=baseline, metric=metric,
                      difference=_figure(difference, per_seed),
                      verdict=word if agree else "within noise", pooled_verdict=word)


def comparisons(runs: Runs, main: str, references: Sequence[str]) -> list[Comparison]:
    """Every comparison of every question: RQ1-RQ3 on the labelled main dataset, RQ4 on every dataset (its metric
    names carry the dataset when it is not the main one: ``<dataset>/<metric>``)."""
    found = []
    for question in questions(references):
        for dataset, methods in runs.items():
            if question.key != "RQ4" and dataset != main:
                continue
            for candidate, baseline in question.pairs:
                if candidate not in methods or baseline not in methods:
                    continue
                for metric in question.metrics:
                    if metric in methods[candidate][0].values and metric in methods[baseline][0].values:
                        row = compare(question.key, candidate, baseline, methods, metric)
                        found.append(row if dataset == main else row.model_copy(update={"metric": f"{dataset}/{metric}"}))
    return found


def mean_ranks(figures: Mapping[str, Mapping[str, Figure]]) -> dict[str, float]:
    """Method -> its mean rank over the 13 fusion metrics (1 = best on a metric; ties share the better rank)."""
    fused = {method: values for method, values in figures.items() if all(m in values for m in HEADLINE_METRICS)}
    ranks: dict[str, list[int]] = {method: [] for method in fused}
    for metric in HEADLINE_METRICS:
        sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
        scores = {method: sign * float(values[metric].mean) for method, values in fused.items()}
        for method, score in scores.items():
            ranks[method].append(1 + sum(other < score for other in scores.values()))
    return dict(sorted(((m, float(np.mean(r))) for m, r in ranks.items()), key=lambda item: item[1]))
