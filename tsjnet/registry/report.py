"""The promotion report (reports/promotion.json): one typed model for the register stage that writes it and the
Prefect summary that reads it.

Both sides go through `PromotionReport`, so a renamed or missing key fails loudly where the file is read
(naming the file and the field) instead of silently printing ``None``; test fakes build the same model, so
they cannot drift from the real file either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict

from tsjnet.registry.gate import GateDecision
from tsjnet.reports import Record

#: ``champion_before`` / ``champion_after`` when the model had no champion.
NO_CHAMPION = "none"
#: How to fix a missing or malformed report.
FIX = "re-run the register stage (dvc repro register)"


class PromotionReport(Record):
    """One gate decision: the candidate version, every number behind the decision, and the champion before/after.

    The field order is the on-disk key order of reports/promotion.json; it is written and read like every report
    file (`tsjnet.reports.Record`), with its own error messages.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    version: str
    promote: bool
    reason: str
    candidate: dict[str, float]
    champion: dict[str, float] | None
    improvement: dict[str, float]
    min_delta: float
    rule: str
    decision: Literal["promoted", "rejected"]
    champion_before: str
    champion_after: str
    #: True when the champion's numbers were re-measured for this decision (it had been measured with other judges
    #: or test data); its version tags then hold the new numbers
    champion_rescored: bool = False

    @classmethod
    def of(cls, model: str, version: str, decision: GateDecision, champion_before: str | None,
           rescored: bool = False) -> PromotionReport:
        """The report of `decision` on `model` `version`; `champion_before` is None when there was no champion,
        `rescored` True when its numbers were re-measured for this decision."""
        before = champion_before or NO_CHAMPION
        return cls(model=model, version=version, **decision.as_dict(),
                   decision="promoted" if decision.promote else "rejected",
                   champion_before=before, champion_after=version if decision.promote else before,
                   champion_rescored=rescored)

    def outcome(self) -> dict[str, str]:
        """The decision in words (decision, reason, champion before/after): the ``gate.*`` tags in MLflow."""
        return {"decision": self.decision, "reason": self.reason,
                "champion_before": self.champion_before, "champion_after": self.champion_after}

    @classmethod
    def missing(cls, path: Path) -> str:
        return f"promotion report {path} not found; {FIX}"

    @classmethod
    def malformed(cls, path: Path, problems: str) -> str:
        return f"promotion report {path} is malformed ({problems}); {FIX}"
