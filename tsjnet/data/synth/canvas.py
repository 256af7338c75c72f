"""A part map plus a material table: every pixel gets exactly one part, so labels and both renderings agree.

Shapes are painted far to near (painter's algorithm) with hard edges; the segmentation mask, the instance map,
the IR heat and the VIS albedo are then all lookups of the same part map, which is what makes labels exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]
_SHIFT = 4  # cv2 sub-pixel bits: vertices keep 1/16 px precision, so thin far-away parts do not snap
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class Material:
    """How one part looks in each modality.

    `ir` is emitted heat (0 cold .. 1 hot), `rgb` the VIS albedo, `texture` the relative VIS grain, `glow`
    light the part emits in VIS (lamps, headlights) that also blooms at night. `upright` surfaces face the
    camera and return the ego car's headlights; flat ground, lit at a grazing angle, returns little.
    """

    seg: int
    ir: float
    rgb: tuple[float, float, float]
    texture: float = 0.0
    glow: tuple[float, float, float] = (0.0, 0.0, 0.0)
    upright: bool = True


@dataclass(frozen=True)
class Camera:
    """Pinhole camera over a flat road: ground point at lateral `x` m, depth `d` m, height `h` m -> pixel."""

    horizon: float
    vx: float
    focal: float
    height_m: float = 1.6

    def project(self, x: float, d: float, h: float = 0.0) -> Point:
        """Pixel (u, v) of a world point; farther points converge on (vx, horizon)."""
        return self.vx + x * self.focal / d, self.horizon + (self.height_m - h) * self.focal / d

    def scale(self, d: float) -> float:
        """Pixels per metre at depth `d`."""
        return self.focal / d

    def column_slopes(self, width: int) -> np.ndarray:
        """(W,) lateral metres per metre of depth seen through each pixel column (tangent of its angle)."""
        return (np.arange(width, dtype=np.float32) + 0.5 - self.vx) / self.focal

    def ground_depth(self, height: int) -> np.ndarray:
        """(H, 1) depth of the ground seen in each row (infinite at and above the horizon)."""
        rows = np.arange(height, dtype=np.float32)[:, None] + 0.5 - self.horizon
        with np.errstate(divide="ignore"):
            return np.where(rows > 0, self.height_m * self.focal / np.maximum(rows, 1e-6), np.inf).astype(np.float32)


@dataclass
class Tables:
    """Per-part lookup tables (index = part id)."""

    seg: np.ndarray
    instance: np.ndarray
    ir: np.ndarray
    rgb: np.ndarray
    texture: np.ndarray
    glow: np.ndarray
    upright: np.ndarray
    depth: np.ndarray  # metres; 0 = on the ground, depth follows the row


class Canvas:
    """Paints part ids seen through `camera`; part 0 is the `background` material (the sky)."""

    def __init__(self, height: int, width: int, background: Material, camera: Camera) -> None:
        self.parts = np.zeros((height, width), np.int32)
        self.camera = camera
        self._materials: list[Material] = [background]
        self._instances: list[int] = [0]
        self._depths: list[float] = [np.inf]
        self._depth = 0.0  # depth given to newly registered parts; 0 = lying on the ground
        self.instance_seg: dict[int, int] = {}  # instance id -> segmentation class of the boxed object
        self.dark_instances: set[int] = set()  # people dressed all dark (what night VIS loses)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return self.parts.shape  # type: ignore[return-value]

    def new_instance(self, seg: int, dark: bool = False) -> int:
        """Reserve an instance id for one boxed object (person, bike, car) of segmentation class `seg`."""
        instance = len(self.instance_seg) + 1
        self.instance_seg[instance] = seg
        if dark:
            self.dark_instances.add(instance)
        return instance

    @contextmanager
    def placed_at(self, depth: float) -> Iterator[None]:
        """Parts registered inside stand upright `depth` metres away (outside, they lie on the ground)."""
        self._depth = depth
        try:
            yield
        finally:
            self._depth = 0.0

    def part(self, material: Material, instance: int = 0) -> int:
        """Register a part; the drawing calls paint the returned id."""
        self._materials.append(material)
        self._instances.append(instance)
        self._depths.append(self._depth)
        return len(self._materials) - 1

    def poly(self, part: int, points: Sequence[Point]) -> None:
        """Fill a polygon (any vertex order cv2 accepts)."""
        pts = np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)
        cv2.fillPoly(self.parts, [pts], part, lineType=cv2.LINE_8, shift=_SHIFT)

    def ellipse(self, part: int, center: Point, axes: tuple[float, float], thickness: float = -1) -> None:
        """Filled ellipse (or ring of `thickness` px); axes are half-widths in pixels."""
        c = (round(center[0] * _ONE), round(center[1] * _ONE))
        a = (max(round(axes[0] * _ONE), 1), max(round(axes[1] * _ONE), 1))
        width = -1 if thickness < 0 else max(round(thickness), 1)
        cv2.ellipse(self.parts, c, a, 0.0, 0.0, 360.0, part, width, cv2.LINE_8, _SHIFT)

    def line(self, part: int, p0: Point, p1: Point, width: float) -> None:
        """A bar of `width` pixels between two points (a quad, so sub-pixel widths still draw something)."""
        (x0, y0), (x1, y1) = p0, p1
        length = max(float(np.hypot(x1 - x0, y1 - y0)), 1e-6)
        nx, ny = -(y1 - y0) / length * width / 2, (x1 - x0) / length * width / 2
        self.poly(part, [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)])

    def tables(self) -> Tables:
        """The lookup tables for every registered part."""
        m = self._materials
        return Tables(
            seg=np.array([p.seg for p in m], np.uint8),
            instance=np.array(self._instances, np.int32),
            ir=np.array([p.ir for p in m], np.float32),
            rgb=np.array([p.rgb for p in m], np.float32).reshape(-1, 3),
            texture=np.array([p.texture for p in m], np.float32),
            glow=np.array([p.glow for p in m], np.float32).reshape(-1, 3),
            upright=np.array([p.upright for p in m], bool),
            depth=np.array(self._depths, np.float32),
        )

    def depth_map(self, tables: Tables) -> np.ndarray:
        """(H, W) metres from the camera: the part's own depth, or the ground's for parts lying on it."""
        depth = tables.depth[self.parts]
        return np.where(depth > 0, depth, self.camera.ground_depth(self.shape[0]))
