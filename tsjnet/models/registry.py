"""Model registry in timm's style: thin factories registered by name, created with `create_model`."""

from __future__ import annotations

from typing import Callable

from torch import nn

_FACTORIES: dict[str, Callable[..., nn.Module]] = {}


def register_model(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: register `factory` under its function name (e.g. ``tsjnet_lite``)."""
    name = factory.__name__
    if name in _FACTORIES:
        raise ValueError(f"model {name!r} is registered twice")
    _FACTORIES[name] = factory
    return factory


def list_models() -> list[str]:
    """Names accepted by `create_model`."""
    _import_families()
    return sorted(_FACTORIES)


def create_model(name: str, **kwargs: object) -> nn.Module:
    """Build a registered model; unknown names fail with the list of known ones."""
    _import_families()
    if name not in _FACTORIES:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(_FACTORIES))}")
    return _FACTORIES[name](**kwargs)


def _import_families() -> None:
    """Import the model family modules so their factories register themselves."""
    import importlib

    for module in ("tsjnet", "seafusion", "seafusion_release", "classical"):
        importlib.import_module(f"tsjnet.models.{module}")
