"""A tiny research set: the trainer tests' environment with 3 test pairs, two seeds, tsjnet_tiny for 2 epochs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.params import make_params
from tests.training.fusion_env import SMALL_DETECTOR, run_section, write_env
from tsjnet.config import Params


def research_params(root: Path, **research: Any) -> Params:
    """Params of the tiny set under `root` (its data and task networks must exist: `write_env`)."""
    return make_params(research_overrides(root, **research))


def research_overrides(root: Path, **research: Any) -> dict[str, Any]:
    """The conf/ values the tiny set changes (`research`: research: keys on top)."""
    return {
        "pseudolabel": {"out": str(root / "prepared")},
        "detector": {"checkpoint_dir": str(root / "detector"), **SMALL_DETECTOR},
        "segmenter": {"checkpoint": str(root / "segmenter.pt")},
        "train": run_section(root, "tsjnet", epochs=2, task_warmup_epochs=1),
        "train_baseline": run_section(root, "seafusion", model="seafusion"),
        "research": {"seeds": [0, 1], "out_dir": str(root / "research"), "report": str(root / "research.md"),
                     "metrics": str(root / "research.json"),
                     "references": [{"name": "average", "model": "classical_average"}]} | research,
    }


@pytest.fixture(scope="session")
def research_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("research")
    write_env(root, n_test=3)
    return root
