"""`tsjnet spread`: two runs' metrics side by side, with the largest relative difference of each file."""

from pathlib import Path

import pytest

from tsjnet.bench.spread import spread, spread_markdown
from tsjnet.errors import DataError
from tsjnet.reports import FlatMetrics, TrainMetrics


def _run(root: Path, fused_map50: float, seconds: float) -> Path:
    FlatMetrics({"fused_map50": fused_map50, "ssim": 0.5}).write(root / "metrics" / "evaluation.json")
    TrainMetrics(epochs=2, train_seconds=seconds).write(root / "metrics" / "train.json")
    return root


def test_differences_are_measured_per_key_and_summarised(tmp_path: Path) -> None:
    result = spread(_run(tmp_path / "a", 0.2, 10.0), _run(tmp_path / "b", 0.25, 12.0))
    rows = {row["key"]: row for row in result["evaluation"]}
    assert rows["ssim"]["relative"] == 0.0
    assert rows["fused_map50"]["difference"] == pytest.approx(0.05) and rows["fused_map50"]["relative"] == pytest.approx(0.2)
    text = spread_markdown(result, "a", "b")
    assert "| evaluation | 2 | 1 | 0.2 (fused_map50) |" in text and "| train | 2 | 1 | 0.167 (train_seconds) |" in text


def test_a_run_without_metrics_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="b/metrics holds no metrics files"):
        spread(_run(tmp_path / "a", 0.2, 1.0), tmp_path / "b")
