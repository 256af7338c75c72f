"""Best-value marking (direction per metric) and the report's plain-language verdicts."""

from __future__ import annotations

import math
from pathlib import Path

from tsjnet.evaluation.report import (ReportData, ablation_line, beats_single_line, best_rows, markdown_table,
                                      render_report)
from tsjnet.metrics.suite import LOWER_IS_BETTER


def _cells(lines: list[str], row: str) -> list[str]:
    line = next(line for line in lines if line.startswith(f"| {row} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def test_best_value_respects_lower_is_better() -> None:
    rows = {"a": {"SSIM": 0.7, "MSE": 10.0, "CV": 300.0}, "b": {"SSIM": 0.5, "MSE": 5.0, "CV": 400.0}}
    lines = markdown_table(rows, [("SSIM", "SSIM"), ("MSE", "MSE"), ("CV", "CV")], LOWER_IS_BETTER)
    assert _cells(lines, "a") == ["**0.7000**", "10.0000", "**300.0000**"]
    assert _cells(lines, "b") == ["0.5000", "**5.0000**", "400.0000"]


def test_ties_nan_and_flat_columns() -> None:
    assert best_rows({"a": 1.0, "b": 1.0, "c": 0.5}) == {"a", "b"}
    assert best_rows({"a": math.nan, "b": 0.2, "c": 0.1}) == {"b"}
    assert best_rows({"a": 0.0, "b": 0.0}) == set()  # nothing stands out
    assert best_rows({"a": None, "b": math.inf, "c": 2.0, "d": 1.0}, lower_is_better=True) == {"d"}
    lines = markdown_table({"a": {"x": math.nan}, "b": {"x": 1.0}, "c": {"x": 2.0}}, [("x", "x")])
    assert _cells(lines, "a") == ["n/a"] and _cells(lines, "c") == ["**2.0000**"]


def _data(task: dict[str, dict[str, object]], ablation: str | None = "solo", skipped: dict[str, str] | None = None
          ) -> ReportData:
    return ReportData(main_dataset="SynthScenes", split="test", primary="tsjnet", ablation=ablation,
                      image_counts={"SynthScenes": 2}, fusion={"SynthScenes": {}}, task=task, grids={},
                      skipped=skipped or {})


def _scores(map50: float, miou: float) -> dict[str, object]:
    return {"map50": map50, "miou": miou, "IoU": {}, "detector": "fusion"}


def test_verdict_lines() -> None:
    task = {"infrared": _scores(0.4, 0.5), "visible": _scores(0.6, 0.3), "tsjnet": _scores(0.7, 0.45),
            "solo": _scores(0.65, 0.40)}
    data = _data(task)
    assert beats_single_line(data, "map50", "mAP@0.5") == (
        "Fused (tsjnet) beats the best single modality on mAP@0.5: yes (0.7000 vs 0.6000, VIS)")
    assert beats_single_line(data, "miou", "mIoU") == (
        "Fused (tsjnet) beats the best single modality on mIoU: no (0.4500 vs 0.5000, IR)")
    assert ablation_line(data).startswith("Joint training beats fusion-only training: yes (tsjnet vs solo: "
                                          "mAP@0.5 0.7000 vs 0.6500, mIoU 0.4500 vs 0.4000")
    task["solo"] = _scores(0.75, 0.40)
    assert ablation_line(_data(task)).startswith("Joint training beats fusion-only training: no")


def test_ablation_not_run_says_why() -> None:
    task = {"infrared": _scores(0.4, 0.5), "visible": _scores(0.6, 0.3), "tsjnet": _scores(0.7, 0.45)}
    line = ablation_line(_data(task, skipped={"solo": "models/solo.pt not found; run `dvc repro train_solo`"}))
    assert line == ("Joint training beats fusion-only training: not run "
                    "(solo: models/solo.pt not found; run `dvc repro train_solo`)")
    text = render_report(_data(task, ablation=None), Path("reports/evaluation.md"))
    assert "Joint training beats fusion-only training: not run (no evaluate.ablation method configured)" in text
