"""Which objects each sensor shows: boxes come from the visible pixels, membership from measured contrast.

An object gets a box only if enough of it survives occlusion; it counts as seen by a modality only if its
pixels stand out from their surroundings in that modality's noise-free rendering by more than the sensor noise
and a fixed minimum. That is what makes "infrared", "visible" and "fusion" box sets differ for real reasons.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import ndimage

from tsjnet.data.types import SEG_TO_DET

MIN_PIXELS = 10  # fewer visible pixels than this: hidden by occlusion (or too far), no box at all
MIN_CONTRAST = 0.05  # mean contrast (0..1 scale) below which nobody would annotate the object
NOISE_FACTOR = 1.5  # ... and it must also beat the sensor noise by this factor
Box = tuple[int, int, int, int]


def instance_boxes(instances: np.ndarray, instance_seg: dict[int, int]) -> dict[int, Box]:
    """Tight pixel-edge box (x1, y1, x2, y2; x2/y2 exclusive) per instance with at least MIN_PIXELS pixels."""
    counts = np.bincount(instances.ravel(), minlength=max(instance_seg, default=0) + 1)
    boxes: dict[int, Box] = {}
    for index, found in enumerate(ndimage.find_objects(instances), start=1):
        if found is not None and index in instance_seg and counts[index] >= MIN_PIXELS:
            rows, cols = found
            boxes[index] = (cols.start, rows.start, cols.stop, rows.stop)
    return boxes


def contrast(clean: np.ndarray, instances: np.ndarray, instance: int, box: Box) -> float:
    """Mean distance of the object's pixels from the median of its surroundings (box grown by a third).

    Medians and means (not RMS) keep a lamp behind a dark object, or a lit face on it, from making it "seen".
    """
    x1, y1, x2, y2 = box
    pad = max(2, (max(x2 - x1, y2 - y1) + 2) // 3)
    window = np.s_[max(0, y1 - pad):y2 + pad, max(0, x1 - pad):x2 + pad]
    pixels = clean[window].reshape(-1, 1 if clean.ndim == 2 else clean.shape[2])
    inside = (instances[window] == instance).ravel()
    if inside.all():
        return 0.0
    diff = pixels[inside] - np.median(pixels[~inside], axis=0)
    return float(np.mean(np.linalg.norm(diff, axis=1)) / np.sqrt(pixels.shape[1]))


def is_seen(value: float, noise: float) -> bool:
    """Contrast high enough for an annotator to box the object in this modality."""
    return value >= max(MIN_CONTRAST, NOISE_FACTOR * noise)


def modality_boxes(instances: np.ndarray, instance_seg: dict[int, int],
                   renders: dict[str, tuple[np.ndarray, float]]) -> dict[str, np.ndarray]:
    """(N, 5) float32 ``[det_class, x1, y1, x2, y2]`` per modality in `renders`, plus "fusion" = their union."""
    rows: dict[str, list[list[float]]] = {name: [] for name in (*renders, "fusion")}
    for instance, box in instance_boxes(instances, instance_seg).items():
        row = [float(SEG_TO_DET[instance_seg[instance]]), *map(float, box)]
        seen = [name for name, (clean, noise) in renders.items()
                if is_seen(contrast(clean, instances, instance, box), noise)]
        for name in seen:
            rows[name].append(row)
        if seen:
            rows["fusion"].append(row)
    return {name: np.asarray(r, np.float32).reshape(-1, 5) for name, r in rows.items()}


def who_sees(boxes: dict[str, np.ndarray]) -> Counter[str]:
    """Objects of one scene counted as seen by "both" sensors, "infrared_only" or "visible_only".

    A row of `modality_boxes` is the same in every modality that sees the object, so rows match exactly.
    """
    infrared, visible = ({tuple(row) for row in boxes[m].tolist()} for m in ("infrared", "visible"))
    return Counter({"both": len(infrared & visible), "infrared_only": len(infrared - visible),
                    "visible_only": len(visible - infrared)})
