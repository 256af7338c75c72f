"""Things standing on the street, each drawn as an upright billboard at its depth.

Heat follows physics, not looks: people and running cars/ridden bikes are hot whatever their colour; painted street
furniture, parked bikes and (by day, thermal crossover) parked cars sit at ambient temperature. Colour follows
looks: clothing may be near-black, cones are orange.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsjnet.data.synth.canvas import Camera, Canvas, Material, Point
from tsjnet.data.synth.materials import (
    BIKE_FRAMES, BLACK, CAR_COLOURS, CLOTHES, CONE_BODIES, CROSSOVER_P, DARK_CLOTHES, DARK_CLOTHING_P, GLASS, HAIR,
    HEADLIGHT_GLOW, LAMP_GLOW, SAFETY_YELLOW, SKIN, TAILLIGHT_GLOW, TYRE, WHITE, Ambient, grey, pick,
)
from tsjnet.data.synth.scenery import ground_quad
from tsjnet.data.types import SEG_CLASSES

CAR, PERSON, BIKE, CAR_STOP, GUARDRAIL, CONE, BACKGROUND = (
    SEG_CLASSES.index(name) for name in ("car", "person", "bike", "car_stop", "guardrail", "color_cone", "background"))


@dataclass(frozen=True)
class Billboard:
    """Maps local metres (lx right, h up; `flip` mirrors lx) on the plane at depth `d` to pixels."""

    cam: Camera
    x: float
    d: float
    flip: float = 1.0

    def __call__(self, lx: float, h: float) -> Point:
        return self.cam.project(self.x + self.flip * lx, self.d, h)

    def quad(self, x0: float, x1: float, h0: float, h1: float) -> list[Point]:
        """Axis-aligned rectangle in local metres."""
        return [self(x0, h0), self(x1, h0), self(x1, h1), self(x0, h1)]

    def px(self, metres: float) -> float:
        """A length in pixels."""
        return metres * self.cam.scale(self.d)


def _bar(canvas: Canvas, part: int, bb: Billboard, a: tuple[float, float], b: tuple[float, float], w: float) -> None:
    canvas.line(part, bb(*a), bb(*b), bb.px(w))


def _disc(canvas: Canvas, part: int, bb: Billboard, centre: tuple[float, float], rx: float, ry: float,
          ring: float = -1.0) -> None:
    canvas.ellipse(part, bb(*centre), (bb.px(rx), bb.px(ry)), bb.px(ring) if ring > 0 else -1)


def _dressed_person(canvas: Canvas, rng: np.random.Generator) -> tuple[int, int, int]:
    """A new person instance and its (legs, body) parts: warm whatever the clothes; some dressed all dark."""
    dark = rng.random() < DARK_CLOTHING_P
    upper = pick(rng, DARK_CLOTHES if dark else CLOTHES)
    lower = pick(rng, DARK_CLOTHES if dark or rng.random() < 0.3 else CLOTHES)
    instance = canvas.new_instance(PERSON, dark=dark)
    legs = canvas.part(Material(PERSON, rng.uniform(0.68, 0.76), lower, 0.05), instance)
    body = canvas.part(Material(PERSON, rng.uniform(0.74, 0.82), upper, 0.05), instance)
    return instance, legs, body


def _head(canvas: Canvas, bb: Billboard, rng: np.random.Generator, instance: int, centre: tuple[float, float],
          radius: float) -> None:
    """Hair behind, face in front (skipped when seen from behind): the hottest part of a person in IR."""
    hair = canvas.part(Material(PERSON, 0.86, pick(rng, HAIR), 0.05), instance)
    _disc(canvas, hair, bb, (centre[0], centre[1] + 0.15 * radius), radius, 1.05 * radius)
    if rng.random() < 0.6:
        face = canvas.part(Material(PERSON, 0.93, pick(rng, SKIN), 0.02), instance)
        _disc(canvas, face, bb, (centre[0], centre[1] - 0.15 * radius), 0.85 * radius, 0.9 * radius)


def draw_person(canvas: Canvas, bb: Billboard, rng: np.random.Generator) -> None:
    """A standing or walking pedestrian: legs, torso, arms, head."""
    t = rng.uniform(1.55, 1.9)
    instance, legs, body = _dressed_person(canvas, rng)
    stride, swing = rng.uniform(0.0, 0.14) * t, rng.uniform(-0.05, 0.05) * t
    for side in (-1.0, 1.0):
        _bar(canvas, legs, bb, (side * 0.05 * t, 0.5 * t), (side * (0.05 * t + stride / 2), 0.02 * t), 0.09 * t)
    canvas.poly(body, [bb(-0.12 * t, 0.81 * t), bb(0.12 * t, 0.81 * t), bb(0.1 * t, 0.47 * t), bb(-0.1 * t, 0.47 * t)])
    for side in (-1.0, 1.0):
        _bar(canvas, body, bb, (side * 0.12 * t, 0.79 * t), (side * (0.15 * t) + side * swing, 0.46 * t), 0.06 * t)
    _head(canvas, bb, rng, instance, (0.0, 0.92 * t), 0.065 * t)


def draw_bike(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator, ridden: bool = True) -> None:
    """A bicycle seen from the side, with its rider (bike pixels: class bike; rider: class person) or parked.

    A ridden bike is warm (tyres on the road, the rider's heat); a parked one is metal at air temperature.
    """
    bike = canvas.new_instance(BIKE)
    tyre_ir, frame_ir = (rng.uniform(0.48, 0.58), rng.uniform(0.45, 0.55)) if ridden else (amb.road_ir,) * 2
    tyre = canvas.part(Material(BIKE, tyre_ir, TYRE, 0.02), bike)
    frame = canvas.part(Material(BIKE, frame_ir, pick(rng, BIKE_FRAMES), 0.02), bike)
    r = 0.34
    rear, front, crank, seat = (-0.52, r), (0.52, r), (0.0, 0.3), (-0.18, 0.9)
    head, handle = (0.38, 0.86), (0.34, 1.02)
    for hub in (rear, front):
        _disc(canvas, tyre, bb, hub, r, r, ring=0.07)
    tubes = ((rear, crank), (rear, seat), (seat, crank), (crank, head), (seat, head), (head, front), (head, handle))
    for a, b in tubes:
        _bar(canvas, frame, bb, a, b, 0.05)
    if not ridden:
        return
    rider, legs, body = _dressed_person(canvas, rng)
    hip, shoulder, knee, pedal = (-0.16, 0.98), (0.08, 1.48), (0.1, 0.68), (0.04, 0.2)
    _bar(canvas, legs, bb, hip, knee, 0.14)
    _bar(canvas, legs, bb, knee, pedal, 0.11)
    _bar(canvas, body, bb, hip, shoulder, 0.3)
    _bar(canvas, body, bb, shoulder, handle, 0.09)
    _head(canvas, bb, rng, rider, (0.17, 1.64), 0.11)


def draw_car(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator, view: str) -> None:
    """A car seen from the front (oncoming), the rear, or the side (parked: engine off, cool in IR).

    By day most parked cars are in thermal crossover (CROSSOVER_P): every part at the road's temperature.
    """
    instance = canvas.new_instance(CAR)
    parked = view == "side" and rng.random() < 0.7
    crossover = parked and not amb.night and rng.random() < CROSSOVER_P
    warmth = 0.0 if crossover else 1.0  # a parked car's residual heat above the road
    body_ir = amb.road_ir + 0.07 * warmth if parked else rng.uniform(0.5, 0.6)
    colour = pick(rng, CAR_COLOURS)
    body = canvas.part(Material(CAR, body_ir, colour, 0.04), instance)
    glass = canvas.part(Material(CAR, amb.road_ir - 0.04 * warmth, GLASS, 0.03), instance)
    tyre = canvas.part(Material(CAR, amb.road_ir + 0.05 * warmth if parked else rng.uniform(0.68, 0.76), TYRE, 0.02),
                       instance)
    engine = canvas.part(Material(CAR, amb.road_ir + 0.09 * warmth if parked else rng.uniform(0.8, 0.88), colour,
                                  0.04), instance)
    lit = not parked and amb.night
    head_light = canvas.part(Material(CAR, 0.62, (0.85, 0.85, 0.8), 0.0, HEADLIGHT_GLOW if lit else (0.0,) * 3),
                             instance)
    tail_light = canvas.part(Material(CAR, body_ir + 0.05, (0.7, 0.06, 0.05), 0.0,
                                      TAILLIGHT_GLOW if lit else (0.0,) * 3), instance)
    if view == "side":
        _car_side(canvas, bb, rng, body, glass, tyre, engine, head_light, tail_light)
    else:
        _car_end(canvas, bb, view, body, glass, tyre, engine, head_light, tail_light)


def _car_end(canvas: Canvas, bb: Billboard, view: str, body: int, glass: int, tyre: int, engine: int,
             head_light: int, tail_light: int) -> None:
    for side in (-1.0, 1.0):
        canvas.poly(tyre, bb.quad(side * 0.62, side * 0.88, 0.0, 0.32))
    canvas.poly(body, bb.quad(-0.9, 0.9, 0.28, 0.95))
    canvas.poly(body, [bb(-0.84, 0.95), bb(0.84, 0.95), bb(0.64, 1.45), bb(-0.64, 1.45)])
    canvas.poly(glass, [bb(-0.72, 1.0), bb(0.72, 1.0), bb(0.57, 1.38), bb(-0.57, 1.38)])
    light = head_light if view == "front" else tail_light
    for side in (-1.0, 1.0):
        canvas.poly(light, bb.quad(side * 0.55, side * 0.86, 0.64, 0.78))
    if view == "front":
        canvas.poly(engine, bb.quad(-0.42, 0.42, 0.45, 0.74))


def _car_side(canvas: Canvas, bb: Billboard, rng: np.random.Generator, body: int, glass: int, tyre: int, engine: int,
              head_light: int, tail_light: int) -> None:
    half = rng.uniform(2.0, 2.4)
    canvas.poly(body, bb.quad(-half, half - 1.2, 0.3, 0.95))
    canvas.poly(engine, bb.quad(half - 1.2, half, 0.3, 0.95))
    canvas.poly(body, [bb(-half + 0.4, 0.95), bb(half - 1.2, 0.95), bb(half - 1.7, 1.45), bb(-half + 0.8, 1.45)])
    canvas.poly(glass, [bb(-half + 0.6, 1.0), bb(half - 1.35, 1.0), bb(half - 1.75, 1.38), bb(-half + 0.9, 1.38)])
    for hub in (-half + 0.8, half - 0.8):
        _disc(canvas, tyre, bb, (hub, 0.33), 0.33, 0.33)
    canvas.poly(head_light, bb.quad(half - 0.18, half, 0.62, 0.76))
    canvas.poly(tail_light, bb.quad(-half, -half + 0.14, 0.66, 0.8))


def draw_cone(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator) -> None:
    """A traffic cone: orange body, white reflective band, at ambient temperature."""
    t = rng.uniform(0.45, 0.8)
    body = canvas.part(amb.inert(CONE, pick(rng, CONE_BODIES), 0.008, 0.03))
    band = canvas.part(amb.inert(CONE, WHITE, 0.008, 0.03))
    canvas.poly(body, bb.quad(-0.2, 0.2, 0.0, 0.04))
    canvas.poly(body, [bb(-0.15, 0.04), bb(0.15, 0.04), bb(0.03, t), bb(-0.03, t)])
    w0, w1 = (0.15 - 0.12 * f for f in (0.45, 0.62))
    canvas.poly(band, [bb(-w0, 0.45 * t), bb(w0, 0.45 * t), bb(w1, 0.62 * t), bb(-w1, 0.62 * t)])


def draw_car_stop(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator) -> None:
    """A wheel stopper: a low yellow (or concrete) block with black stripes, at ambient temperature."""
    yellow = rng.random() < 0.6
    block = canvas.part(amb.inert(CAR_STOP, SAFETY_YELLOW if yellow else grey(rng.uniform(0.55, 0.7)), 0.015, 0.05))
    stripe = canvas.part(amb.inert(CAR_STOP, BLACK, 0.02, 0.05))
    cam, x, d = bb.cam, bb.x, bb.d
    canvas.poly(block, ground_quad(cam, x - 0.8, x + 0.8, d, d + 0.2, h=0.12))
    canvas.poly(block, bb.quad(-0.8, 0.8, 0.0, 0.12))
    if yellow:
        for lx in (-0.45, 0.2):
            canvas.poly(stripe, bb.quad(lx, lx + 0.25, 0.0, 0.12))


def draw_guardrail(canvas: Canvas, cam: Camera, amb: Ambient, x: float, d0: float, d1: float) -> None:
    """One post plus the W-beam up to the next post (a rail is several of these, painted far to near)."""
    post = canvas.part(amb.inert(GUARDRAIL, grey(0.45), -0.02, 0.05))
    beam = canvas.part(amb.inert(GUARDRAIL, (0.72, 0.74, 0.76), -0.03, 0.05))
    bb = Billboard(cam, x, d0)
    _bar(canvas, post, bb, (0.0, 0.0), (0.0, 0.78), 0.12)
    canvas.poly(beam, [cam.project(x, d0, 0.45), cam.project(x, d1, 0.45), cam.project(x, d1, 0.78),
                       cam.project(x, d0, 0.78)])


def draw_lamp(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator) -> None:
    """A street lamp (background class); its head glows and blooms at night."""
    pole = canvas.part(amb.inert(BACKGROUND, grey(0.4), -0.02, 0.03))
    head = canvas.part(amb.lamp(BACKGROUND, (0.85, 0.85, 0.8), LAMP_GLOW, 0.62))
    top = rng.uniform(6.5, 9.0)
    _bar(canvas, pole, bb, (0.0, 0.0), (0.0, top), 0.18)
    _bar(canvas, pole, bb, (0.0, top), (1.4, top + 0.2), 0.1)
    _disc(canvas, head, bb, (1.4, top + 0.05), 0.35, 0.12)


def draw_tree(canvas: Canvas, bb: Billboard, amb: Ambient, rng: np.random.Generator) -> None:
    """A roadside tree (background class): foliage is a little cooler than the road."""
    trunk = canvas.part(amb.inert(BACKGROUND, (0.3, 0.22, 0.15), -0.01, 0.1))
    leaves = canvas.part(amb.inert(BACKGROUND, pick(rng, ((0.15, 0.35, 0.12), (0.22, 0.4, 0.15))), -0.05, 0.35))
    r = rng.uniform(1.2, 2.5)
    _bar(canvas, trunk, bb, (0.0, 0.0), (0.0, 2.5 + r), 0.3)
    _disc(canvas, leaves, bb, (0.0, 2.5 + r), r, 1.1 * r)
