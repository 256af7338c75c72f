"""One random street scene: camera, road, street furniture and road users, painted far to near.

Every random choice comes from the generator passed in, so a scene is a pure function of its seed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from tsjnet.data.synth.actors import (
    Billboard, draw_bike, draw_car, draw_car_stop, draw_cone, draw_guardrail, draw_lamp, draw_person, draw_tree,
)
from tsjnet.data.synth.canvas import Camera, Canvas, Material
from tsjnet.data.synth.materials import PARKED_BIKE_P, Ambient, sample_ambient
from tsjnet.data.synth.scenery import LANE_WIDTH, Road, paint_bump, paint_buildings, paint_ground, sample_road

Actor = tuple[float, Callable[[], None]]  # (depth, draw); drawn in decreasing depth
GUARDRAIL_POST_SPACING = 4.0


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """Depths spread like real traffic: many far small objects, fewer near big ones."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _sidewalk_x(rng: np.random.Generator, road: Road) -> float:
    side = rng.integers(2)
    outer = road.outer[side]
    inner = road.left - road.curb if side == 0 else road.right + road.curb
    return float(rng.uniform(min(inner, outer), max(inner, outer)))


def _road_x(rng: np.random.Generator, road: Road, margin: float = 0.3) -> float:
    return float(rng.uniform(road.left + margin, road.right - margin))


def _billboard(cam: Camera, x: float, d: float, rng: np.random.Generator) -> Billboard:
    return Billboard(cam, x, d, flip=1.0 if rng.random() < 0.5 else -1.0)


def _road_users(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, rng: np.random.Generator,
                count: Callable[..., int]) -> list[Actor]:
    """People on sidewalks or crossing, cars in lanes (oncoming on the left), bikes near the road edges."""
    actors: list[Actor] = []
    for _ in range(count()):
        x = _sidewalk_x(rng, road) if rng.random() < 0.65 else _road_x(rng, road)
        d = _log_uniform(rng, 5.0, 45.0)
        actors.append((d, partial(draw_person, canvas, _billboard(cam, x, d, rng), rng)))
    lanes = max(1, round((road.right - road.left) / LANE_WIDTH))
    for _ in range(count()):
        lane = int(rng.integers(lanes))
        x = road.left + (lane + 0.5) * (road.right - road.left) / lanes + rng.normal(0.0, 0.2)
        view = "side" if rng.random() < 0.35 else ("front" if x < -1.0 and rng.random() < 0.8 else "rear")
        d = _log_uniform(rng, 10.0 if view == "side" else 6.0, 70.0)
        actors.append((d, partial(draw_car, canvas, _billboard(cam, x, d, rng), amb, rng, view)))
    for _ in range(count()):
        ridden = rng.random() >= PARKED_BIKE_P  # parked bikes stand on the sidewalk
        edge = road.right - 1.0 if rng.random() < 0.5 else road.left + 1.0
        x = _sidewalk_x(rng, road) if not ridden or rng.random() < 0.3 else edge + rng.normal(0.0, 0.3)
        d = _log_uniform(rng, 5.0, 40.0)
        actors.append((d, partial(draw_bike, canvas, _billboard(cam, x, d, rng), amb, rng, ridden)))
    return actors


def _furniture(canvas: Canvas, cam: Camera, road: Road, amb: Ambient, rng: np.random.Generator,
               count: Callable[..., int]) -> list[Actor]:
    """Cones on the road, wheel stoppers by the curb, guardrails along the edges, lamps and trees."""
    actors: list[Actor] = []
    for _ in range(count()):
        d = _log_uniform(rng, 4.0, 30.0)
        actors.append((d, partial(draw_cone, canvas, Billboard(cam, _road_x(rng, road), d), amb, rng)))
    for _ in range(count()):
        d = rng.uniform(4.0, 16.0)
        actors.append((d, partial(draw_car_stop, canvas, Billboard(cam, _sidewalk_x(rng, road), d), amb, rng)))
    for side in rng.permutation(2)[:count(2)]:
        x = road.left + 0.3 if side == 0 else road.right - 0.3
        start = rng.uniform(2.0, 20.0)
        for d in np.arange(start, start + rng.uniform(20.0, 120.0), GUARDRAIL_POST_SPACING):
            actors.append((d, partial(draw_guardrail, canvas, cam, amb, x, d, d + GUARDRAIL_POST_SPACING)))
    for _ in range(int(rng.integers(4))):
        side = int(rng.integers(2))
        x = road.outer[side] + (0.4 if side == 0 else -0.4)
        d = rng.uniform(8.0, 60.0)
        actors.append((d, partial(draw_lamp, canvas, Billboard(cam, x, d, 1.0 if side == 0 else -1.0), amb, rng)))
    for _ in range(int(rng.integers(5))):
        d = rng.uniform(6.0, 80.0)
        actors.append((d, partial(draw_tree, canvas, Billboard(cam, road.outer[int(rng.integers(2))], d), amb, rng)))
    return actors


def build_scene(rng: np.random.Generator, height: int, width: int, night: bool, max_objects: int) -> Canvas:
    """Paint a full scene; up to `max_objects` of each object type (at most two guardrails and two bumps)."""
    amb = sample_ambient(rng, night)
    cam = Camera(horizon=height * rng.uniform(0.36, 0.46), vx=width * rng.uniform(0.38, 0.62),
                 focal=width * rng.uniform(1.0, 1.2))
    sky = Material(0, rng.uniform(0.05, 0.1) + (0.0 if night else 0.05), (0.55, 0.70, 0.92), 0.01)
    canvas = Canvas(height, width, sky, cam)
    road = sample_road(rng)

    def count(cap: int | None = None) -> int:
        """How many of one object type: uniform in 0..max_objects (or the type's own smaller cap)."""
        return int(rng.integers(0, (max_objects if cap is None else min(cap, max_objects)) + 1))

    paint_ground(canvas, cam, road, amb, rng)
    paint_buildings(canvas, cam, road, amb, rng)
    for _ in range(count(2)):
        paint_bump(canvas, cam, road, amb, rng.uniform(5.0, 15.0))
    actors = _road_users(canvas, cam, road, amb, rng, count) + _furniture(canvas, cam, road, amb, rng, count)
    for depth, draw in sorted(actors, key=lambda actor: -actor[0]):
        with canvas.placed_at(depth):
            draw()
    return canvas
