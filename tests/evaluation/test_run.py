"""End-to-end runs of the evaluate stage's library entry on the tiny SynthScenes world (see conftest.py)."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tsjnet.config.data import ExtraDataset
from tsjnet.config.evaluate import EvaluateParams
from tsjnet.data import open_dataset
from tsjnet.data.types import DET_CLASSES, SEG_CLASSES
from tsjnet.errors import DataError
from tsjnet.evaluation.run import EvaluationData, EvaluationResult, artifact_dir, log_to_mlflow, run_evaluation
from tsjnet.tasks.scoring import SOURCES, TRUTH_NAME, cross_judged, split_cross_judged
from tsjnet.metrics.bootstrap import Interval
from tsjnet.metrics.suite import HEADLINE_METRICS, METRIC_KEYS

from tests.tiny_setup import RULES, TRAINED, TinySetup
from tests.params import section

GATE_KEYS = {"fused_miou", "fused_map50", "fused_map", "ssim", "vif", "qabf", "ir_miou", "vi_miou", "ir_map50",
             "vi_map50", "ir_map", "vi_map", "best_single_miou", "best_single_map50", "best_single_map"}
METHODS = [*TRAINED, *RULES]


@pytest.fixture(scope="module")
def full_run(tiny: TinySetup, tmp_path_factory: pytest.TempPathFactory) -> tuple[EvaluateParams, EvaluationResult]:
    params = tiny.params(tmp_path_factory.mktemp("out"))
    data = EvaluationData(root=tiny.data_root, name="SynthScenes")
    return params, run_evaluation(params, data, tiny.detector, tiny.segmenter)


def test_gate_metrics_are_flat_finite_numbers(full_run: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, result = full_run
    gate = json.loads(Path(params.metrics).read_text())
    assert set(gate) == GATE_KEYS
    assert all(isinstance(v, float) and 0.0 <= v for v in gate.values())
    assert gate["best_single_miou"] == max(gate["ir_miou"], gate["vi_miou"])
    assert gate["best_single_map50"] == max(gate["ir_map50"], gate["vi_map50"])
    assert gate["fused_miou"] == result.task["tsjnet"]["miou"]
    assert gate["ssim"] == result.fusion["SynthScenes"]["tsjnet"]["SSIM"]


def test_fusion_and_task_metrics_cover_every_method(full_run: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, _ = full_run
    fusion = json.loads(Path(params.fusion_metrics).read_text())
    assert list(fusion) == ["SynthScenes"] and sorted(fusion["SynthScenes"]) == sorted(METHODS)
    for means in fusion["SynthScenes"].values():
        intervals = {f"{metric}_ci_{side}" for metric in HEADLINE_METRICS for side in ("low", "high")}
        assert set(means) == set(METRIC_KEYS) | intervals
        ssim = Interval.read(means, "SSIM")
        assert ssim.low <= ssim.mean <= ssim.high
    task = json.loads(Path(params.task_metrics).read_text())
    cross = [cross_judged(source, "fusion") for source in SOURCES]  # the sources under the primary's judge
    assert sorted(task) == sorted([*SOURCES, *METHODS, *cross])
    for name, scores in task.items():
        assert scores["detector"] == (name if name in SOURCES else "fusion")
        if name in cross:  # same images, same segmenter as the source's own row: only the detection differs
            source = split_cross_judged(name)[0]
            assert scores["miou"] == task[source]["miou"]
        assert {"map50", "map", "miou", "miou_no_bg"} <= set(scores)
        assert set(scores["IoU"]) == set(SEG_CLASSES) and set(scores["AP50"]) == set(DET_CLASSES)
        for key in ("map50", "map", "miou", "miou_no_bg"):
            interval = Interval.read(scores, key)
            assert interval.low <= interval.high or math.isnan(interval.mean), (name, key, interval)
        assert set(scores["IoU_ci_low"]) == set(scores["IoU_ci_high"]) == set(SEG_CLASSES)
        assert set(scores["AP50_ci_low"]) == set(DET_CLASSES)


def test_fused_pngs_are_native_size_rgb(tiny: TinySetup, full_run: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, _ = full_run
    records = open_dataset("msrs", tiny.data_root, "test").records
    for method in METHODS:
        files = sorted(p.stem for p in (Path(params.fused_dir) / method).glob("*.png"))
        assert files == sorted(r.name for r in records)
    fused = np.asarray(Image.open(Path(params.fused_dir) / "tsjnet" / f"{records[0].name}.png"))
    assert fused.shape == (*np.asarray(Image.open(records[0].ir_path)).shape, 3) and fused.dtype == np.uint8


def test_plots_and_figures_written(full_run: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, result = full_run
    plots = Path(params.plots_dir)
    for name, key in (("task_miou.csv", "miou"), ("task_map50.csv", "map50")):
        with (plots / name).open() as handle:
            rows = list(csv.DictReader(handle))
        assert [row["input"] for row in rows] == list(result.task)
        assert [float(row[key]) for row in rows] == pytest.approx([result.task[n][key] for n in result.task])
    figures = {p.name for p in (plots / "figures").glob("*.png")}
    for name in ("infrared", "visible", "tsjnet"):
        assert {f"iou_{name}.png", f"ap50_{name}.png", f"confusion_{name}.png"} <= figures
    assert "grid_synthscenes.png" in figures
    assert all(path.is_file() for path in result.files)


def test_report_states_verdicts_and_marks_best(full_run: tuple[EvaluateParams, EvaluationResult]) -> None:
    params, result = full_run
    text = Path(params.report).read_text()
    number = r"([+-]?\d+\.\d{4})"
    for label in ("mAP@0.5", "mIoU"):
        pattern = (rf"Fused \(tsjnet\) vs the best single modality \((?:IR|VIS)\) on {re.escape(label)}: "
                   rf"(better|worse|within noise) \(difference {number} \[{number}, {number}\]; {number} vs {number}\)")
        match = re.search(pattern, text)
        assert match, f"no {label} verdict with an interval in the report"
        key = "map50" if label == "mAP@0.5" else "miou"
        word, low, high, fused, best = match.group(1), *(float(match.group(k)) for k in (3, 4, 5, 6))
        assert fused == pytest.approx(result.gate[f"fused_{key}"], abs=1e-4)
        assert best == pytest.approx(result.gate[f"best_single_{key}"], abs=1e-4)
        # "better" only when the interval lies above 0 (and so on); printed ends may round to a signed 0.0000
        assert {"better": low >= 0, "worse": high <= 0, "within noise": low <= 0 <= high}[word], match.group(0)
    assert re.search(r"Joint vs fusion-only training \(tsjnet - tsjnet_fusion_only\): mAP@0\.5 "
                     r"(better|worse|within noise) \(difference [+-]\d\.\d{4} \[", text)
    assert "## Fusion metrics: SynthScenes (4 images)" in text and f"**{TRUTH_NAME}**" in text
    assert "every method's fused images go through one shared detector, the `blend` detector" in text
    means = result.fusion["SynthScenes"]
    for metric, pick in (("SSIM", max), ("MSE", min), ("CV", min)):  # MSE and CV: lower is better
        best = pick(means, key=lambda method: means[method][metric])
        row = next(line for line in text.splitlines() if line.startswith(f"| {best} |"))  # its fusion table row
        assert row.split("|")[2 + HEADLINE_METRICS.index(metric)].strip().startswith("**"), metric
    assert "![SynthScenes samples: IR | VIS | tsjnet" in text


def test_missing_required_checkpoint_names_file_and_stage(tiny: TinySetup, tmp_path: Path) -> None:
    params = tiny.params(tmp_path)
    methods = [m.model_copy(update={"checkpoint": str(tmp_path / "nope.pt")}) if m.name == "seafusion" else m
               for m in params.methods]
    with pytest.raises(DataError, match=r"seafusion: .*nope\.pt not found; run `dvc repro train_seafusion`"):
        run_evaluation(params.model_copy(update={"methods": methods}), EvaluationData(tiny.data_root, "SynthScenes"),
                       tiny.detector, tiny.segmenter)
    assert not Path(params.metrics).exists()


def test_extra_dataset_named_like_a_method_is_refused(tiny: TinySetup, tmp_path: Path) -> None:
    split = str(tiny.data_root / "test")
    extra = [ExtraDataset(name="max", ir=f"{split}/ir", vi=f"{split}/vi")]
    with pytest.raises(DataError, match=r"data.extra_datasets names \['max'\]"):
        run_evaluation(tiny.params(tmp_path), EvaluationData(tiny.data_root, "SynthScenes", extra), tiny.detector,
                       tiny.segmenter)


@pytest.mark.realdata
def test_cross_dataset_tno_with_classical_methods(tiny: TinySetup, ivf_dev: Path, tmp_path: Path) -> None:
    params = section("evaluate", methods=[{"name": n, "model": m} for n, m in RULES.items()], primary="average",
                     ablation=None, device="cpu").under(tmp_path)
    extra = [ExtraDataset(name="TNO", ir=str(ivf_dev / "TNO" / "ir"), vi=str(ivf_dev / "TNO" / "vi"))]
    result = run_evaluation(params, EvaluationData(tiny.data_root, "SynthScenes", extra), tiny.detector,
                            tiny.segmenter)
    assert sorted(result.fusion) == ["SynthScenes", "TNO"] and sorted(result.fusion["TNO"]) == sorted(RULES)
    tno = open_dataset("paired", ivf_dev / "TNO", preset="tno")
    for method in RULES:
        fused = sorted(p.stem for p in (tmp_path / "fused" / "TNO" / method).glob("*.png"))
        assert fused == [r.name for r in tno.records]
    # averaging keeps half of each source: it correlates with both, far above chance
    assert result.fusion["TNO"]["average"]["CC"] > 0.5
    text = result.report.read_text()
    assert "## Fusion metrics: TNO (3 images)" in text and (tmp_path / "plots" / "figures" / "grid_tno.png").is_file()
    assert "Joint vs fusion-only training: not run (no evaluate.ablation method configured)" in text


def test_log_to_mlflow_logs_gate_scores_and_every_file(full_run: tuple[EvaluateParams, EvaluationResult],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    _, result = full_run
    metrics: dict[str, float] = {}
    artifacts: list[tuple[str, str]] = []
    monkeypatch.setattr(mlflow, "log_metrics", metrics.update)
    monkeypatch.setattr(mlflow, "log_artifact", lambda path, artifact_path: artifacts.append((path, artifact_path)))
    log_to_mlflow(result)
    assert {key: metrics[key] for key in result.gate} == result.gate
    assert metrics["task.visible.miou"] == result.task["visible"]["miou"]
    assert metrics["fusion.synthscenes.laplacian.Qabf"] == result.fusion["SynthScenes"]["laplacian"]["Qabf"]
    assert all(math.isfinite(value) for value in metrics.values())
    assert sorted(path for path, _ in artifacts) == sorted(str(p) for p in result.files)
    assert (str(result.report), result.report.parent.name) in artifacts  # absolute path: folder name only
    assert artifact_dir(Path("plots/evaluate/figures/grid_tno.png")) == "plots/evaluate/figures"
