"""Laying out a map as plain shapes for an SVG template: a flat projection of longitude and latitude, district
outlines drawn around their townships' centres, and sized markers. No tiles, no network, no personal data:
the caller passes counts and public places only.

The reference data ships centres, not boundaries, so a district's outline is the convex hull of its townships'
centres, widened a little: a sketch of where the district lies, said so in the legend."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

WIDTH, HEIGHT = 960.0, 600.0  # the largest drawing; a tall area gets a narrower one, never a taller one
MARGIN = 40.0
WIDEN = 1.18  # outlines drawn 18 % wider than the hull of the centres, so edge townships sit inside


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclasses.dataclass(frozen=True)
class Projection:
    """Equirectangular around the middle latitude: good to a fraction of a percent over a city."""

    west: float
    north: float
    scale: float  # pixels per degree of longitude at the middle latitude
    squeeze: float  # cos(middle latitude)
    width: float
    height: float

    @classmethod
    def fit(cls, coordinates: Iterable[tuple[float, float]], width: float = WIDTH, height: float = HEIGHT,
            margin: float = MARGIN) -> Projection:
        """The projection that fits these (lat, lng) pairs into width x height with a margin, as large as fits."""
        pairs = list(coordinates) or [(0.0, 0.0)]
        lats, lngs = [lat for lat, _ in pairs], [lng for _, lng in pairs]
        south, north, west, east = min(lats), max(lats), min(lngs), max(lngs)
        squeeze = math.cos(math.radians((north + south) / 2))
        span_x = max((east - west) * squeeze, 0.01)
        span_y = max(north - south, 0.01)
        scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        return cls(west=west - margin / scale / squeeze, north=north + margin / scale, scale=scale,
                   squeeze=squeeze, width=round(span_x * scale + 2 * margin, 1),
                   height=round(span_y * scale + 2 * margin, 1))

    def __call__(self, lat: float, lng: float) -> Point:
        return Point(x=round((lng - self.west) * self.squeeze * self.scale, 1),
                     y=round((self.north - lat) * self.scale, 1))


def convex_hull(points: Sequence[Point]) -> list[Point]:
    """Andrew's monotone chain; counter-clockwise, no repeated point."""
    unique = sorted(set((p.x, p.y) for p in points))
    if len(unique) <= 2:
        return [Point(x, y) for x, y in unique]

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return [Point(x, y) for x, y in lower[:-1] + upper[:-1]]


def outline(points: Sequence[Point], widen: float = WIDEN, minimum: float = 12.0) -> str:
    """An SVG `points` attribute around these points: their hull widened from its centre (a small diamond
    around one or two points)."""
    if not points:
        return ""
    cx = sum(p.x for p in points) / len(points)
    cy = sum(p.y for p in points) / len(points)
    hull = convex_hull(points)
    if len(hull) < 3:
        hull = [Point(cx, cy - minimum), Point(cx + minimum, cy), Point(cx, cy + minimum), Point(cx - minimum, cy)]
    return " ".join(f"{round(cx + (p.x - cx) * widen, 1)},{round(cy + (p.y - cy) * widen, 1)}" for p in hull)


def radius(count: int, largest: int, smallest: float = 7.0, biggest: float = 22.0) -> float:
    """A marker whose area grows with the count."""
    if largest <= 0:
        return smallest
    return round(smallest + (biggest - smallest) * math.sqrt(count / largest), 1)
