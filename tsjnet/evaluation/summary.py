"""The flat gate metrics the registry promotes on, and the comparisons the report states.

Gate names are fixed (`fused_miou`, `fused_map50`, `ssim`, ...): params register.gate refers to them, and a
champion's tags hold them, so renaming one would break every later promotion decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tsjnet.tasks.scoring import SOURCES

#: Gate name -> fusion metric key (the primary method's mean on the main dataset).
FUSION_GATE: dict[str, str] = {"ssim": "SSIM", "vif": "VIF", "qabf": "Qabf"}
#: Gate suffix -> task metric key.
TASK_GATE: dict[str, str] = {"map50": "map50", "map": "map", "miou": "miou"}
SOURCE_PREFIX: dict[str, str] = {"infrared": "ir", "visible": "vi"}


def _finite(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def best_source(task: Mapping[str, Mapping[str, object]], key: str) -> tuple[str, float] | None:
    """(modality, value) of the better single modality on task metric `key`; None when neither has it."""
    scored = [(source, _finite(task[source].get(key))) for source in SOURCES if source in task]
    scored = [(source, value) for source, value in scored if value is not None]
    return max(scored, key=lambda item: item[1]) if scored else None


def gate_metrics(fusion: Mapping[str, float], task: Mapping[str, Mapping[str, object]],
                 primary: str) -> dict[str, float]:
    """Flat ``{name: value}``: the primary's fused task and fusion scores, each modality's, the best single one.

    A value that is undefined (NaN, or a modality without a trained detector) is left out rather than
    written as a number; the gate then reports the missing name instead of comparing garbage.
    """
    values: dict[str, float | None] = {f"fused_{gate}": _finite(task[primary].get(key))
                                       for gate, key in TASK_GATE.items()}
    values |= {gate: _finite(fusion[key]) for gate, key in FUSION_GATE.items()}
    for source, prefix in SOURCE_PREFIX.items():
        values |= {f"{prefix}_{gate}": _finite(task.get(source, {}).get(key)) for gate, key in TASK_GATE.items()}
    for gate, key in TASK_GATE.items():
        best = best_source(task, key)
        values[f"best_single_{gate}"] = best[1] if best else None
    return {name: value for name, value in values.items() if value is not None}
