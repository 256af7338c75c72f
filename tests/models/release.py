"""The released SeAFusion with its authors' weights, loaded as every caller does (the registry's state-dict loader)."""

from pathlib import Path

from tsjnet.models.fusion import FusionModel
from tsjnet.models.seafusion_release import FETCH
from tsjnet.registry.checkpoint import load_state_dict_model


def load_seafusion_release(path: str | Path, device: str = "cpu") -> FusionModel:
    return load_state_dict_model("seafusion_release", path, device, fix=FETCH)
