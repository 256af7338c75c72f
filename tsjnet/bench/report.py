"""Write benchmark results as JSON (for tools) and a Markdown table (for people)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tsjnet.evaluation.comparison import comparison_markdown
from tsjnet.reports import BenchReport


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as one Markdown table; the columns are every key in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows), ""]


def _is_comparison(value: Any) -> bool:
    """A `tsjnet.evaluation.comparison.compare_methods` result (rendered with its intervals and verdicts)."""
    return isinstance(value, dict) and "versus" in value


def _nested(section: dict[str, Any]) -> list[str]:
    """A section holding tables of its own: scalars as bullet lines, each row list or mapping as a titled table,
    each method comparison as its interval and verdict tables."""
    lines: list[str] = []
    for key, value in section.items():
        if _is_comparison(value):
            lines += ([""] if lines and lines[-1] else []) + [comparison_markdown(value, key)]
        elif isinstance(value, (list, dict)):
            lines += ([""] if lines and lines[-1] else []) + [f"**{key}**", ""]
            lines += _table(value if isinstance(value, list) else [value])
        else:
            lines.append(f"- {key}: {_fmt(value)}")
    return lines + ([""] if lines and lines[-1] else [])


def markdown(results: dict[str, Any]) -> str:
    """One table per section (a flat mapping is one row); a section with sub-tables gets bullets and tables."""
    lines = ["# tsjnet benchmark", "", f"Machine: {results['machine']}", ""]
    for section, rows in results.items():
        if section == "machine" or not rows:
            continue
        lines += [f"## {section}", ""]
        if isinstance(rows, dict) and any(isinstance(v, (list, dict)) for v in rows.values()):
            lines += _nested(rows)
        else:
            lines += _table(rows if isinstance(rows, list) else [rows])
    return "\n".join(lines)


def write_results(results: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    for path in (json_path, markdown_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    BenchReport(**results).write(json_path)
    markdown_path.write_text(markdown(results))
