"""Pooling shared by Qabf and CV: both are weighted means of a per-source score over pixels or blocks.

The combined value pools the two sources' weights (sum of weighted scores over sum of weights), so a source
with more edges counts for more; each per-source part is that source's weighted mean alone.
"""

from __future__ import annotations

import numpy as np

Pair = tuple[np.ndarray, np.ndarray]


def pooled_parts(scores: Pair, weights: Pair) -> tuple[float, float, float]:
    """Return (combined, part A, part B); NaN where the weights sum to zero (nothing to weigh)."""
    nums = [float(np.sum(s * w)) for s, w in zip(scores, weights)]
    dens = [float(np.sum(w)) for w in weights]

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else float("nan")

    return ratio(sum(nums), sum(dens)), ratio(nums[0], dens[0]), ratio(nums[1], dens[1])
