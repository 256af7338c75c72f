"""Writers for evaluation results: JSON, CSV and a rich table for the terminal.

JSON has no NaN or infinity, so non-finite values (an undefined correlation, PSNR of identical images) are
written as null; the CSV keeps Python's ``nan``/``inf`` spelling, which pandas reads back.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path

from rich.table import Table

from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER, METRIC_KEYS, TWO_SOURCE_METRICS


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def write_json(result: Mapping[str, object], path: str | Path) -> Path:
    """Write `result` as indented JSON (non-finite floats -> null), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(result), indent=2, allow_nan=False) + "\n")
    return path


def write_csv(result: Mapping[str, Mapping[str, Mapping[str, float]]], path: str | Path) -> Path:
    """One row per image (column ``image`` = stem) plus a final ``mean`` row; columns in METRIC_KEYS order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {**result["per_image"], "mean": result["mean"]}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", *METRIC_KEYS])
        for name, values in rows.items():
            writer.writerow([name, *(repr(float(values[key])) for key in METRIC_KEYS)])
    return path


def metrics_table(mean: Mapping[str, float], title: str) -> Table:
    """Headline metrics with their IR (A) and VIS (B) parts and which direction is better."""
    table = Table(title=title)
    for column in ("metric", "value", "IR part (A)", "VIS part (B)", "better"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name in HEADLINE_METRICS:
        parts = (f"{mean[name + '_A']:.4f}", f"{mean[name + '_B']:.4f}") if name in TWO_SOURCE_METRICS else ("", "")
        table.add_row(name, f"{mean[name]:.4f}", *parts, "lower" if name in LOWER_IS_BETTER else "higher")
    return table
