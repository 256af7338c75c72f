"""The report sections `tsjnet bench --only` can re-measure, in report order (light: the CLI imports it)."""

from enum import StrEnum


class BenchSection(StrEnum):
    """A section after the timing tables of reports/bench.json, named as its key there."""

    fusion_metrics = "fusion_metrics"
    edge = "edge"
    detector_step = "detector_step"
    fusion_quality_ivf_dev = "fusion_quality_ivf_dev"
    real_pairs = "real_pairs"
    serving = "serving"
    pipeline = "pipeline"
