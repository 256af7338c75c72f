"""3x3 Sobel derivatives with zero padding and 'same' size, shared by Qabf and Chen-Varshney.

Both reference implementations (Xydeas-Petrovic Qabf, Liu's ``metricChen.m``) pad with zeros, as MATLAB's
``conv2``/``filter2(..., 'same')`` do, so border pixels see a step to 0; we keep that on purpose.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def sobel_xy(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (dx, dy): right-minus-left and bottom-minus-top Sobel responses (correlation, zero padding)."""
    dx = ndimage.sobel(image, axis=1, mode="constant", cval=0.0)
    dy = ndimage.sobel(image, axis=0, mode="constant", cval=0.0)
    return dx, dy


def sobel_magnitude(image: np.ndarray) -> np.ndarray:
    """Euclidean Sobel gradient magnitude sqrt(dx^2 + dy^2)."""
    return np.hypot(*sobel_xy(image))
