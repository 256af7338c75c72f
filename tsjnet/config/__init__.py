"""One typed view of params.yaml, the flat file rendered from conf/ (tsjnet.config.compose) that stages read.

`load_params()` reads params.yaml, applies ``key.sub=value`` overrides and validates the result; asked for another
profile (a ``profile=X`` override, or the ``TSJNET_PROFILE`` environment variable for commands outside DVC) it
composes conf/ with that profile instead. `render_params()` writes params.yaml from conf/, as `dvc exp run` does.
Unknown keys, wrong types and impossible values raise `ParamsError` naming the key.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from tsjnet.config.base import Section
from tsjnet.config.compose import ComposeError, compose, conf_dir_for, flatten, to_yaml
from tsjnet.config.data import DataParams, RemoteParams, ValidateParams
from tsjnet.config.evaluate import EvaluateParams
from tsjnet.config.loss import LossParams
from tsjnet.config.pseudolabel import PseudolabelParams
from tsjnet.config.registry import RegisterParams
from tsjnet.config.research import ResearchParams
from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.config.tracking import MlflowParams
from tsjnet.config.shipped import ShippedParams
from tsjnet.config.train import BaselineParams, TrainParams

DEFAULT_PARAMS = Path("params.yaml")


class ParamsError(ValueError):
    """params.yaml (or an override) is invalid; the message names every offending key."""


# The `register` stage's section shadows ABCMeta.register, a class method Params never uses.
warnings.filterwarnings("ignore", message='Field name "register" in "Params" shadows', category=UserWarning)


class Params(Section):
    """The whole params.yaml: conf/config.yaml with the profile applied."""

    profile: str
    seed: int
    data: DataParams
    validate_: ValidateParams = Field(alias="validate")
    remote: RemoteParams
    mlflow: MlflowParams
    pseudolabel: PseudolabelParams
    detector: DetectorParams
    segmenter: SegmenterParams
    loss: LossParams
    train: TrainParams
    train_baseline: BaselineParams
    shipped: ShippedParams  # the committed real-data model (`tsjnet ship`)
    evaluate: EvaluateParams
    register: RegisterParams = Field()  # required: bare, it would default to ABCMeta.register
    research: ResearchParams  # `tsjnet research`: the paper's research questions as experiments


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge `override` into a copy of `base` (dicts merge, everything else replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """Turn ``train.epochs=3`` into ``{"train": {"epochs": 3}}`` (value parsed as YAML)."""
    if "=" not in text:
        raise ParamsError(f"override {text!r} must look like key.sub=value")
    dotted, raw = text.split("=", 1)
    value: Any = yaml.safe_load(raw)
    for key in reversed(dotted.strip().split(".")):
        value = {key: value}
    return value


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"invalid parameters in {source}:"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        key = key.replace("validate_", "validate")
        lines.append(f"  - {key}: {item['msg']}")
    lines.append("Fix the key in conf/config.yaml (see README 'Parameters') or the override you passed.")
    return "\n".join(lines)


def resolve_params(raw: dict[str, Any], overrides: list[str] | None = None, source: str = "params") -> Params:
    """Apply overrides to a raw mapping and validate it."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source} must be a YAML mapping at top level")
    for text in overrides or []:
        raw = deep_merge(raw, parse_override(text))
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise ParamsError(_format_errors(error, source)) from None


def _split_profile(overrides: list[str]) -> tuple[str | None, list[str]]:
    """(the profile a ``profile=X`` override or TSJNET_PROFILE asks for, the other overrides)."""
    asked = [text for text in overrides if text.split("=", 1)[0].strip() == "profile"]
    profile = asked[-1].split("=", 1)[1].strip() if asked else os.environ.get("TSJNET_PROFILE") or None
    return profile, [text for text in overrides if text not in asked]


def _compose(path: Path, overrides: list[str]) -> dict[str, Any]:
    try:
        return compose(conf_dir_for(path), overrides)
    except ComposeError as error:
        raise ParamsError(str(error)) from None


def load_params(path: str | Path = DEFAULT_PARAMS, overrides: list[str] | None = None) -> Params:
    """Read and validate params.yaml (another profile: composed from conf/); raise an actionable `ParamsError`."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path} not found: run from the project root or pass --params PATH")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ParamsError(f"{path} is not valid YAML: {error}") from None
    profile, overrides = _split_profile(list(overrides or []))
    if profile and isinstance(raw, dict) and profile != raw.get("profile"):
        raw = _compose(path, [f"profile={profile}"])
    return resolve_params(raw, overrides, source=str(path))


def render_params(path: str | Path = DEFAULT_PARAMS, overrides: list[str] | None = None) -> list[str]:
    """Write params.yaml from conf/ with Hydra ``overrides`` (as `dvc exp run -S` does); return the changed keys.

    Validated before writing, so a bad override leaves params.yaml untouched. A key that differs from the file's
    previous content is listed, so a hand edit of params.yaml (which rendering replaces) never goes unnoticed.
    """
    path = Path(path)
    values = _compose(path, list(overrides or []))
    resolve_params(values, source=f"conf/ with {list(overrides or [])}")
    before = yaml.safe_load(path.read_text()) if path.is_file() else {}
    old, new = flatten("", before or {}), flatten("", values)
    changed = sorted(key for key in old.keys() | new.keys() if old.get(key, None) != new.get(key, None))
    text = to_yaml(values)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return changed

