"""Great Expectations suite for the manifest table: dataset-level rules every later stage relies on.

The context is ephemeral (in memory: nothing written, no project folder) and analytics are off, so the
check runs offline and leaves no state behind. Results keep every offending row (result_format COMPLETE,
indexed by pair name) so the report can list each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from tsjnet.data.synthscenes import SPLITS  # the project's split names (MSRS uses a subset)

if TYPE_CHECKING:
    from great_expectations.expectations.expectation import Expectation

SIZE_COLUMNS: tuple[str, ...] = ("ir_width", "ir_height", "vi_width", "vi_height")


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, in words, with every offending row ("name: values")."""

    description: str
    success: bool
    offending: list[str] = field(default_factory=list)
    observed: str = ""


def manifest_suite() -> list[Expectation]:
    """The expectations run on the manifest, in report order; each `description` says the rule in words."""
    import great_expectations as gx

    e = gx.expectations
    suite = [e.ExpectTableRowCountToBeBetween(min_value=1, description="manifest has at least one pair")]
    suite += [e.ExpectColumnValuesToNotBeNull(column=c, description=f"`{c}` is filled in every row")
              for c in ("name", "split", "ir_path", "vi_path")]
    suite += [e.ExpectColumnValuesToBeUnique(column=c, description=f"`{c}` is unique (no pair listed twice)")
              for c in ("name", "ir_path", "vi_path")]
    suite.append(e.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS),
                                               description=f"`split` is one of {', '.join(SPLITS)}"))
    suite += [e.ExpectColumnValuesToNotBeNull(column=c, description=f"`{c}` readable from the image header")
              for c in SIZE_COLUMNS]
    suite += [e.ExpectColumnValuesToBeBetween(column=c, min_value=1, description=f"`{c}` > 0") for c in SIZE_COLUMNS]
    # Rows with an unreadable size are already reported by the not-null expectations above.
    suite += [e.ExpectColumnPairValuesToBeEqual(column_A=f"ir_{d}", column_B=f"vi_{d}",
                                                ignore_row_if="either_value_is_missing",
                                                description=f"IR and VIS {d} equal")
              for d in ("width", "height")]
    return suite


def _offending(result: dict, columns: list[str]) -> list[str]:
    """"name: col=value, ..." for each unexpected row GE reported."""
    rows = result.get("unexpected_index_list") or []
    return [f"{row.get('name')}: " + ", ".join(f"{c}={row.get(c)}" for c in columns if c in row) for row in rows]


def run_expectations(manifest: pd.DataFrame) -> list[ExpectationOutcome]:
    """Validate the manifest with Great Expectations; one outcome per expectation of `manifest_suite`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("manifest").add_dataframe_asset("pairs")
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": manifest}))
    expectations = manifest_suite()
    suite = gx.ExpectationSuite(name="manifest", expectations=expectations)
    every_row = {"result_format": "COMPLETE", "unexpected_index_column_names": ["name"]}
    result = batch.validate(suite, result_format=every_row)
    by_description = {item.expectation_config.description: item for item in result.results}
    outcomes = []
    for description in (expectation.description for expectation in expectations):
        item = by_description[description]
        kwargs = item.expectation_config.kwargs
        columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        error = (item.exception_info or {}).get("exception_message")
        observed = f"error: {error}" if error else str(item.result.get("observed_value", ""))
        outcomes.append(ExpectationOutcome(description, bool(item.success), _offending(item.result, columns), observed))
    return outcomes
