"""Best-value marking (direction per metric), intervals in every table, and verdicts backed by paired intervals."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from tsjnet.evaluation.report import (ReportData, ablation_line, beats_single_line, best_rows, input_label,
                                      markdown_table, render_report, same_judge_line)
from tsjnet.metrics.bootstrap import Interval, Resampled, mean_ci, resample
from tsjnet.metrics.suite import HEADLINE_METRICS, LOWER_IS_BETTER


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


def test_intervals_are_shown_and_bold_goes_by_the_mean() -> None:
    rows = {"a": {"x": Interval(0.5, 0.4, 0.6)}, "b": {"x": Interval(0.3, 0.1, 0.7)}, "c": {"x": 0.2}}
    lines = markdown_table(rows, [("x", "x")])
    assert _cells(lines, "a") == ["**0.5000 [0.4000, 0.6000]**"]
    assert _cells(lines, "b") == ["0.3000 [0.1000, 0.7000]"] and _cells(lines, "c") == ["0.2000"]
    assert _cells(markdown_table({"a": {"x": Interval(math.inf, 1.0, 2.0)}}, [("x", "x")]), "a") == ["n/a"]


N_IMAGES = 12
BASE = np.linspace(0.2, 0.6, N_IMAGES)  # per-image scores of the inputs the report compares
ALTERNATING = (-1.0) ** np.arange(N_IMAGES)


def _scores(map50: float, miou: float) -> dict[str, object]:
    return {"map50": map50, "miou": miou, "IoU": {}, "detector": "fusion"}


def _data(task: dict[str, dict[str, object]], ablation: str | None = "solo", skipped: dict[str, str] | None = None,
          draws: dict[str, Resampled] | None = None) -> ReportData:
    return ReportData(main_dataset="SynthScenes", split="test", primary="tsjnet", ablation=ablation,
                      image_counts={"SynthScenes": N_IMAGES}, fusion={"SynthScenes": {}}, task=task, grids={},
                      judges="every method's fused images go through one shared detector",
                      skipped=skipped or {}, task_draws=draws or {})


def _inputs(per_image: dict[str, tuple[np.ndarray, np.ndarray]]) -> ReportData:
    """Report data of inputs given per-image (mAP@0.5, mIoU) stand-ins; scores are their means over the images,
    resampled on the shared draws like the evaluate stage does."""
    draws = {name: resample(lambda idx, m=m, i=i: {"map50": float(m[idx].mean()), "miou": float(i[idx].mean())},
                            N_IMAGES) for name, (m, i) in per_image.items()}
    task = {name: {**mean_ci(m).fields("map50"), **mean_ci(i).fields("miou"), "IoU": {}, "detector": "fusion"}
            for name, (m, i) in per_image.items()}
    return _data(task, draws=draws)


def _difference(line: str, label: str) -> tuple[str, Interval]:
    """(verdict word, difference interval) stated for `label` in a verdict line."""
    number = r"([+-]\d\.\d{4})"
    match = re.search(rf"{re.escape(label)}:? (better|worse|within noise) \(difference {number} \[{number}, {number}\]",
                      line)
    assert match, line
    return match.group(1), Interval(*(float(match.group(k)) for k in (2, 3, 4)))


def test_better_only_when_the_paired_interval_excludes_zero() -> None:
    data = _inputs({"infrared": (BASE, BASE), "visible": (BASE - 0.1, BASE - 0.1),
                    "tsjnet": (BASE + 0.05 + 0.01 * ALTERNATING, BASE + 0.01 + 0.1 * ALTERNATING),
                    "solo": (BASE + 0.04 + 0.002 * ALTERNATING, BASE)})
    word, difference = _difference(beats_single_line(data, "map50", "mAP@0.5"), "(IR) on mAP@0.5")
    assert word == "better" and difference.low > 0 and difference.mean == 0.05
    # mIoU: a higher mean than IR, but half the images lose 0.09: the interval spans 0
    word, difference = _difference(beats_single_line(data, "miou", "mIoU"), "(IR) on mIoU")
    assert word == "within noise" and difference.mean > 0 and difference.low < 0 < difference.high
    line = ablation_line(data)
    assert line.startswith("Joint vs fusion-only training (tsjnet - solo): ")
    for label in ("mAP@0.5", "mIoU"):
        word, difference = _difference(line, label)
        assert (word == "better") == (difference.low > 0) and (word == "within noise") == (difference.low <= 0)
    assert _difference(line, "mAP@0.5")[0] == "better" and _difference(line, "mIoU")[0] == "within noise"
    assert "worse" in beats_single_line(_inputs({"infrared": (BASE, BASE), "tsjnet": (BASE - 0.1, BASE)}), "map50",
                                        "mAP@0.5")


def test_fused_vs_the_best_source_under_the_fused_images_judge() -> None:
    """IR beats the fused images under its own detector, but under the fused images' judge the fused images win:
    the gap was the judge's, and the extra verdict says so with its own paired interval."""
    cross = "infrared_judged_by_fusion"
    data = _inputs({"infrared": (BASE, BASE), "visible": (BASE - 0.2, BASE - 0.2), cross: (BASE - 0.1, BASE),
                    "tsjnet": (BASE - 0.05 + 0.002 * ALTERNATING, BASE)})
    assert _difference(beats_single_line(data, "map50", "mAP@0.5"), "(IR) on mAP@0.5")[0] == "worse"
    line = same_judge_line(data, "map50", "mAP@0.5")
    assert line is not None and line.startswith("Fused (tsjnet) vs IR, both judged by the fusion detector, on mAP@0.5")
    word, difference = _difference(line, "left out)")
    assert word == "better" and difference.mean == 0.05 and difference.low > 0
    assert input_label(cross) == "IR, judged by fusion" and input_label("infrared") == "IR"
    text = render_report(data, Path("reports/evaluation.md"))
    assert line in text and "| IR, judged by fusion |" in text
    iou_table = text.split("### Per-class IoU")[1]
    assert "| IR |" in iou_table and "judged by" not in iou_table  # same images, same segmenter: no repeated rows
    del data.task[cross]  # not scored (e.g. an older task file): no such verdict rather than a wrong one
    assert same_judge_line(data, "map50", "mAP@0.5") is None


