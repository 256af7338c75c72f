"""Gray images for the fusion metrics: float64 on the 0-255 scale, one fixed colour rule.

Published fusion numbers differ partly because evaluators turn RGB into gray differently (MATLAB
``rgb2gray``, OpenCV, PIL). Here the rule is fixed and documented: an RGB image becomes
``round_half_up(0.299 R + 0.587 G + 0.114 B)`` (ITU-R BT.601 luma, rounded to an integer level), and an
image whose channels are all equal (gray stored as RGB, as in TNO and LLVIP) is taken as gray unchanged.
For 8-bit input the luma is exact: RGB (0, 36, 12) gives 22.5 and becomes 23, where the floating-point sum
0.299 R + 0.587 G + 0.114 B lands just below 22.5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tsjnet.data.io import is_gray, read_vi

# BT.601 luma weights in thousandths, so the weighted sum of 8-bit values is an exact integer.
LUMA_WEIGHTS_PER_MILLE: tuple[int, int, int] = (299, 587, 114)


def round_half_up(x: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves upwards (numpy's `round` sends halves to even)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def to_gray(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Return `image` as (H, W) float64 on 0-255; `name` labels errors (API misuse raises ValueError).

    Accepts (H, W), (H, W, 1) and (H, W, 3) arrays of any real dtype whose values lie in [0, 255].
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        if is_gray(arr):
            arr = arr[..., 0]
        else:
            weighted = arr.astype(np.float64) @ np.asarray(LUMA_WEIGHTS_PER_MILLE, dtype=np.float64)
            arr = round_half_up(weighted / 1000.0)  # exact halves for integer input
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a (H, W) or (H, W, 3) image, got shape {arr.shape}")
    gray = arr.astype(np.float64)
    if not np.isfinite(gray).all() or gray.min(initial=0.0) < 0 or gray.max(initial=0.0) > 255:
        raise ValueError(f"{name}: values must be finite and within 0-255 (scale 0-1 images by 255 first)")
    return gray


def load_gray(path: str | Path) -> np.ndarray:
    """Read an 8-bit image file as (H, W) float64 gray; a corrupt or missing file raises DataError."""
    return to_gray(read_vi(path), name=str(path))
