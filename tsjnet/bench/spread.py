"""How much two pipeline runs differ: every number of their metrics/*.json side by side (`tsjnet spread`).

Issue #14 asks what is deterministic and how much the rest varies. Run the pipeline twice (another seed, another
machine, another thread count) in two checkouts and point this at both: it writes a Markdown table per metrics
file with each value of run A and run B, their difference and the relative difference, and the largest relative
difference of each file first, so the README's statement about what varies rests on a measurement.
"""

from __future__ import annotations

import math
from pathlib import Path

from tsjnet.errors import DataError
from tsjnet.orchestration import metrics_tables

#: Relative differences below this are shown as identical (float noise of the JSON round trip).
SAME = 1e-9


def _relative(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def spread(run_a: Path, run_b: Path) -> dict[str, list[dict[str, float | str]]]:
    """File stem -> one row per numeric key the two runs share: a, b, b - a, |b - a| / max(|a|, |b|)."""
    tables = []
    for run in (run_a, run_b):
        found = metrics_tables(run / "metrics")
        if not found:
            raise DataError(f"{run / 'metrics'} holds no metrics files: run the pipeline there first")
        tables.append(found)
    result = {}
    for stem in sorted(set(tables[0]) & set(tables[1])):
        a, b = tables[0][stem], tables[1][stem]
        result[stem] = [{"key": key, "a": a[key], "b": b[key], "difference": b[key] - a[key],
                         "relative": _relative(a[key], b[key])}
                        for key in sorted(set(a) & set(b)) if math.isfinite(a[key]) and math.isfinite(b[key])]
    return result


def spread_markdown(result: dict[str, list[dict[str, float | str]]], run_a: str, run_b: str) -> str:
    """The tables, with a summary line per file (largest relative difference, identical keys)."""
    lines = ["# Spread between two pipeline runs", "", "Written by `tsjnet spread` from the two runs' metrics files.",
             "", f"- A: {run_a}", f"- B: {run_b}", "",
             "| metrics file | keys | identical | largest relative difference (key) |", "|---|---:|---:|---|"]
    for stem, rows in result.items():
        worst = max(rows, key=lambda row: row["relative"], default=None)
        same = sum(row["relative"] <= SAME for row in rows)
        shown = f"{worst['relative']:.3g} ({worst['key']})" if worst else "-"
        lines.append(f"| {stem} | {len(rows)} | {same} | {shown} |")
    for stem, rows in result.items():
        lines += ["", f"## {stem}", "", "| key | A | B | B - A | relative |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {row['key']} | {row['a']:.6g} | {row['b']:.6g} | {row['difference']:+.3g} | "
                  f"{row['relative']:.3g} |" for row in rows]
    return "\n".join(lines) + "\n"
