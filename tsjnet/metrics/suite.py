"""All fusion metrics of one (A = IR, B = VIS, F = fused) triple, as one flat dict of floats.

Two-source metrics report the combined value and the per-source parts (``MI_A``, ``MI_B`` ...; A is always
the infrared source, B the visible one). How parts combine: MI, SCD and VIF add; MSE, CC and SSIM average;
PSNR comes from the averaged MSE; Qabf and CV pool their weights (see `weighting`). Each metric family is a
named group so the benchmark can time them separately.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tsjnet.metrics import fusion
from tsjnet.metrics.cv import chen_varshney
from tsjnet.metrics.images import to_gray
from tsjnet.metrics.qabf import qabf
from tsjnet.metrics.vif import vifp

MetricGroup = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, float]]

# Higher is better for every metric except these.
LOWER_IS_BETTER: frozenset[str] = frozenset({"MSE", "CV"})


def _parts(name: str, combined: float, part_a: float, part_b: float) -> dict[str, float]:
    return {name: combined, f"{name}_A": part_a, f"{name}_B": part_b}


def _per_source(name: str, metric: Callable[[np.ndarray, np.ndarray], float],
                combine: Callable[[float, float], float]) -> MetricGroup:
    """Group for a metric of (source, fused): the parts, and `combine` of them."""

    def group(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> dict[str, float]:
        part_a, part_b = metric(a, f), metric(b, f)
        return _parts(name, combine(part_a, part_b), part_a, part_b)

    return group


def _fused_only(name: str, metric: Callable[[np.ndarray], float]) -> MetricGroup:
    return lambda a, b, f: {name: metric(f)}


def _add(x: float, y: float) -> float:
    return x + y


def _mean(x: float, y: float) -> float:
    return (x + y) / 2.0


def _psnr(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> dict[str, float]:
    mse_a, mse_b = fusion.mse(f, a), fusion.mse(f, b)
    return _parts("PSNR", fusion.psnr_from_mse(_mean(mse_a, mse_b)), fusion.psnr_from_mse(mse_a),
                  fusion.psnr_from_mse(mse_b))


def _scd(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> dict[str, float]:
    part_a, part_b = fusion.pearson(f - b, a), fusion.pearson(f - a, b)
    return _parts("SCD", part_a + part_b, part_a, part_b)


METRIC_GROUPS: dict[str, MetricGroup] = {
    "EN": _fused_only("EN", fusion.entropy),
    "SD": _fused_only("SD", fusion.standard_deviation),
    "SF": _fused_only("SF", fusion.spatial_frequency),
    "AG": _fused_only("AG", fusion.average_gradient),
    "MI": _per_source("MI", lambda s, f: fusion.mutual_information(f, s), _add),
    "MSE": _per_source("MSE", lambda s, f: fusion.mse(f, s), _mean),
    "PSNR": _psnr,
    "CC": _per_source("CC", lambda s, f: fusion.pearson(f, s), _mean),
    "SCD": _scd,
    "SSIM": _per_source("SSIM", lambda s, f: fusion.ssim(f, s), _mean),
    "VIF": _per_source("VIF", vifp, _add),
    "Qabf": lambda a, b, f: _parts("Qabf", *qabf(a, b, f)),
    "CV": lambda a, b, f: _parts("CV", *chen_varshney(a, b, f)),
}
HEADLINE_METRICS: tuple[str, ...] = tuple(METRIC_GROUPS)
TWO_SOURCE_METRICS: tuple[str, ...] = ("MI", "MSE", "PSNR", "CC", "SCD", "SSIM", "VIF", "Qabf", "CV")
METRIC_KEYS: tuple[str, ...] = tuple(
    key for name in HEADLINE_METRICS
    for key in ((name, f"{name}_A", f"{name}_B") if name in TWO_SOURCE_METRICS else (name,))
)


def gray_triple(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert the three images to 0-255 float64 gray and check they have one size (ValueError otherwise)."""
    grays = to_gray(a, "ir"), to_gray(b, "vi"), to_gray(f, "fused")
    if len({g.shape for g in grays}) != 1:
        raise ValueError(f"ir, vi and fused must have one size, got {[g.shape for g in grays]}")
    return grays


def fusion_metrics(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> dict[str, float]:
    """Every metric of METRIC_KEYS for IR `a`, VIS `b` and fused `f` (gray or RGB arrays on 0-255)."""
    a, b, f = gray_triple(a, b, f)
    values: dict[str, float] = {}
    for group in METRIC_GROUPS.values():
        values.update(group(a, b, f))
    return {key: values[key] for key in METRIC_KEYS}
