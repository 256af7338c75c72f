"""CV: Chen & Varshney's human-perception-inspired fusion metric (lower is better, 0 when F equals both).

H. Chen and P. K. Varshney, "A human perception inspired quality metric for image fusion based on regional
information", Information Fusion 8(2), 2007; reference MATLAB ``metricChen.m`` (Z. Liu, used by VIFB).

* Regional saliency: lambda_S(w) = sum over the 16 x 16 block w of gS^5, gS the Sobel magnitude of source S
  (3 x 3, zero padding, 'same').
* Difference images S - F are filtered by the Mannos-Sakrison contrast sensitivity function in the frequency
  domain: CSF(r) = 2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1), with r the radial frequency on MATLAB's
  ``freqspace`` grid scaled by (W/8, H/8) (``u = W/8 * u``), i.e. r = sqrt(k_x^2 + k_y^2) / 4 for integer DFT
  indices k; D_S(w) = mean over block w of the squared filtered difference.
* CV = sum_w (lambda_A D_A + lambda_B D_B) / sum_w (lambda_A + lambda_B); the part CV_S uses source S alone.

Images whose size is not a multiple of 16 are zero-padded to whole blocks, as MATLAB's ``blkproc`` does.
Unlike Liu's code we do not min-max stretch each image to 0-255 first: every metric here sees the same
0-255 gray images, so CV compares like with like.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

from tsjnet.metrics.gradients import sobel_magnitude
from tsjnet.metrics.weighting import pooled_parts

BLOCK = 16
SALIENCY_POWER = 5


def mannos_sakrison(shape: tuple[int, int]) -> np.ndarray:
    """The CSF sampled on the half spectrum that `scipy.fft.rfft2` returns for an image of `shape`."""
    h, w = shape
    ky = fft.fftfreq(h) * h
    kx = fft.rfftfreq(w) * w
    r = np.hypot(ky[:, None], kx[None, :]) / 4.0
    return 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))


def block_view(values: np.ndarray) -> np.ndarray:
    """(H/16, W/16, 16, 16) blocks of `values`, zero-padded at the bottom/right to whole blocks."""
    h, w = values.shape
    padded = np.pad(values, ((0, -h % BLOCK), (0, -w % BLOCK)))
    rows, cols = padded.shape[0] // BLOCK, padded.shape[1] // BLOCK
    return padded.reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)


def regional_saliency(source: np.ndarray) -> np.ndarray:
    """lambda per 16 x 16 block: the sum of the Sobel magnitude to the 5th power (edges dominate)."""
    return block_view(sobel_magnitude(source) ** SALIENCY_POWER).sum(axis=(2, 3))


def regional_distortion(difference: np.ndarray, csf: np.ndarray) -> np.ndarray:
    """D per 16 x 16 block: mean squared CSF-filtered difference (what a viewer would notice)."""
    filtered = fft.irfft2(fft.rfft2(difference) * csf, s=difference.shape)
    return block_view(filtered**2).mean(axis=(2, 3))


def chen_varshney(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> tuple[float, float, float]:
    """Return (CV, CV_A, CV_B); NaN when neither source has any edge (no salient region)."""
    csf = mannos_sakrison(f.shape)
    distortion = (regional_distortion(a - f, csf), regional_distortion(b - f, csf))
    return pooled_parts(distortion, (regional_saliency(a), regional_saliency(b)))
