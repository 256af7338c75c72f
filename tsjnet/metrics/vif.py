"""VIF: Sheikh & Bovik's multiscale pixel-domain visual information fidelity (VIFp).

H. R. Sheikh and A. C. Bovik, "Image information and visual quality", IEEE TIP 15(2), 2006; reference
MATLAB ``vifp_mscale.m`` (LIVE). For a reference R (a source) and a distorted D (the fused image):

* 4 scales s = 1..4, Gaussian window of size N = 2^(5-s) + 1 (17, 9, 5, 3) with sigma = N / 5, normalised
  like MATLAB's ``fspecial('gaussian')``; all filtering is 'valid' (no padding).
* For s > 1, R and D are first filtered with that scale's window and downsampled by 2 (every other pixel).
* Local statistics mu, sigma^2, sigma_12 from the window; g = sigma_12 / (sigma_R^2 + 1e-10),
  sv^2 = sigma_D^2 - g sigma_12, with the reference clamps in the reference order: negative variances -> 0;
  where sigma_R^2 < 1e-10: g = 0, sv^2 = sigma_D^2, sigma_R^2 = 0; where sigma_D^2 < 1e-10: g = 0, sv^2 = 0;
  where g < 0: sv^2 = sigma_D^2, g = 0; sv^2 floored at 1e-10.
* VIFp = sum over scales and pixels of log10(1 + g^2 sigma_R^2 / (sv^2 + 2)) divided by the same sum of
  log10(1 + sigma_R^2 / 2) (noise variance sigma_n^2 = 2).

The fusion score is VIF = VIFp(A, F) + VIFp(B, F). A constant reference has no information (0 / 0): NaN.
The Gaussian is separable, so each window is applied as two 1-D passes (same numbers, far fewer operations).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SCALES = 4
NOISE_VARIANCE = 2.0
EPS = 1e-10


def gaussian_window_1d(size: int) -> np.ndarray:
    """1-D factor of MATLAB's fspecial('gaussian', size, size / 5): the 2-D window is its outer product."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    w = np.exp(-(x**2) / (2.0 * (size / 5.0) ** 2))
    return w / w.sum()


def filter_valid(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Correlate with the separable window (outer(window, window)) keeping only fully covered pixels."""
    r = len(window) // 2
    rows = ndimage.correlate1d(image, window, axis=0)[r:image.shape[0] - r]
    return ndimage.correlate1d(rows, window, axis=1)[:, r:image.shape[1] - r]


def _scale_terms(ref: np.ndarray, dist: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """Numerator and denominator sums of one scale, with the reference code's clamps."""
    mu1, mu2 = filter_valid(ref, window), filter_valid(dist, window)
    s1 = np.maximum(filter_valid(ref * ref, window) - mu1 * mu1, 0.0)
    s2 = np.maximum(filter_valid(dist * dist, window) - mu2 * mu2, 0.0)
    s12 = filter_valid(ref * dist, window) - mu1 * mu2

    g = s12 / (s1 + EPS)
    sv = s2 - g * s12
    flat_ref = s1 < EPS
    g[flat_ref] = 0.0
    sv[flat_ref] = s2[flat_ref]
    s1[flat_ref] = 0.0
    flat_dist = s2 < EPS
    g[flat_dist] = 0.0
    sv[flat_dist] = 0.0
    negative = g < 0
    sv[negative] = s2[negative]
    g[negative] = 0.0
    sv = np.maximum(sv, EPS)

    num = np.log10(1.0 + g * g * s1 / (sv + NOISE_VARIANCE)).sum()
    den = np.log10(1.0 + s1 / NOISE_VARIANCE).sum()
    return float(num), float(den)


def vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    """VIFp(ref, dist): information of `ref` preserved in `dist` (1 for dist == ref); NaN for a flat ref."""
    num = den = 0.0
    for scale in range(1, SCALES + 1):
        window = gaussian_window_1d(2 ** (SCALES + 1 - scale) + 1)
        if scale > 1:
            ref = filter_valid(ref, window)[::2, ::2]
            dist = filter_valid(dist, window)[::2, ::2]
        n, d = _scale_terms(ref, dist, window)
        num += n
        den += d
    return num / den if den > 0 else float("nan")
