"""Every JSON file one part of tsjnet writes and another reads has one contract (tsjnet.reports), and holds to it."""

import json
import math
from pathlib import Path

import pytest

from tests.params import make_params
from tsjnet.errors import DataError
from tsjnet.reports import (BenchReport, DetectorMetrics, FlatMetrics, FusionMetrics, ResearchReport, TaskMetrics,
                            TrainMetrics, ValidationMetrics)
from tsjnet.research.report import figure_path, render

ROOT = Path(__file__).resolve().parents[1]


def committed_files() -> dict[str, type]:
    """The committed pipeline and bench outputs, each with its contract (paths from the committed conf)."""
    params = make_params()
    return {params.validate_.metrics: ValidationMetrics, params.pseudolabel.metrics: FlatMetrics,
            params.detector.metrics: DetectorMetrics, params.segmenter.metrics: FlatMetrics,
            params.train.metrics: TrainMetrics, params.train.ablation_metrics: TrainMetrics,
            params.train_baseline.metrics: TrainMetrics, params.evaluate.metrics: FlatMetrics,
            params.evaluate.fusion_metrics: FusionMetrics, params.evaluate.task_metrics: TaskMetrics,
            "reports/bench.json": BenchReport, params.research.metrics: ResearchReport}


@pytest.mark.parametrize(("path", "contract"), committed_files().items(), ids=list(committed_files()))
def test_committed_file_holds_to_its_contract_and_round_trips(path: str, contract: type) -> None:
    text = (ROOT / path).read_text()
    assert json.loads(contract.read(ROOT / path).to_json()) == json.loads(text)


def test_the_committed_research_report_is_rendered_from_its_json() -> None:
    research = make_params().research
    expected = render(ResearchReport.read(ROOT / research.metrics), figure_path(Path(research.report)).name)
    assert (ROOT / research.report).read_text() == expected
    assert (ROOT / figure_path(Path(research.report))).is_file()


def test_every_metrics_file_of_the_pipeline_has_a_contract() -> None:
    written = {str(p.relative_to(ROOT)) for p in (ROOT / "metrics").glob("*.json")}
    assert written <= set(committed_files()), "give these files a contract in tsjnet/reports.py"


def test_a_missing_field_fails_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"epoch": 3, "train_seconds": 1.0}))  # a writer renamed `epochs`
    with pytest.raises(DataError, match=r"train.json does not match its contract TrainMetrics \(epochs: Field required"):
        TrainMetrics.read(path)


def test_an_unknown_section_or_a_wrong_type_fails(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"machine": "x", "matmul_peak": [], "fusion_latency": [],
                                "neighborhood_attention": [], "train_step": [], "speed": {}}))
    with pytest.raises(DataError, match=r"speed: Extra inputs are not permitted"):
        BenchReport.read(path)
    path.write_text(json.dumps({"ssim": "0.7"}))
    with pytest.raises(DataError, match=r"ssim.int: Input should be a valid integer"):
        FlatMetrics.read(path)
    with pytest.raises(DataError, match=r"absent.json not found"):
        FlatMetrics.read(tmp_path / "absent.json")


def test_non_finite_values_are_written_as_null_and_unset_sections_are_absent(tmp_path: Path) -> None:
    FusionMetrics({"set": {"m": {"CC": math.nan, "SSIM": 0.5}}}).write(tmp_path / "fusion.json")
    assert json.loads((tmp_path / "fusion.json").read_text()) == {"set": {"m": {"CC": None, "SSIM": 0.5}}}
    BenchReport(machine="x", matmul_peak=[], fusion_latency=[], neighborhood_attention=[],
                train_step=[]).write(tmp_path / "bench.json")
    assert "edge" not in json.loads((tmp_path / "bench.json").read_text())
