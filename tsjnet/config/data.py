"""Params for the data stages: which source to ingest, SynthScenes generation, remote storage."""

from typing import Literal

from pydantic import Field, model_validator

from tsjnet.config.base import Section


class SynthParams(Section):
    """SynthScenes generator settings (the embedded default dataset)."""

    seed: int
    n_train: int = Field(ge=2)
    n_val: int = Field(ge=1)
    n_test: int = Field(ge=1)
    height: int = Field(ge=32, multiple_of=32)
    width: int = Field(ge=32, multiple_of=32)
    night_fraction: float = Field(ge=0.0, le=1.0)
    max_objects: int = Field(ge=0)


class ExtraDataset(Section):
    """A generic paired folder used for cross-dataset evaluation."""

    name: str
    ir: str
    vi: str


class PairSource(Section):
    """Pairs of an MSRS-layout folder named by a names file (one name per line, relative to `root`)."""

    root: str
    names: str


class DataParams(Section):
    """`data:` section: the source materialised by the ingest stage.

    `splits` maps a split to a names file under `root`, or to a `PairSource` of its own folder, so train, val
    and test may come from different datasets (ivf-train's pairs for training, ivf-dev's for val and test).
    """

    source: Literal["synth", "msrs", "paired"]
    root: str | None
    splits: dict[str, str | PairSource]
    out: str
    manifest: str
    synth: SynthParams
    extra_datasets: list[ExtraDataset]

    @model_validator(mode="after")
    def _root_needed(self) -> "DataParams":
        own_roots = bool(self.splits) and all(isinstance(s, PairSource) for s in self.splits.values())
        if self.source != "synth" and not self.root and not own_roots:
            raise ValueError(f"data.root is required when data.source is {self.source!r} (unless every "
                             "data.splits entry names its own {root, names})")
        return self

    def source_roots(self) -> list[str]:
        """Every folder the ingest stage reads (data.root and the splits' own roots)."""
        own = [s.root for s in self.splits.values() if isinstance(s, PairSource)]
        return list(dict.fromkeys(([self.root] if self.root else []) + own))


class ValidateParams(Section):
    """`validate:` section: where the validation report and counts go, and the box tolerance."""

    report: str
    metrics: str  # the counts DVC shows as metrics
    max_box_fraction_outside: float = Field(ge=0.0, le=1.0)


class RemoteParams(Section):
    """`remote:` section: the DVC remote (a local folder in conf/config.yaml, S3 in production)."""

    kind: Literal["local", "s3"]
    url: str
    endpoint_url: str | None
