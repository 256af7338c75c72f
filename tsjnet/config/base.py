"""Shared base for every params section: unknown keys and wrong types fail at start-up."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A params.yaml section. `extra="forbid"` turns a typo into an error naming the key; fields that
    conf/config.yaml sets have no default, so a deleted key fails naming it instead of changing behaviour
    (tests/test_config.py checks that code and conf never both hold a value)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
