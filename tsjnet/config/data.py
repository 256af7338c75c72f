"""Params for the data stages: which source to ingest, SynthScenes generation, remote storage."""

from typing import Literal

from pydantic import Field, model_validator

from tsjnet.config.base import Section


class SynthParams(Section):
    """SynthScenes generator settings (the embedded default dataset)."""

    seed: int = 0
    n_train: int = Field(48, ge=2)
    n_val: int = Field(12, ge=1)
    n_test: int = Field(16, ge=1)
    height: int = Field(192, ge=32, multiple_of=32)
    width: int = Field(256, ge=32, multiple_of=32)
    night_fraction: float = Field(0.5, ge=0.0, le=1.0)
    max_objects: int = Field(6, ge=0)


class ExtraDataset(Section):
    """A generic paired folder used for cross-dataset evaluation."""

    name: str
    ir: str
    vi: str


class DataParams(Section):
    """`data:` section: the source materialised by the ingest stage."""

    source: Literal["synth", "msrs", "paired"] = "synth"
    root: str | None = None
    splits: dict[str, str] = Field(default_factory=dict)
    out: str = "data/ingested"
    manifest: str = "data/manifest.csv"
    synth: SynthParams = SynthParams()
    extra_datasets: list[ExtraDataset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _root_needed(self) -> "DataParams":
        if self.source != "synth" and not self.root:
            raise ValueError(f"data.root is required when data.source is {self.source!r}")
        return self


class ValidateParams(Section):
    """`validate:` section: where the human-readable validation report goes."""

    report: str = "reports/validation.md"
    max_box_fraction_outside: float = Field(0.0, ge=0.0, le=1.0)


class RemoteParams(Section):
    """`remote:` section: the DVC remote (a local folder by default, S3 in production)."""

    kind: Literal["local", "s3"] = "local"
    url: str = "../tsjnet-dvc-remote"
    endpoint_url: str | None = None