def test_verdicts_without_draws_never_say_better() -> None:
    """No interval (e.g. the resamples are missing): a bigger number alone is 'within noise'."""
    task = {"infrared": _scores(0.4, 0.5), "visible": _scores(0.6, 0.3), "tsjnet": _scores(0.7, 0.45),
            "solo": _scores(0.65, 0.40)}
    data = _data(task)
    assert beats_single_line(data, "map50", "mAP@0.5") == (
        "Fused (tsjnet) vs the best single modality (VIS) on mAP@0.5: within noise (difference +0.1000; "
        "0.7000 vs 0.6000)")
    assert ablation_line(data) == ("Joint vs fusion-only training (tsjnet - solo): mAP@0.5 within noise (difference "
                                   "+0.0500; 0.7000 vs 0.6500), mIoU within noise (difference +0.0500; 0.4500 vs "
                                   "0.4000)")
    task["tsjnet"] = _scores(math.nan, 0.45)
    assert beats_single_line(_data(task), "map50", "mAP@0.5").endswith("on mAP@0.5: undetermined (no defined score)")


def test_report_tables_show_intervals() -> None:
    data = _inputs({"infrared": (BASE, BASE), "visible": (BASE - 0.1, BASE), "tsjnet": (BASE + 0.05, BASE)})
    per_image = {metric: BASE for metric in HEADLINE_METRICS}
    data.fusion = {"SynthScenes": {"tsjnet": {key: value for metric, values in per_image.items()
                                              for key, value in mean_ci(values).fields(metric).items()}}}
    text = render_report(data, Path("reports/evaluation.md"))
    interval = r"\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]"
    task_row = next(line for line in text.splitlines() if line.startswith("| fused: tsjnet |"))
    assert len(re.findall(interval, task_row)) == 2  # mAP@0.5 and mIoU have intervals; the rest are n/a here
    fusion_row = next(line for line in text.splitlines() if line.startswith("| tsjnet |"))
    assert len(re.findall(interval, fusion_row)) == len(HEADLINE_METRICS)
    assert "95% bootstrap interval" in text and '"better" or "worse" only when the interval excludes 0' in text


def test_ablation_not_run_says_why() -> None:
    task = {"infrared": _scores(0.4, 0.5), "visible": _scores(0.6, 0.3), "tsjnet": _scores(0.7, 0.45)}
    line = ablation_line(_data(task, skipped={"solo": "models/solo.pt not found; run `dvc repro train_solo`"}))
    assert line == ("Joint vs fusion-only training: not run "
                    "(solo: models/solo.pt not found; run `dvc repro train_solo`)")
    text = render_report(_data(task, ablation=None), Path("reports/evaluation.md"))
    assert "Joint vs fusion-only training: not run (no evaluate.ablation method configured)" in text


def test_credits_of_released_weights_are_shown_only_when_given() -> None:
    task = {"infrared": _scores(0.4, 0.5), "visible": _scores(0.6, 0.3), "tsjnet": _scores(0.7, 0.45)}
    plain = render_report(_data(task), Path("reports/evaluation.md"))
    assert "Credits:" not in plain
    credited = _data(task)
    credited.credits["seafusion_release"] = "MIT licence, Copyright (c) 2023 Linfeng Tang"
    text = render_report(credited, Path("reports/evaluation.md"))
    assert "Credits: seafusion_release: MIT licence, Copyright (c) 2023 Linfeng Tang" in text
