"""reports/research_questions.md, rendered from the `ResearchReport` alone (so the Markdown and the JSON agree)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from tsjnet.metrics.bootstrap import LEVEL
from tsjnet.metrics.plots import plot_differences
from tsjnet.metrics.suite import HEADLINE_METRICS
from tsjnet.reports import Comparison, Figure, ResearchReport
from tsjnet.research.questions import TASKS, questions

LABELS = {"map50": "mAP@0.5", "map": "mAP@[.5:.95]", "miou": "mIoU", "miou_no_bg": "mIoU (no background)"}


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    digits = 1 if abs(value) >= 100 else 4 if abs(value) < 1 else 3
    return f"{value:{'+' if signed else ''}.{digits}f}"


def cell(value: Figure, signed: bool = False) -> str:
    """``0.2915 [0.2701, 0.3120]``; with several seeds, their values after it."""
    text = f"{_number(value.mean, signed)} [{_number(value.ci_low, signed)}, {_number(value.ci_high, signed)}]"
    if len(value.seeds) > 1:
        text += " (seeds " + " / ".join(_number(v, signed) for v in value.seeds) + ")"
    return text


def _label(metric: str) -> str:
    dataset, _, name = metric.rpartition("/")
    return (f"{dataset}: " if dataset else "") + LABELS.get(name, name)


def _task_table(report: ResearchReport) -> list[str]:
    rows = report.figures[report.main_dataset]
    lines = ["| input | " + " | ".join(LABELS[t] for t in TASKS) + " |", "|---|" + "---|" * len(TASKS)]
    return lines + [f"| {method} | " + " | ".join(cell(values[t]) if t in values else "n/a" for t in TASKS) + " |"
                    for method, values in rows.items()]


def _fusion_table(report: ResearchReport, dataset: str) -> list[str]:
    rows, ranks = report.figures[dataset], report.ranking[dataset]
    lines = [f"| method (mean rank) | " + " | ".join(HEADLINE_METRICS) + " |", "|---|" + "---:|" * len(HEADLINE_METRICS)]
    for method, rank in ranks.items():
        values = rows[method]
        lines.append(f"| {method} ({rank:.1f}) | " + " | ".join(
            f"{_number(values[m].mean)} [{_number(values[m].ci_low)}, {_number(values[m].ci_high)}]"
            for m in HEADLINE_METRICS) + " |")
    return lines


def _overruled(row: Comparison) -> str:
    return "" if row.verdict == row.pooled_verdict else f" (pooled: {row.pooled_verdict}, but the seeds disagree)"


def _comparison_table(rows: Sequence[Comparison]) -> list[str]:
    lines = ["| candidate | vs | metric | difference [95% CI] (per seed) | verdict |", "|---|---|---|---|---|"]
    return lines + [f"| {r.candidate} | {r.baseline} | {_label(r.metric)} | {cell(r.difference, signed=True)} | "
                    f"{r.verdict}{_overruled(r)} |" for r in rows]


def _tally_table(rows: Sequence[Comparison]) -> list[str]:
    groups: dict[tuple[str, str, str], list[Comparison]] = defaultdict(list)
    for row in rows:
        groups[(row.metric.rpartition("/")[0] or "main", row.candidate, row.baseline)].append(row)
    lines = ["| dataset | candidate | vs | better | worse | within noise | better on |", "|---|---|---|---:|---:|---:|---|"]
    for (dataset, candidate, baseline), group in groups.items():
        counts = {word: sum(r.verdict == word for r in group) for word in ("better", "worse", "within noise")}
        won = ", ".join(r.metric.rpartition("/")[2] for r in group if r.verdict == "better") or "-"
        lines.append(f"| {dataset} | {candidate} | {baseline} | {counts['better']} | {counts['worse']} | "
                     f"{counts['within noise']} | {won} |")
    return lines


def answer(rows: Sequence[Comparison]) -> str:
    """One sentence per comparison: the task-metric verdicts, and the tally over the fusion metrics."""
    by_pair: dict[tuple[str, str], list[Comparison]] = defaultdict(list)
    for row in rows:
        by_pair[(row.candidate, row.baseline)].append(row)
    parts = []
    for (candidate, baseline), group in by_pair.items():
        tasks = [f"{_label(r.metric)} {r.verdict}" for r in group if r.metric in TASKS]
        rest = [r for r in group if r.metric not in TASKS]
        if rest:
            tasks.append(f"better on {sum(r.verdict == 'better' for r in rest)}, worse on "
                         f"{sum(r.verdict == 'worse' for r in rest)} of {len(rest)} fusion metrics")
        parts.append(f"{candidate} vs {baseline}: " + ", ".join(tasks))
    return "; ".join(parts) + "." if parts else "not answered (a method it compares is missing)."


def answers(report: ResearchReport) -> list[str]:
    """One Markdown bullet per research question: the question and its verdicts."""
    return [f"- **{q.key}** {q.text} {answer([r for r in report.comparisons if r.question == q.key])}"
            for q in questions([])]


def figure_path(report_path: Path) -> Path:
    """The forest plot beside the Markdown report (same stem, .png)."""
    return report_path.with_suffix(".png")


def plot_task_comparisons(report: ResearchReport, path: Path) -> Path:
    """RQ1-RQ3's task comparisons as a forest plot: one panel per task metric, one row per comparison."""
    rows = [r for r in report.comparisons if r.question != "RQ4" and r.metric in TASKS]
    nan = float("nan")

    def entry(row: Comparison) -> tuple[str, float, float, float, list[float]]:
        d = row.difference
        return (f"{row.question} {row.candidate} vs {row.baseline}", *(nan if v is None else v for v in
                (d.mean, d.ci_low, d.ci_high)), [nan if v is None else v for v in d.seeds])

    panels = {LABELS[metric]: [entry(r) for r in rows if r.metric == metric] for metric in TASKS}
    return plot_differences(panels, path, f"Task-score differences on {report.main_dataset}, seeds "
                            f"{', '.join(map(str, report.seeds))}")


