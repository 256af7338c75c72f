"""Pretrained teachers (detector, segmenter) as registry files that cannot run code when loaded.

A registered teacher is one file, ``teacher.pt``: the pretraining checkpoint's keys (``model`` = state dict,
``config``, the detector's ``image_size``) plus ``task``, without the optimiser state. It is read with
``torch.load(weights_only=True)`` and the network is rebuilt from the stored config by the installed tsjnet
code, so nothing pulled from a shared registry (no pickled module, no logged Python file) is ever executed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from pydantic import ValidationError
from torch import nn

from tsjnet.config.tasks import DetectorParams, SegmenterParams
from tsjnet.errors import DataError
from tsjnet.registry.checkpoint import load_weights_only

TeacherTask = Literal["detector", "segmenter"]
TEACHER_TASKS: tuple[TeacherTask, ...] = get_args(TeacherTask)
#: The file a registered teacher consists of.
TEACHER_FILE = "teacher.pt"
_FIX = ("re-create it from the pretraining stage's checkpoint (`dvc repro --force register` re-registers the "
        "teachers); never load a teacher file of unknown origin any other way")


@dataclass(frozen=True)
class TeacherCheckpoint:
    """A teacher's weights and the config that builds its network; `source` names the file in errors."""

    task: TeacherTask
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    image_size: tuple[int, int] | None = None  # the detector's input size; None for the segmenter
    source: str = field(default="", compare=False)

    @classmethod
    def read(cls, path: str | Path, task: TeacherTask | None = None, source: str | None = None) -> TeacherCheckpoint:
        """A pretraining checkpoint (give `task`) or a teacher file (its ``task`` key), read weights-only.

        `source` names the file in errors when `path` is a temporary copy (e.g. downloaded from the registry).
        """
        path = Path(path)
        source = source or str(path)
        if not path.is_file():
            raise DataError(f"{task or 'teacher'} checkpoint {source} not found: run the pretraining stage first "
                            "(dvc repro)")
        state = load_weights_only(path, f"teacher file {source}", _FIX)
        if not isinstance(state, Mapping):
            raise DataError(f"teacher file {source} holds a {type(state).__name__}, not a checkpoint; {_FIX}")
        stored = state.get("task")
        if stored is not None and (stored not in TEACHER_TASKS or (task is not None and stored != task)):
            raise DataError(f"teacher file {source} is a {stored!r} model, expected {task or TEACHER_TASKS}; {_FIX}")
        task = task or stored
        if task is None:
            raise DataError(f"teacher file {source} names no task (key 'task'); {_FIX}")
        size = state.get("image_size")
        problems = [f"a {key!r} mapping" for key in ("model", "config") if not isinstance(state.get(key), Mapping)]
        if task == "detector" and not (isinstance(size, list | tuple) and len(size) == 2):
            problems.append(f"an 'image_size' (height, width) (has {size!r})")
        if problems:
            raise DataError(f"teacher file {source} lacks {' and '.join(problems)} for a {task}; {_FIX}")
        return cls(task, dict(state["config"]), dict(state["model"]),
                   (int(size[0]), int(size[1])) if task == "detector" else None, source)

    def build(self) -> nn.Module:
        """The network rebuilt from `config` with the weights loaded strictly, in eval mode."""
        # Imported here: torchvision's detection models and smp load only when a teacher is built.
        from tsjnet.tasks.detector import build_detector
        from tsjnet.tasks.segmenter import build_segmenter

        try:
            if self.task == "detector":
                model: nn.Module = build_detector(DetectorParams.from_checkpoint(self.config), self.image_size)
            else:
                model = build_segmenter(SegmenterParams.from_checkpoint(self.config))
            model.load_state_dict(self.state_dict, strict=True)
        except (ValidationError, RuntimeError, TypeError, ValueError) as error:
            raise DataError(f"teacher file {self.source}: the {self.task} weights do not fit its stored config "
                            f"({error}); {_FIX}") from None
        return model.eval()

    def save(self, path: str | Path) -> Path:
        """Write the teacher file (pretraining checkpoint keys + ``task``; loadable by `read` and load_detector)."""
        path = Path(path)
        state: dict[str, Any] = {"task": self.task, "model": self.state_dict, "config": self.config}
        if self.image_size is not None:
            state["image_size"] = self.image_size
        torch.save(state, path)
        return path
