"""The promotion report (reports/promotion.json): one typed model for the register stage that writes it and the
Prefect summary that reads it.

Both sides go through `PromotionReport`, so a renamed or missing key fails loudly where the file is read
(naming the file and the field) instead of silently printing ``None``; test fakes build the same model, so
they cannot drift from the real file either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tsjnet.errors import DataError
from tsjnet.registry.gate import GateDecision

#: ``champion_before`` / ``champion_after`` when the model had no champion.
NO_CHAMPION = "none"


class PromotionReport(BaseModel):
    """One gate decision: the candidate version, every number behind the decision, and the champion before/after.

    The field order is the on-disk key order of reports/promotion.json.
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

    @classmethod
    def of(cls, model: str, version: str, decision: GateDecision, champion_before: str | None) -> PromotionReport:
        """The report of `decision` on `model` `version`; `champion_before` is None when there was no champion."""
        before = champion_before or NO_CHAMPION
        return cls(model=model, version=version, **decision.as_dict(),
                   decision="promoted" if decision.promote else "rejected",
                   champion_before=before, champion_after=version if decision.promote else before)

    def outcome(self) -> dict[str, str]:
        """The decision in words (decision, reason, champion before/after): the ``gate.*`` tags in MLflow."""
        return {"decision": self.decision, "reason": self.reason,
                "champion_before": self.champion_before, "champion_after": self.champion_after}

    def to_json(self) -> str:
        """The file's text: indented JSON, keys in field order (`json` keeps Python's float repr)."""
        return json.dumps(self.model_dump(mode="json"), indent=2) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the report (parent folders created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path

    @classmethod
    def read(cls, path: str | Path) -> PromotionReport:
        """Parse a report; a missing file, broken JSON or a missing/wrong/unknown field is a `DataError` naming both."""
        path = Path(path)
        fix = "re-run the register stage (dvc repro register)"
        if not path.is_file():
            raise DataError(f"promotion report {path} not found; {fix}")
        try:
            return cls.model_validate_json(path.read_text())
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, item['loc'])) or '(file)'}: {item['msg']}"
                                 for item in error.errors())
            raise DataError(f"promotion report {path} is malformed ({problems}); {fix}") from None
