"""Qabf: Xydeas & Petrovic's edge-preservation index (higher is better, 1 at most).

C. S. Xydeas and V. Petrovic, "Objective image fusion performance measure", Electronics Letters 36(4), 2000.
For each image X a 3 x 3 Sobel pair (zero padding, 'same' size, MATLAB ``conv2`` orientation:
sx = conv2(X, [-1 0 1; -2 0 2; -1 0 1]), sy = conv2(X, [1 2 1; 0 0 0; -1 -2 -1])) gives the edge strength
g = sqrt(sx^2 + sy^2) and orientation a = atan(sy / sx) (pi/2 where sx = 0). For a source S and fused F:

* strength ratio G = min(gS, gF) / max(gS, gF), and G = 1 where gS = gF (including both 0);
* orientation agreement A = 1 - |aS - aF| / (pi/2);
* Q^SF = Tg / (1 + exp(kg (G - Dg))) * Ta / (1 + exp(ka (A - Da))), with Tg, kg, Dg = 0.9994, -15, 0.5 and
  Ta, ka, Da = 0.9879, -22, 0.8;
* Qabf = sum(Q^AF gA + Q^BF gB) / sum(gA + gB) (weights gS^L with L = 1).

Per-source parts: Qabf_S = sum(Q^SF gS) / sum(gS) (how well F keeps S's edges alone). Public Python
evaluators set G = gF where gS = gF, which punishes perfectly preserved weak edges: a bug, not a convention.
"""

from __future__ import annotations

import numpy as np

from tsjnet.metrics.gradients import sobel_xy
from tsjnet.metrics.weighting import pooled_parts

TG, KG, DG = 0.9994, -15.0, 0.5
TA, KA, DA = 0.9879, -22.0, 0.8


def strength_orientation(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge strength and orientation in the reference's conv2 convention (sx = -dx, sy = dy)."""
    dx, dy = sobel_xy(image)
    sx, sy = -dx, dy
    vertical = sx == 0
    angle = np.where(vertical, np.pi / 2, np.arctan(sy / np.where(vertical, 1.0, sx)))
    return np.hypot(sx, sy), angle


def edge_preservation(g_src: np.ndarray, a_src: np.ndarray, g_fused: np.ndarray, a_fused: np.ndarray) -> np.ndarray:
    """Per-pixel Q^SF: sigmoid of the strength ratio times sigmoid of the orientation agreement."""
    low, high = np.minimum(g_src, g_fused), np.maximum(g_src, g_fused)
    strength = np.divide(low, high, out=np.ones_like(high), where=high > 0)
    orientation = 1.0 - np.abs(a_src - a_fused) / (np.pi / 2)
    return TG / (1.0 + np.exp(KG * (strength - DG))) * TA / (1.0 + np.exp(KA * (orientation - DA)))


def qabf(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> tuple[float, float, float]:
    """Return (Qabf, Qabf_A, Qabf_B); NaN where the sources have no edges at all."""
    g_f, a_f = strength_orientation(f)
    (g_a, a_a), (g_b, a_b) = strength_orientation(a), strength_orientation(b)
    scores = (edge_preservation(g_a, a_a, g_f, a_f), edge_preservation(g_b, a_b, g_f, a_f))
    return pooled_parts(scores, (g_a, g_b))
