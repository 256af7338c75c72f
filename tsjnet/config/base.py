"""Shared base for every params section: unknown keys and wrong types fail at start-up."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A params.yaml section. `extra="forbid"` turns a typo into an error naming the key."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
