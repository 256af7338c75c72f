"""The static street: ground (verge, sidewalks, curbs, road, lane paint, speed bumps) and building facades.

All of it lies on or beyond the ground behind every actor, so it is painted first; vertical street furniture that
can occlude or be occluded (guardrails, lamps, trees) is an actor instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tsjnet.data.synth.canvas import Camera, Canvas, Material, Point
from tsjnet.data.synth.materials import (
    BLACK, SAFETY_YELLOW, WHITE, WINDOW_GLOW, Ambient, grey, pick,
)
from tsjnet.data.types import SEG_CLASSES

NEAR, FAR = 0.5, 3000.0  # depth range (m) that covers the whole visible ground
LANE_WIDTH = 3.4
CURVE, BUMP, BACKGROUND = (SEG_CLASSES.index(name) for name in ("curve", "bump", "background"))
FACADES = ((0.55, 0.55, 0.55), (0.68, 0.64, 0.56), (0.55, 0.32, 0.24), (0.45, 0.47, 0.52), (0.75, 0.74, 0.70))


@dataclass(frozen=True)
class Road:
    """Lateral layout (m, camera at x = 0): road between `left` and `right`, then curb, then sidewalk."""

    left: float
    right: float
    curb: float
    walk: float

    @property
    def outer(self) -> tuple[float, float]:
        """Lateral positions of the sidewalks' far edges."""
        return self.left - self.curb - self.walk, self.right + self.curb + self.walk


def _flat(amb: Ambient, seg: int, rgb: tuple[float, float, float], delta: float, texture: float) -> Material:
    """An ambient-temperature ground material (returns little of the ego headlights: grazing light)."""
    return replace(amb.inert(seg, rgb, delta, texture), upright=False)


def ground_quad(cam: Camera, x0: float, x1: float, d0: float = NEAR, d1: float = FAR, h: float = 0.0) -> list[Point]:
    """Pixel corners of a ground rectangle between lateral x0..x1 and depth d0..d1."""
    return [cam.project(x0, d0, h), cam.project(x1, d0, h), cam.project(x1, d1, h), cam.project(x0, d1, h)]


def sample_road(rng: np.random.Generator) -> Road:
    """Two to four lanes with the camera in one of them."""
    width = rng.uniform(6.5, 14.0)
    left = -rng.uniform(1.6, width - 1.6)
    return Road(left=left, right=left + width, curb=rng.uniform(0.25, 0.4), walk=rng.uniform(2.0, 4.5))


def paint_ground(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, rng: np.random.Generator) -> None:
    """Verge, sidewalks and curbs (class curve) on both sides, then the asphalt and its lane paint."""
    h, w = canvas.shape
    verge = canvas.part(_flat(amb, BACKGROUND, pick(rng, ((0.20, 0.32, 0.12), (0.35, 0.30, 0.22))), -0.03, 0.3))
    canvas.poly(verge, [(-1, cam.horizon), (w + 1, cam.horizon), (w + 1, h + 1), (-1, h + 1)])
    walk = canvas.part(_flat(amb, BACKGROUND, pick(rng, ((0.45, 0.44, 0.42), (0.48, 0.34, 0.30))), -0.01, 0.12))
    curb = canvas.part(_flat(amb, CURVE, grey(rng.uniform(0.62, 0.78)), 0.025, 0.05))
    outer_left, outer_right = road.outer
    canvas.poly(walk, ground_quad(cam, outer_left, road.left - road.curb))
    canvas.poly(walk, ground_quad(cam, road.right + road.curb, outer_right))
    canvas.poly(curb, ground_quad(cam, road.left - road.curb, road.left, h=0.12))
    canvas.poly(curb, ground_quad(cam, road.right, road.right + road.curb, h=0.12))
    asphalt = canvas.part(_flat(amb, BACKGROUND, grey(rng.uniform(0.2, 0.32)), 0.0, 0.14))
    canvas.poly(asphalt, ground_quad(cam, road.left, road.right))
    _paint_lanes(canvas, cam, road, amb, rng)


def _paint_lanes(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, rng: np.random.Generator) -> None:
    """Solid edge lines and dashed lane dividers (paint is background class, slightly cooler than asphalt)."""
    paint = canvas.part(_flat(amb, BACKGROUND, WHITE, -0.01, 0.05))
    for x in (road.left + 0.25, road.right - 0.25):
        canvas.poly(paint, ground_quad(cam, x - 0.07, x + 0.07))
    lanes = max(1, round((road.right - road.left) / LANE_WIDTH))
    phase = rng.uniform(0.0, 9.0)
    for k in range(1, lanes):
        x = road.left + k * (road.right - road.left) / lanes
        for d in np.arange(1.0 + phase, 160.0, 9.0):
            canvas.poly(paint, ground_quad(cam, x - 0.07, x + 0.07, d, d + 3.0))


def paint_bump(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, depth: float) -> None:
    """A yellow/black striped speed bump across the road at `depth`."""
    yellow = canvas.part(_flat(amb, BUMP, SAFETY_YELLOW, 0.01, 0.05))
    black = canvas.part(_flat(amb, BUMP, BLACK, 0.015, 0.05))
    edges = np.arange(road.left, road.right, 0.5)
    for i, x in enumerate(edges):
        quad = [cam.project(x, depth, 0.0), cam.project(min(x + 0.5, road.right), depth, 0.0),
                cam.project(min(x + 0.5, road.right), depth + 0.9, 0.08), cam.project(x, depth + 0.9, 0.08)]
        canvas.poly(yellow if i % 2 == 0 else black, quad)


def paint_buildings(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, rng: np.random.Generator) -> None:
    """Facades parallel to the road on both sides, far ones first, with windows (some lit at night)."""
    facades: list[tuple[float, float, float, float]] = []
    for outer, side in zip(road.outer, (-1.0, 1.0)):
        d = rng.uniform(3.0, 20.0)
        while d < 220.0:
            length = rng.uniform(12.0, 45.0)
            if rng.random() < 0.8:
                facades.append((outer + side * rng.uniform(1.0, 6.0), d, d + length, rng.uniform(6.0, 28.0)))
            d += length + rng.uniform(0.0, 10.0)
    for x, d0, d1, height in sorted(facades, key=lambda f: -f[1]):
        wall = canvas.part(amb.inert(BACKGROUND, pick(rng, FACADES), 0.02, 0.08))
        canvas.poly(wall, [cam.project(x, d0), cam.project(x, d1), cam.project(x, d1, height),
                           cam.project(x, d0, height)])
        dark = canvas.part(amb.inert(BACKGROUND, (0.12, 0.14, 0.17), 0.0, 0.02))
        lit = canvas.part(Material(BACKGROUND, amb.road_ir + 0.05, (0.6, 0.55, 0.4), 0.0, WINDOW_GLOW)
                          if amb.night else amb.inert(BACKGROUND, (0.12, 0.14, 0.17), 0.0, 0.02))
        for floor in np.arange(1.0, height - 1.5, 3.0):
            for dw in np.arange(d0 + 1.0, d1 - 1.5, 3.5):
                if cam.scale(dw) * 1.5 < 1.0:  # sub-pixel window: nothing to see
                    break
                window = lit if rng.random() < 0.2 else dark
                canvas.poly(window, [cam.project(x, dw, floor), cam.project(x, dw + 1.5, floor),
                                     cam.project(x, dw + 1.5, floor + 1.6), cam.project(x, dw, floor + 1.6)])
