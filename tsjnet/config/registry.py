"""Params for the register stage: what is registered under which name, and the gate a candidate must pass.

The gate reads the evaluate stage's metrics files: each is a flat JSON object ``{"metric_name": number}``
(names unique across the files). See tsjnet/registry/gate.py for the promotion rule.
"""

from typing import Literal

from pydantic import Field, field_validator

from tsjnet.config.base import Section

Direction = Literal["max", "min"]


class GateParams(Section):
    """`register.gate:` metric name -> better direction, and the margin that counts as a real improvement."""

    metrics: dict[str, Direction]
    min_delta: float = Field(ge=0.0)

    @field_validator("metrics")
    @classmethod
    def _not_empty(cls, value: dict[str, Direction]) -> dict[str, Direction]:
        if not value:
            raise ValueError("declare at least one gate metric (name: max|min); an empty gate would promote anything")
        return value


class RegisterParams(Section):
    """`register:` section: the fusion model, the two task teachers, the gate and the serving limits."""

    model_name: str
    checkpoint: str  # written by the train stage (tsjnet.registry.checkpoint format)
    detector_name: str
    detector_checkpoint: str
    segmenter_name: str
    segmenter_checkpoint: str
    # Flat gate metrics from the evaluate stage (its `evaluate.metrics` output).
    metrics_files: list[str] = Field(min_length=1)
    # What those metrics were measured with (judges, test data): files or folders whose contents, with the
    # evaluation's judge settings, make the yardstick a champion's numbers must share (tsjnet.registry.gate).
    yardstick: list[str] = Field(min_length=1)
    gate: GateParams
    max_pixels: int = Field(ge=1)  # larger serving requests are refused (HTTP 400)
    max_rows: int = Field(ge=1)  # pairs per serving request; more are refused (HTTP 400)
    # Request body limit of the scoring server (HTTP 413), set through tsjnet.registry.http_limits.
    max_body_bytes: int = Field(ge=1)
    report: str
