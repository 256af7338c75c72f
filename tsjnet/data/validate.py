"""The validate stage's logic: manifest expectations + per-file checks -> one verdict, report and metrics.

Nothing is dropped or fixed silently: every failed expectation and every offending file appears in the
Markdown report and in the error message, so a user fixes the whole dataset in one round.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tsjnet.data.expectations import ExpectationOutcome, run_expectations
from tsjnet.data.manifest import manifest_records, read_manifest
from tsjnet.data.validate_files import FILE_CHECKS, Problem, check_files
from tsjnet.errors import DataError
from tsjnet.reports import ValidationMetrics


@dataclass(frozen=True)
class ValidationResult:
    """Everything the validate stage found about one ingested dataset."""

    manifest: Path
    root: Path
    pairs: int
    expectations: list[ExpectationOutcome]
    problems: list[Problem]

    @property
    def failed_expectations(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    @property
    def passed(self) -> bool:
        return not self.failed_expectations and not self.problems

    def metrics(self) -> dict[str, object]:
        """Counts for `dvc metrics` (flat keys per check, so `dvc metrics diff` shows what changed)."""
        by_check = {check.replace(" ", "_"): sum(p.check == check for p in self.problems) for check in FILE_CHECKS}
        return {
            "passed": self.passed,
            "pairs": self.pairs,
            "expectations": len(self.expectations),
            "expectations_failed": len(self.failed_expectations),
            "file_problems": len(self.problems),
            "files_with_problems": len({p.path for p in self.problems}),
            "problems_by_check": by_check,
        }

    def error_message(self, report: Path | None = None) -> str:
        """The failure message: every failed expectation with its rows, then every offending file."""
        lines = [f"data validation failed for {self.manifest} ({self.pairs} pairs under {self.root}): "
                 f"{len(self.failed_expectations)} failed expectation(s), {len(self.problems)} file problem(s)"]
        for outcome in self.failed_expectations:
            lines.append(f"  - expectation failed: {outcome.description}" + (f" (observed {outcome.observed})"
                                                                              if outcome.observed else ""))
            lines += [f"      {row}" for row in outcome.offending]
        lines += [f"  - [{p.check}] {_shown(p.path)}: {p.message}" for p in self.problems]
        lines.append("Fix or remove the files listed, then re-run `dvc repro`"
                     + (f"; details in {report}" if report else ""))
        return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter messages)."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def validate_dataset(manifest: str | Path, root: str | Path, max_fraction_outside: float = 0.0,
                     progress: bool = True) -> ValidationResult:
    """Run the Great Expectations suite on the manifest and the per-file checks on every pair."""
    manifest, root = Path(manifest), Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found; run the ingest stage first (`dvc repro ingest`)")
    table = read_manifest(manifest)
    records = manifest_records(table, root)
    return ValidationResult(manifest=manifest, root=root, pairs=len(table), expectations=run_expectations(table),
                            problems=check_files(records, root, max_fraction_outside, progress=progress))


def render_report(result: ValidationResult) -> str:
    """A Markdown report listing every check, its verdict and every offending row or file."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [
        "# Data validation report", "",
        f"- Verdict: **{verdict}**",
        f"- Manifest: `{_shown(result.manifest)}` ({result.pairs} pairs)",
        f"- Data root: `{_shown(result.root)}`",
        f"- Failed expectations: {len(result.failed_expectations)} of {len(result.expectations)}",
        f"- File problems: {len(result.problems)} in {len({p.path for p in result.problems})} file(s)", "",
        "## Manifest expectations (Great Expectations)", "",
        "| # | expectation | result | offending rows |", "|---|---|---|---|",
    ]
    for index, outcome in enumerate(result.expectations, start=1):
        status = "pass" if outcome.success else "**FAIL**"
        offending = "<br>".join(outcome.offending) or (f"observed {outcome.observed}" if not outcome.success else "")
        lines.append(f"| {index} | {outcome.description} | {status} | {offending} |")
    lines += ["", "## Per-file checks", "", "| check | guarantees | offending files |", "|---|---|---|"]
    for check, meaning in FILE_CHECKS.items():
        count = sum(p.check == check for p in result.problems)
        lines.append(f"| {check} | {meaning} | {count if count else 'none'} |")
    for check in FILE_CHECKS:
        found = [p for p in result.problems if p.check == check]
        if found:
            lines += ["", f"### {check}", ""] + [f"- `{_shown(p.path)}`: {p.message}" for p in found]
    return "\n".join(lines) + "\n"


def write_outputs(result: ValidationResult, report: str | Path, metrics: str | Path) -> None:
    """Write the Markdown report and the metrics JSON (parent folders created)."""
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    Path(report).write_text(render_report(result))
    ValidationMetrics(**result.metrics()).write(metrics)
