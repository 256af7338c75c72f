"""The one sample shape every dataset reader yields: an aligned IR/VIS pair with its labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Detection classes (YOLO ids in MSRS-detection-label): 0 person, 1 bicycle, 2 car.
DET_CLASSES: tuple[str, ...] = ("person", "bicycle", "car")
# Segmentation classes (MSRS Segmentation_labels pixel values).
SEG_CLASSES: tuple[str, ...] = (
    "background", "car", "person", "bike", "curve", "car_stop", "guardrail", "color_cone", "bump",
)
NUM_SEG_CLASSES = len(SEG_CLASSES)
IGNORE_INDEX = 255
# Segmentation id -> detection id for the classes that get boxes.
SEG_TO_DET: dict[int, int] = {2: 0, 3: 1, 1: 2}
MODALITIES: tuple[str, ...] = ("infrared", "visible", "fusion")


@dataclass(frozen=True)
class PairRecord:
    """Where one aligned pair and its labels live on disk (cheap: nothing decoded)."""

    name: str
    split: str
    ir_path: Path
    vi_path: Path
    mask_path: Path | None = None
    box_paths: dict[str, Path] = field(default_factory=dict)  # modality -> YOLO .txt or VOC .xml

    @property
    def is_night(self) -> bool | None:
        """MSRS/SynthScenes names end in D (day) or N (night); None when unknown."""
        last = self.name[-1:].upper()
        return {"D": False, "N": True}.get(last)


@dataclass
class Sample:
    """A decoded pair: `ir` (H, W) uint8, `vi` (H, W, 3) uint8 RGB, optional labels.

    `mask` is (H, W) uint8 class ids (IGNORE_INDEX allowed); `boxes` maps a modality to an
    (N, 5) float32 array of ``[det_class, x1, y1, x2, y2]`` in pixels.
    """

    name: str
    split: str
    ir: np.ndarray
    vi: np.ndarray
    mask: np.ndarray | None = None
    boxes: dict[str, np.ndarray] = field(default_factory=dict)
