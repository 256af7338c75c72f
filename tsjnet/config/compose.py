"""conf/ -> params.yaml: Hydra composition, exactly as DVC's `dvc exp run` does it (hydra.enabled in .dvc/config).

conf/config.yaml holds every parameter with its comment; conf/profile/<name>.yaml overrides what a profile changes.
params.yaml is the flat, effective result that the stages read and dvc.lock records, so selecting a profile is a
parameter change DVC sees stage by stage. `tsjnet repro --profile X` and the Prefect flows render it with this
module; `dvc exp run -S profile=X` renders the very same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONF_DIR = "conf"
CONF_NAME = "config"


class ComposeError(ValueError):
    """conf/ is missing or an override does not apply; the message names the file or override."""


def conf_dir_for(params_path: str | Path) -> Path:
    """The conf/ folder that renders `params_path` (its sibling)."""
    return Path(params_path).resolve().parent / CONF_DIR


def profiles(conf_dir: Path) -> list[str]:
    """The profile names conf/profile/ defines."""
    return sorted(path.stem for path in (conf_dir / "profile").glob("*.yaml"))


def compose(conf_dir: Path, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The composed parameters (Hydra override syntax: ``profile=paper``, ``train.epochs=3``) as plain data."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not (conf_dir / f"{CONF_NAME}.yaml").is_file():
        raise ComposeError(f"{conf_dir / CONF_NAME}.yaml not found: params.yaml is rendered from conf/ "
                           "(run from the project root)")
    try:
        with initialize_config_dir(str(conf_dir.resolve()), version_base=None):
            config = hydra_compose(config_name=CONF_NAME, overrides=list(overrides))
        OmegaConf.resolve(config)
    except (HydraException, OmegaConfBaseException) as error:
        raise ComposeError(f"cannot compose {conf_dir} with {list(overrides)}: {error}\n"
                           f"Profiles: {profiles(conf_dir)}; a new key needs '+key=value'.") from None
    return OmegaConf.to_container(config)  # type: ignore[return-value]


def flatten(prefix: str, value: Any) -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}: MLflow params are flat, and so is a list of changed keys."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, sub in value.items():
            items.update(flatten(f"{prefix}.{key}" if prefix else str(key), sub))
        return items
    return {prefix: value}


def to_yaml(values: dict[str, Any]) -> str:
    """The text DVC writes for a composed config (OmegaConf's YAML), so both writers agree byte for byte."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(values))
