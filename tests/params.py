"""Params for tests: the committed conf/ (cpu profile) with what a test changes, never a copy of a value.

Every field of tsjnet.config that conf/config.yaml sets is required (the yaml is the one source of values), so a
test names only what it changes: ``section("train", epochs=1)``, ``make_params({"data": {"source": "msrs"}})``.
Sections merge key by key; any other value (a list, or a mapping such as ``register.gate.metrics``) is replaced.
"""

from __future__ import annotations

import copy
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tsjnet.config import Params, resolve_params
from tsjnet.config.base import Section
from tsjnet.config.compose import compose

ROOT = Path(__file__).resolve().parents[1]


@cache
def _committed() -> dict[str, Any]:
    return compose(ROOT / "conf")


def fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields under the key the yaml uses (the alias where there is one, e.g. ``validate``)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def section_type(annotation: Any) -> type[Section] | None:
    """The section class a field holds (``X`` or ``X | None``); None for plain values, lists and mappings."""
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, Section) else None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [sub for sub in map(section_type, typing.get_args(annotation)) if sub is not None]
        return found[0] if found else None
    return None


def item_type(annotation: Any) -> type[Section] | None:
    """The section class of a list field's entries (``list[MethodSpec]``), else None."""
    args = typing.get_args(annotation)
    return section_type(args[0]) if typing.get_origin(annotation) is list and args else None


def merge(model: type[BaseModel], base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides` merged into a copy of `base`: sub-sections of `model` key by key, every other value replaced."""
    fields = fields_by_key(model)
    merged = dict(base)
    for key, value in overrides.items():
        sub = section_type(fields[key].annotation) if key in fields else None
        if sub is not None and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(sub, merged[key], value)
        else:
            merged[key] = value
    return merged


def conf_values(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The committed conf/ composed (what params.yaml holds) with `overrides` merged in, as plain data."""
    return merge(Params, copy.deepcopy(_committed()), overrides or {})


def make_params(overrides: dict[str, Any] | None = None) -> Params:
    """The validated `Params` of `conf_values(overrides)`; a bad override raises ParamsError naming the key."""
    return resolve_params(conf_values(overrides), source="conf/ with a test's overrides")


def section(path: str, **overrides: Any) -> Any:
    """One typed section, e.g. ``section("loss.tsjnet", ssim=0.0)``: the committed values with `overrides`."""
    keys = path.split(".")
    nested: dict[str, Any] = overrides
    for key in reversed(keys):
        nested = {key: nested}
    node: Any = make_params(nested)
    for key in keys:
        name = next(name for name, field in type(node).model_fields.items() if (field.alias or name) == key)
        node = getattr(node, name)
    return node


def write_params(path: Path, overrides: dict[str, Any] | None = None) -> Path:
    """A complete params.yaml at `path` (the committed values with `overrides`), for stage scripts and CLIs."""
    path.write_text(yaml.safe_dump(conf_values(overrides), sort_keys=False))
    return path