def render(report: ResearchReport, figure: str | None = None) -> str:
    """The whole report: setup, every method's figures, then each question with its table and verdicts."""
    seeds = ", ".join(map(str, report.seeds))
    lines = [f"# Research questions on {report.main_dataset} ({report.split} split)", "",
             f"Written by `{report.command}` at commit `{report.commit}`; that invocation took "
             f"{report.seconds / 60:.1f} min (a run whose checkpoint had finished is scored, not trained again). "
             f"Seeds {seeds}; {', '.join(f'{n} pairs of {d}' for d, n in report.images.items())}. "
             f"Every figure is the mean over the seeds with its {LEVEL:.0%} bootstrap interval over images (the "
             "per-seed values follow it). A verdict says better or worse only when the seed-pooled paired interval "
             "excludes 0 and every seed's difference has the same sign; otherwise it says within noise.", "",
             "Task judges: the pipeline's pretrained detectors (IR, VIS, and the shared fusion detector for every "
             "fused image) and segmenter, frozen; detection truth is the union of the IR and VIS boxes.", "",
             "## Methods", ""]
    lines += [f"- **{method}**: {what}" for method, what in report.methods.items()]
    lines += ["", "## Answers", "", *answers(report)]
    lines += ["", f"## Task scores on {report.main_dataset}", "", *_task_table(report)]
    if figure:
        lines += ["", f"![Task-score differences of RQ1-RQ3, with intervals and seeds]({figure})"]
    for question in questions([]):
        rows = [r for r in report.comparisons if r.question == question.key]
        lines += ["", f"## {question.key}: {question.text}", ""]
        lines += _tally_table(rows) if question.key == "RQ4" else _comparison_table(rows)
    for dataset in report.figures:
        lines += ["", f"## Fusion metrics on {dataset} ({report.images[dataset]} pairs), mean [95% CI], by mean rank",
                  "", *_fusion_table(report, dataset)]
    return "\n".join(lines) + "\n"


def write_markdown(report: ResearchReport, path: Path) -> Path:
    """Write the rendered report and its forest plot beside it (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = plot_task_comparisons(report, figure_path(path))
    path.write_text(render(report, figure.name))
    return path
