"""Scene-wide lighting/heat state and colour palettes shared by scenery and actors.

Inert objects (curbs, cones, guardrails, bumps, car stops) take their IR value as the road's plus a tiny
offset: painted plastic and concrete sit at ambient temperature, which is why they are faint in thermal images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsjnet.data.synth.canvas import Material

RGB = tuple[float, float, float]

CAR_COLOURS: tuple[RGB, ...] = (
    (0.86, 0.86, 0.84), (0.62, 0.63, 0.65), (0.38, 0.38, 0.40), (0.06, 0.06, 0.07), (0.62, 0.07, 0.06),
    (0.10, 0.20, 0.55), (0.06, 0.09, 0.22), (0.70, 0.62, 0.45), (0.12, 0.32, 0.16), (0.90, 0.72, 0.10),
)
CLOTHES: tuple[RGB, ...] = (
    (0.75, 0.12, 0.10), (0.15, 0.30, 0.65), (0.85, 0.85, 0.80), (0.55, 0.55, 0.50), (0.20, 0.50, 0.25),
    (0.85, 0.70, 0.20), (0.60, 0.35, 0.55), (0.35, 0.45, 0.60), (0.70, 0.50, 0.30),
)
DARK_CLOTHES: tuple[RGB, ...] = ((0.04, 0.04, 0.05), (0.06, 0.05, 0.04), (0.03, 0.04, 0.07), (0.07, 0.07, 0.07))
SKIN: tuple[RGB, ...] = ((0.85, 0.65, 0.52), (0.72, 0.52, 0.38), (0.45, 0.30, 0.20), (0.92, 0.76, 0.64))
HAIR: tuple[RGB, ...] = ((0.05, 0.04, 0.03), (0.25, 0.16, 0.08), (0.55, 0.45, 0.30), (0.40, 0.40, 0.40))
BIKE_FRAMES: tuple[RGB, ...] = ((0.08, 0.08, 0.08), (0.70, 0.10, 0.10), (0.10, 0.25, 0.60), (0.80, 0.80, 0.80))
CONE_BODIES: tuple[RGB, ...] = ((1.0, 0.42, 0.05), (0.95, 0.30, 0.05), (0.90, 0.12, 0.08))
WHITE: RGB = (0.92, 0.92, 0.90)
BLACK: RGB = (0.05, 0.05, 0.05)
SAFETY_YELLOW: RGB = (0.95, 0.78, 0.08)
GLASS: RGB = (0.10, 0.13, 0.17)
TYRE: RGB = (0.04, 0.04, 0.04)
HEADLIGHT_GLOW: RGB = (1.6, 1.55, 1.35)
TAILLIGHT_GLOW: RGB = (0.9, 0.05, 0.04)
LAMP_GLOW: RGB = (1.4, 1.2, 0.8)
WINDOW_GLOW: RGB = (0.35, 0.28, 0.15)
# Share of people dressed in near-black: the ones night VIS loses and IR keeps.
DARK_CLOTHING_P = 0.4
# The objects only VIS shows. Thermal crossover: by day a parked car's sun-soaked body, cold engine and tyres sit
# at the road's temperature, so IR loses it while its paint stays plain to see. Parked bicycles (no rider) are
# metal at air temperature day and night.
CROSSOVER_P = 0.85         # parked cars by day that IR cannot tell from the road
PARKED_BIKE_P = 0.5        # bicycles standing without a rider


@dataclass(frozen=True)
class Ambient:
    """Day/night state: the road's IR value anchors every inert material's heat."""

    night: bool
    road_ir: float

    def inert(self, seg: int, rgb: RGB, delta: float = 0.0, texture: float = 0.04) -> Material:
        """A material at ambient temperature (`delta` = small offset from the road's IR value)."""
        return Material(seg, self.road_ir + delta, rgb, texture)

    def lamp(self, seg: int, rgb: RGB, glow: RGB, hot_ir: float) -> Material:
        """A light that glows (and warms up) only at night."""
        if self.night:
            return Material(seg, hot_ir, rgb, 0.0, glow)
        return Material(seg, self.road_ir, rgb)


def sample_ambient(rng: np.random.Generator, night: bool) -> Ambient:
    """Sun-warmed road by day, cooler at night; the IR look is otherwise the same."""
    base = rng.uniform(0.28, 0.34)
    return Ambient(night=night, road_ir=float(base if night else base + 0.07))


def pick(rng: np.random.Generator, palette: tuple[RGB, ...], spread: float = 0.06) -> RGB:
    """A palette colour with a little brightness jitter so no two objects match exactly."""
    colour = np.asarray(palette[int(rng.integers(len(palette)))]) * rng.normal(1.0, spread)
    return tuple(float(c) for c in np.clip(colour, 0.0, 1.0))  # type: ignore[return-value]


def grey(level: float) -> RGB:
    """An achromatic colour."""
    return (level, level, level)
