"""Write benchmark results as JSON (for tools) and a Markdown table (for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def markdown(results: dict[str, Any]) -> str:
    """One table per section; each row is one measurement with its columns."""
    lines = ["# tsjnet benchmark", "", f"Machine: {results['machine']}", ""]
    for section, rows in results.items():
        if section == "machine" or not rows:
            continue
        rows = rows if isinstance(rows, list) else [rows]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        lines += [f"## {section}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def write_results(results: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    for path in (json_path, markdown_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2))
    markdown_path.write_text(markdown(results))
