"""A tiny conf/ tree (base config + profiles) rendered into params.yaml, for tests of profile switching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.params import conf_values
from tsjnet.config import render_params


def write_conf(root: Path, base: dict[str, Any], profiles: dict[str, dict[str, Any]]) -> Path:
    """conf/config.yaml (the committed values with `base` merged in, profile cpu by default) and
    conf/profile/<name>.yaml; returns the rendered params."""
    conf = root / "conf"
    (conf / "profile").mkdir(parents=True, exist_ok=True)
    config = {"defaults": ["_self_", {"profile": "cpu"}], **conf_values(base)}
    (conf / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name, values in {"cpu": {}, **profiles}.items():
        body = yaml.safe_dump({"profile": name, **values}, sort_keys=False)
        (conf / "profile" / f"{name}.yaml").write_text(f"# @package _global_\n{body}")
    render_params(root / "params.yaml")
    return root / "params.yaml"
