"""Turn a painted part map into sensor images: IR shows emitted heat, VIS shows reflected (or emitted) light.

Both renderers also return the noise-free image and their noise level, so visibility can be judged against
what the sensor actually delivers rather than against the scene description.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tsjnet.data.synth.canvas import Canvas, Tables

IR_NOISE, VIS_NOISE_DAY, VIS_NOISE_NIGHT = 0.012, 0.008, 0.03
NIGHT_EXPOSURE = (0.03, 0.07)  # share of daylight reaching the sensor at night (before lights and glare)
# Ego headlights at night: peak light on an upright surface, depth where it halves, angular half-width (rad),
# and how much of it flat ground returns (grazing incidence) - why dark clothes vanish against the road.
HEADLIGHT_PEAK, HEADLIGHT_REACH, HEADLIGHT_SPREAD, GROUND_RETURN = (0.5, 0.9), 15.0, 0.35, 0.2
GLARE_FLOOR = 0.6  # only lights brighter than this (headlights, lamps, tail lights) bloom; lit windows do not
# Smoke by day (a fire, a smoke grenade, exhaust): VIS sees a grey veil, long-wave IR sees through it, so people
# and cars inside it are IR-only objects in daylight. Share of day scenes, peak opacity range, grey level.
SMOKE_P, SMOKE_OPACITY, SMOKE_GREY = 0.35, (0.95, 1.0), (0.62, 0.8)


@dataclass
class Rendering:
    """`image` is what gets written; `clean` the same image before sensor noise (float, 0..1 scale)."""

    image: np.ndarray
    clean: np.ndarray
    noise: float


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int = 4) -> np.ndarray:
    """Zero-mean, roughly unit-amplitude low-frequency field (vignetting, uneven light, sensor drift)."""
    coarse = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)


def _row_ramp(shape: tuple[int, int]) -> np.ndarray:
    """0 at the top row, 1 at the bottom, as an (H, 1) column."""
    return np.linspace(0.0, 1.0, shape[0], dtype=np.float32)[:, None]


def render_ir(canvas: Canvas, tables: Tables, rng: np.random.Generator) -> Rendering:
    """Heat plus faint texture, optics blur and sensor noise; the sky warms towards the horizon."""
    shape, parts = canvas.shape, canvas.parts
    heat = tables.ir[parts]
    heat += np.where(parts == 0, 0.12 * _row_ramp(shape), 0.0).astype(np.float32)
    heat += 0.05 * tables.texture[parts] * rng.standard_normal(shape, dtype=np.float32)
    heat += 0.012 * smooth_field(rng, shape)
    clean = cv2.GaussianBlur(heat, (0, 0), sigmaX=max(0.7, shape[1] / 320.0))
    image = _to_uint8(clean + IR_NOISE * rng.standard_normal(shape, dtype=np.float32))
    return Rendering(image=image, clean=clean, noise=IR_NOISE)


def headlights(canvas: Canvas, tables: Tables, peak: float) -> np.ndarray:
    """(H, W) light from the ego car's low beams: falls off with depth and angle, weak on flat ground."""
    angle = canvas.camera.column_slopes(canvas.shape[1])
    falloff = peak / (1.0 + (canvas.depth_map(tables) / HEADLIGHT_REACH) ** 2)
    beam = falloff * np.exp(-((angle / HEADLIGHT_SPREAD) ** 2))[None, :]
    return (beam * np.where(tables.upright[canvas.parts], 1.0, GROUND_RETURN)).astype(np.float32)


def sun_shadows(canvas: Canvas, tables: Tables, rng: np.random.Generator) -> np.ndarray:
    """(H, W) daylight factor: bands where a building blocks the sun darken the ground and whoever stands there."""
    depth = canvas.depth_map(tables)
    finite = np.isfinite(depth)
    lateral = np.where(finite, canvas.camera.column_slopes(canvas.shape[1]) * depth, 0.0)
    factor = np.ones(canvas.shape, np.float32)
    for _ in range(int(rng.integers(0, 3))):
        near, length, edge = rng.uniform(3.0, 50.0), rng.uniform(5.0, 30.0), rng.uniform(1.0, 8.0)
        side = lateral >= edge if rng.random() < 0.5 else lateral <= -edge
        factor[finite & side & (depth >= near) & (depth <= near + length)] = rng.uniform(0.25, 0.45)
    return factor


def smoke_veil(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) opacity of one smoke plume: a soft-edged, lumpy blob around street level."""
    height, width = shape
    cy, cx = rng.uniform(0.45, 0.8) * height, rng.uniform(0.15, 0.85) * width
    ry, rx = rng.uniform(0.25, 0.45) * height, rng.uniform(0.2, 0.4) * width
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    blob = np.exp(-(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2) ** 2)
    lumps = np.clip(1.0 + 0.25 * smooth_field(rng, shape, cells=6), 0.0, None)
    return np.clip(rng.uniform(*SMOKE_OPACITY) * blob * lumps, 0.0, 1.0).astype(np.float32)


def render_vis(canvas: Canvas, tables: Tables, rng: np.random.Generator, night: bool) -> Rendering:
    """Textured albedo under daylight (sometimes through smoke); at night dim ambient light plus ego headlights,
    glowing lamps, glare; then noise."""
    shape, parts = canvas.shape, canvas.parts
    albedo = tables.rgb[parts]
    albedo *= (1.0 + tables.texture[parts] * rng.standard_normal(shape, dtype=np.float32))[..., None]
    sky = (parts == 0)[..., None]
    albedo = np.where(sky, albedo + (0.35 * _row_ramp(shape))[..., None] * (1.0 - albedo), albedo)
    light = (1.0 + 0.08 * smooth_field(rng, shape)) * rng.uniform(*(NIGHT_EXPOSURE if night else (0.95, 1.15)))
    if night:
        light += headlights(canvas, tables, rng.uniform(*HEADLIGHT_PEAK))
    else:
        light *= sun_shadows(canvas, tables, rng)
    clean = albedo * light[..., None]
    if not night and rng.random() < SMOKE_P:
        veil = smoke_veil(rng, shape)[..., None]
        clean = (1.0 - veil) * clean + veil * rng.uniform(*SMOKE_GREY)
    if night:
        glow = tables.glow[parts]
        if glow.any():
            glare, sigma = np.clip(glow - GLARE_FLOOR, 0.0, None), shape[1] / 128.0
            bloom = 4.0 * cv2.GaussianBlur(glare, (0, 0), sigma) + 10.0 * cv2.GaussianBlur(glare, (0, 0), 4 * sigma)
            clean += glow + bloom
        clean = cv2.GaussianBlur(clean, (0, 0), 0.6)
    noise = VIS_NOISE_NIGHT if night else VIS_NOISE_DAY
    # Luminance grain plus half as much colour grain, scaled so the total per-channel sigma is `noise`.
    grain = rng.standard_normal(shape, dtype=np.float32)[..., None] + 0.5 * rng.standard_normal((*shape, 3),
                                                                                                dtype=np.float32)
    image = _to_uint8(clean + noise * grain / np.sqrt(1.25))
    return Rendering(image=image, clean=np.clip(clean, 0.0, 1.0), noise=noise)
