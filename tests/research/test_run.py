"""The whole research set on the tiny environment: two seeds, every variant, baseline, a rule, both reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from typer.testing import CliRunner

from tests.params import write_params
from tests.research.conftest import research_overrides, research_params
from tsjnet.cli import app
from tsjnet.config.research import REQUIRED_VARIANTS
from tsjnet.evaluation.judges import SHARED_KEY
from tsjnet.reports import ResearchReport
from tsjnet.research.questions import questions
from tsjnet.research.report import render
from tsjnet.research.run import run_research
from tsjnet.tasks.scoring import cross_judged


@pytest.fixture(scope="module")
def report(research_root: Path) -> ResearchReport:
    return run_research(research_params(research_root), "cpu", "tsjnet research -S research.seeds=[0,1]")


def test_every_method_is_scored_per_seed_and_the_json_is_the_report(report: ResearchReport, research_root: Path) -> None:
    params = research_params(research_root)
    assert ResearchReport.read(params.research.metrics) == report
    assert Path(params.research.report).read_text() == render(report, "research.png")
    assert (research_root / "research.png").stat().st_size > 0  # the forest plot of RQ1-RQ3, beside the report
    assert "Written by `tsjnet research -S research.seeds=[0,1]` at commit" in render(report)


def test_report_only_re_renders_from_the_json_without_training(report: ResearchReport, research_root: Path) -> None:
    params = research_params(research_root)
    Path(params.research.report).write_text("stale")
    result = CliRunner().invoke(app, ["research", "--report-only", "--params",
                                     str(write_params(research_root / "params.yaml", research_overrides(research_root)))])
    assert result.exit_code == 0, result.output
    assert Path(params.research.report).read_text() == render(report, "research.png")
    rows = report.figures[report.main_dataset]
    assert report.images == {"SynthScenes": 3} and report.seeds == [0, 1]
    for method in (*REQUIRED_VARIANTS, "seafusion"):
        assert len(rows[method]["miou"].seeds) == 2 and len(rows[method]["SSIM"].seeds) == 2
    assert len(rows["infrared"]["map50"].seeds) == 1 and "SSIM" not in rows["infrared"]  # a source is not fused
    cross = rows[cross_judged("infrared", SHARED_KEY)]  # the same IR images under the fused images' judge
    assert cross["miou"].mean == rows["infrared"]["miou"].mean and "SSIM" not in cross
    assert any(row.question == "RQ3" and row.baseline == cross_judged("infrared", SHARED_KEY)
               for row in report.comparisons)
    assert len(rows["average"]["SSIM"].seeds) == 1  # an untrained method is scored once
    assert set(report.ranking["SynthScenes"]) == {*REQUIRED_VARIANTS, "seafusion", "average"}


def test_each_question_is_answered_and_verdicts_follow_the_intervals(report: ResearchReport) -> None:
    asked = {row.question for row in report.comparisons}
    assert asked == {question.key for question in questions([])}
    for row in report.comparisons:
        low, high = row.difference.ci_low, row.difference.ci_high
        if row.pooled_verdict == "within noise":
            assert low is None or low <= 0 <= high
        if row.verdict != "within noise":
            assert row.verdict == row.pooled_verdict
            assert all((seed > 0) == (row.difference.mean > 0) for seed in row.difference.seeds)
    text = render(report)
    assert all(f"## {q.key}: " in text for q in questions([])) and "tsjnet vs seg_only:" in text


def test_a_finished_set_resumes_without_training_again(report: ResearchReport, research_root: Path) -> None:
    params = research_params(research_root, seeds=[0])
    checkpoints = sorted((research_root / "research" / "seed0").glob("*/checkpoint.pt"))
    before = [path.stat().st_mtime_ns for path in checkpoints]
    again = run_research(params, "cpu")
    assert [path.stat().st_mtime_ns for path in checkpoints] == before and len(checkpoints) == 6
    first = report.figures["SynthScenes"]["tsjnet"]["miou"].seeds[0]
    assert again.figures["SynthScenes"]["tsjnet"]["miou"].seeds == pytest.approx([first])
