"""The simple fusion metrics, on (H, W) float64 gray images on the 0-255 scale (see `images.to_gray`).

Definitions (F fused, S a source; means over all pixels unless said otherwise):

* EN  = -sum_k p_k log2 p_k, p the 256-bin histogram of F (levels: round half up, clipped to 0..255)
  (Roberts et al., J. Appl. Remote Sens. 2008).
* SD  = population standard deviation of F.
* SF  = sqrt(RF^2 + CF^2), RF^2 = mean (F[i, j+1] - F[i, j])^2, CF^2 = mean (F[i+1, j] - F[i, j])^2
  (Eskicioglu & Fisher, IEEE Trans. Commun. 1995).
* AG  = mean over the (H-1) x (W-1) grid of sqrt((dx^2 + dy^2) / 2), dx, dy forward differences at (i, j)
  (Cui et al., Optics Communications 2015).
* MI(F, S) in bits from the 256 x 256 joint histogram, same level rule as EN (Qu et al., Electron. Lett. 2002).
* MSE(F, S) = mean (F - S)^2;  PSNR = 10 log10(255^2 / MSE).
* r(X, Y) = Pearson correlation; SCD part for A = r(F - B, A) (Aslantas & Bendes, AEU 2015).
* SSIM(F, S): Wang et al., IEEE TIP 2004, via scikit-image (11 x 11 Gaussian, sigma 1.5, K1 0.01, K2 0.03,
  L 255, population covariances), mean over the map without the 5-pixel border.

Undefined values (a correlation with a constant image) come out as NaN rather than an arbitrary number.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from tsjnet.metrics.images import round_half_up

LEVELS = 256
PEAK = 255.0


def gray_levels(image: np.ndarray) -> np.ndarray:
    """Integer histogram bins 0..255 for a 0-255 image (floats such as (A + B) / 2 round half up)."""
    return np.clip(round_half_up(image), 0, LEVELS - 1).astype(np.intp).ravel()


def _entropy_bits(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def entropy(f: np.ndarray) -> float:
    """EN: Shannon entropy in bits of F's 256-bin histogram."""
    return _entropy_bits(np.bincount(gray_levels(f), minlength=LEVELS) / f.size)


def standard_deviation(f: np.ndarray) -> float:
    """SD: population standard deviation (contrast)."""
    return float(np.std(f))


def spatial_frequency(f: np.ndarray) -> float:
    """SF: root of the summed mean squared row and column first differences."""
    rf2 = np.mean(np.diff(f, axis=1) ** 2)
    cf2 = np.mean(np.diff(f, axis=0) ** 2)
    return float(np.sqrt(rf2 + cf2))


def average_gradient(f: np.ndarray) -> float:
    """AG: mean of sqrt((dx^2 + dy^2) / 2) with forward differences on the (H-1) x (W-1) grid."""
    dx = f[:-1, 1:] - f[:-1, :-1]
    dy = f[1:, :-1] - f[:-1, :-1]
    return float(np.mean(np.sqrt((dx**2 + dy**2) / 2.0)))


def mutual_information(f: np.ndarray, s: np.ndarray) -> float:
    """MI(F, S) in bits: H(F) + H(S) - H(F, S) from the joint 256 x 256 histogram."""
    joint = np.bincount(gray_levels(f) * LEVELS + gray_levels(s), minlength=LEVELS * LEVELS) / f.size
    joint = joint.reshape(LEVELS, LEVELS)
    return _entropy_bits(joint.sum(axis=1)) + _entropy_bits(joint.sum(axis=0)) - _entropy_bits(joint.ravel())


def mse(f: np.ndarray, s: np.ndarray) -> float:
    """Mean squared error between F and one source."""
    return float(np.mean((f - s) ** 2))


def psnr_from_mse(value: float) -> float:
    """PSNR in dB for an 8-bit peak (255, not max(F)); +inf when the images are identical."""
    with np.errstate(divide="ignore"):
        return float(10.0 * np.log10(PEAK**2 / np.float64(value)))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation coefficient; NaN when either image is constant."""
    xc, yc = x - x.mean(), y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(xc * yc) / np.sqrt(np.sum(xc * xc) * np.sum(yc * yc)))


def ssim(f: np.ndarray, s: np.ndarray) -> float:
    """Mean SSIM with the Wang et al. Gaussian window, exactly scikit-image's Gaussian configuration."""
    return float(structural_similarity(f, s, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=PEAK, K1=0.01, K2=0.03))
