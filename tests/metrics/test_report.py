"""Result writers: strict JSON (non-finite -> null), CSV with a mean row, a table with every headline metric."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from rich.console import Console

from tsjnet.metrics.report import metrics_table, write_csv, write_json
from tsjnet.metrics.suite import HEADLINE_METRICS, METRIC_KEYS


def _result() -> dict[str, dict]:
    first = {key: float(i) for i, key in enumerate(METRIC_KEYS)}
    second = {**first, "PSNR": math.inf, "SCD": math.nan}
    mean = {**first, "PSNR": math.inf, "SCD": math.nan}
    return {"mean": mean, "per_image": {"a": first, "b": second}}


def test_json_is_strict_with_null_for_non_finite(tmp_path: Path) -> None:
    path = write_json(_result(), tmp_path / "out" / "m.json")
    loaded = json.loads(path.read_text())  # a strict parser: no NaN/Infinity tokens
    assert loaded["mean"]["PSNR"] is None and loaded["per_image"]["b"]["SCD"] is None
    assert loaded["per_image"]["a"]["EN"] == 0.0


def test_csv_has_one_row_per_image_and_a_mean_row(tmp_path: Path) -> None:
    with write_csv(_result(), tmp_path / "m.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["image", *METRIC_KEYS]
    assert [row[0] for row in rows[1:]] == ["a", "b", "mean"]
    assert rows[2][1 + METRIC_KEYS.index("PSNR")] == "inf"


def test_table_lists_every_headline_metric_with_direction() -> None:
    console = Console(width=200, record=True)
    console.print(metrics_table(_result()["mean"], title="t"))
    text = console.export_text()
    first_cells = {line.strip("│┃|─ ").split(" ")[0] for line in text.splitlines()}
    assert set(HEADLINE_METRICS) <= first_cells
    assert "lower" in text and "higher" in text
