"""Boxes from a segmentation mask: one box per connected region of a boxed class (person, bike, car).

A mask knows which pixels belong to an object but not which sensor shows it, so the same boxes serve every
modality (they match the "fusion" set: every object). Same-class regions at most 2 * `gap` pixels apart are
one object: occluders (a pole before a car, a rider on a bike) cut objects into pieces, and on SynthScenes a
2-pixel gap raised box precision from 0.60 to 0.84 at a cost of 0.005 recall. Touching objects of one class
(a row of parked cars, a group of people) still become one box: a semantic mask cannot separate them.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from tsjnet.data.types import SEG_TO_DET


def boxes_from_mask(mask: np.ndarray, min_area: int, gap: int = 0) -> np.ndarray:
    """(N, 5) float32 pixel-edge boxes ``[det_class, x1, y1, x2, y2]`` (x2, y2 exclusive), by det class.

    Objects with fewer than `min_area` pixels of their class are dropped: at that size they are label
    noise, not objects anyone would box. Each box spans its object's own pixels, never the gap bridged.
    """
    if mask.ndim != 2:
        raise ValueError(f"boxes_from_mask expects an (H, W) class-id mask, got shape {mask.shape}")
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1, 2 * gap + 1))
    rows: list[list[float]] = []
    for seg_class, det_class in sorted(SEG_TO_DET.items(), key=lambda item: item[1]):
        pixels = (mask == seg_class).astype(np.uint8)
        _, groups = cv2.connectedComponents(cv2.dilate(pixels, kernel) if gap else pixels, connectivity=8)
        objects = groups * pixels  # group id on the class's own pixels, 0 elsewhere
        areas = np.bincount(objects.ravel())
        for index, found in enumerate(ndimage.find_objects(objects), start=1):
            if found is not None and areas[index] >= min_area:
                ys, xs = found
                rows.append([det_class, xs.start, ys.start, xs.stop, ys.stop])
    return np.asarray(rows, dtype=np.float32).reshape(-1, 5)
