"""Geography for the network generator: local km frame, area polygons, cities, feeder routes.

Everything is laid out in a local frame in kilometres (x east, y north) around the
generator's centre and converted to WGS 84 longitude/latitude with an equirectangular
projection at the very end; at the size of a province (a few hundred km) the distortion
is a few per cent, which is fine for a synthetic network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from grid_models._corridors import segment_crossings

FloatArray = npt.NDArray[np.float64]

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320

CITY_CENTRE = "city_centre"
URBAN = "urban"
TOWN = "town"
RURAL = "rural"
AREA_CLASSES = (CITY_CENTRE, URBAN, TOWN, RURAL)


@dataclass(frozen=True, slots=True)
class Frame:
    """Equirectangular projection between the local km frame and WGS 84."""

    lon0: float
    lat0: float

    @property
    def km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.lon0 + x / self.km_per_deg_lon, self.lat0 + y / KM_PER_DEG_LAT

    def polygon_geojson(self, ring: FloatArray) -> str:
        """A GeoJSON Polygon string (closed, counter-clockwise exterior ring)."""
        lon, lat = self.to_lonlat(ring[:, 0], ring[:, 1])
        pts = [f"[{a:.6f},{b:.6f}]" for a, b in zip(lon, lat, strict=True)]
        pts.append(pts[0])
        return '{"type":"Polygon","coordinates":[[' + ",".join(pts) + "]]}"


def blob(
    rng: np.random.Generator, cx: float, cy: float, radius: float, n: int = 32, wobble: float = 0.08
) -> FloatArray:
    """A disc-like polygon (counter-clockwise ring, not closed) with a gently wobbling edge."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.full(n, radius)
    for k in (2, 3, 5):
        r += radius * wobble / 3.0 * np.sin(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    return np.column_stack((cx + r * np.cos(theta), cy + r * np.sin(theta)))


def scaled(ring: FloatArray, cx: float, cy: float, factor: float) -> FloatArray:
    return np.column_stack((cx + (ring[:, 0] - cx) * factor, cy + (ring[:, 1] - cy) * factor))


def rectangle(cx: float, cy: float, w: float, h: float, angle: float) -> FloatArray:
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    c, s = math.cos(angle), math.sin(angle)
    rot = corners @ np.array([[c, s], [-s, c]])
    return rot + np.array([cx, cy])


@dataclass(eq=False)
class Town:
    name: str
    x: float
    y: float
    radius: float
    ring: FloatArray


@dataclass(eq=False)
class City:
    """A city: its centre, urban area, towns, provincial park and planning area (local km)."""

    index: int
    name: str
    x: float
    y: float
    r_centre: float
    r_urban: float
    centre_ring: FloatArray
    urban_ring: FloatArray
    plan_ring: FloatArray
    park_name: str
    park_ring: FloatArray
    towns: list[Town] = field(default_factory=list)
    _centre: Polygon | None = None
    _urban: Polygon | None = None
    _towns: list[Polygon] = field(default_factory=list)
    _park: Polygon | None = None

    def __post_init__(self) -> None:
        self._centre = Polygon(self.centre_ring)
        self._urban = Polygon(self.urban_ring)
        self._park = Polygon(self.park_ring)
        shapely.prepare(self._centre)
        shapely.prepare(self._urban)
        shapely.prepare(self._park)

    def add_town(self, town: Town) -> None:
        self.towns.append(town)
        poly = Polygon(town.ring)
        shapely.prepare(poly)
        self._towns.append(poly)

    def classify(self, x: FloatArray, y: FloatArray) -> list[str]:
        """Area class of each point: the first class polygon containing it (centre first)."""
        return [AREA_CLASSES[i] for i in self.classify_index(x, y)]

    def classify_index(self, x: FloatArray, y: FloatArray) -> npt.NDArray[np.int64]:
        """Like :meth:`classify`, as indices into :data:`AREA_CLASSES`."""
        assert self._centre is not None and self._urban is not None
        out = np.full(len(x), 3, dtype=np.int64)
        for poly in self._towns:
            out[shapely.contains_xy(poly, x, y)] = 2
        out[shapely.contains_xy(self._urban, x, y)] = 1
        out[shapely.contains_xy(self._centre, x, y)] = 0
        return out

    @cached_property
    def reach(self) -> float:
        """Half the side of a square around the centre that holds all of the city's
        polygons (km)."""
        pts = np.concatenate([self.urban_ring, self.plan_ring, *(t.ring for t in self.towns)])
        return float(np.abs(pts - np.array([self.x, self.y])).max()) + 0.1

    def classify_one(self, x: float, y: float) -> str:
        return self.classify(np.array([x]), np.array([y]))[0]

    def in_park(self, x: float, y: float) -> bool:
        assert self._park is not None
        return bool(shapely.contains_xy(self._park, x, y))


class Route:
    """A feeder route: a polyline in km with arc-length lookup."""

    __slots__ = ("pts", "cum", "length")

    def __init__(self, pts: FloatArray) -> None:
        self.pts = pts
        seg = np.hypot(np.diff(pts[:, 0]), np.diff(pts[:, 1]))
        self.cum: FloatArray = np.concatenate(([0.0], np.cumsum(seg)))
        self.length = float(self.cum[-1])

    def at(self, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        return np.interp(s, self.cum, self.pts[:, 0]), np.interp(s, self.cum, self.pts[:, 1])

    def point(self, s: float) -> tuple[float, float]:
        x, y = self.at(np.array([s]))
        return float(x[0]), float(y[0])

    def heading(self, s: float) -> float:
        """Direction of travel (radians) at arc length ``s``."""
        i = int(np.clip(np.searchsorted(self.cum, s) - 1, 0, len(self.pts) - 2))
        d = self.pts[i + 1] - self.pts[i]
        return math.atan2(float(d[1]), float(d[0]))

    @property
    def end(self) -> tuple[float, float]:
        return float(self.pts[-1, 0]), float(self.pts[-1, 1])


def make_route(
    rng: np.random.Generator,
    sx: float,
    sy: float,
    ex: float,
    ey: float,
    bulge: float,
    n: int = 24,
) -> Route:
    """A gently curved route from S to E: quadratic Bézier with control point offset
    sideways by ``bulge`` × |E − S| (positive = to the left), plus a small meander."""
    dx, dy = ex - sx, ey - sy
    dist = math.hypot(dx, dy)
    if dist < 1e-9:
        dx, dy, dist = 1e-3, 0.0, 1e-3
    nx, ny = -dy / dist, dx / dist
    cx, cy = (sx + ex) / 2 + nx * bulge * dist, (sy + ey) / 2 + ny * bulge * dist
    t = np.linspace(0.0, 1.0, n)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    x = a * sx + b * cx + c * ex
    y = a * sy + b * cy + c * ey
    amp = 0.03 * dist * rng.uniform(0.3, 1.0)
    wig = (
        amp * np.sin(np.pi * t) * np.sin(2 * np.pi * rng.uniform(1.0, 3.0) * t + rng.uniform(0, 6))
    )
    return Route(np.column_stack((x + nx * wig, y + ny * wig)))


def unit(angle: float) -> tuple[float, float]:
    return math.cos(angle), math.sin(angle)


# --------------------------------------------------------------------------- many cities


def classify_all(cities: list[City], x: FloatArray, y: FloatArray) -> npt.NDArray[np.int64]:
    """Area class index (into :data:`AREA_CLASSES`) of each point, each judged by the
    city whose centre is nearest (cities are far apart, their polygons never overlap)."""
    out = np.full(len(x), AREA_CLASSES.index(RURAL), dtype=np.int64)
    if not len(x) or not cities:
        return out
    cx = np.array([c.x for c in cities])
    cy = np.array([c.y for c in cities])
    if len(cities) == 1:
        owner = np.zeros(len(x), dtype=np.int64)
    else:
        from scipy.spatial import cKDTree

        owner = np.asarray(cKDTree(np.column_stack((cx, cy))).query(np.column_stack((x, y)))[1])
    for k, city in enumerate(cities):
        reach = city.reach
        sel = np.flatnonzero(
            (owner == k) & (np.abs(x - city.x) < reach) & (np.abs(y - city.y) < reach)
        )
        if len(sel):
            out[sel] = city.classify_index(x[sel], y[sel])
    return out


def hex_lattice(
    rng: np.random.Generator,
    ring: FloatArray,
    spacing: float,
    jitter: float,
    margin: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Points of a randomly rotated and shifted hexagonal lattice inside a polygon (grown
    by ``margin``), each moved by up to ``jitter`` (all in km); also the unjittered points.

    With ``margin`` ≥ ``spacing / √3``, every place in the polygon is within
    ``spacing / √3 + jitter`` of a point.
    """
    x0, y0 = ring.min(axis=0) - spacing
    x1, y1 = ring.max(axis=0) + spacing
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * 0.75
    angle = rng.uniform(0.0, np.pi / 3)
    row = spacing * math.sqrt(3.0) / 2
    j = np.arange(-math.ceil(half / row), math.ceil(half / row) + 1)
    i = np.arange(-math.ceil(half / spacing) - 1, math.ceil(half / spacing) + 2)
    ii, jj = np.meshgrid(i, j)
    u = (ii + 0.5 * (jj % 2)).ravel() * spacing + rng.uniform(0.0, spacing)
    v = jj.ravel() * row + rng.uniform(0.0, row)
    c, s = math.cos(angle), math.sin(angle)
    px, py = cx + c * u - s * v, cy + s * u + c * v
    poly = Polygon(ring)
    inside = shapely.contains_xy(poly.buffer(margin) if margin > 0 else poly, px, py)
    px, py = px[inside], py[inside]
    n = len(px)
    r = jitter * np.sqrt(rng.random(n))
    a = rng.uniform(0.0, 2 * np.pi, n)
    return np.column_stack((px + r * np.cos(a), py + r * np.sin(a))), px, py


def crossing_pairs(
    a: FloatArray, b: FloatArray, *, touching: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (i, j) where segment ``a[i]`` crosses segment ``b[j]`` (rows x0, y0, x1, y1 in
    km); see :func:`grid_models._corridors.segment_crossings`."""
    return segment_crossings(a, b, cell=_CELL_KM, touching=touching)


def crosses_any(segments: FloatArray, barriers: FloatArray) -> npt.NDArray[np.bool_]:
    """Which segments (rows x0, y0, x1, y1) properly cross any of the barrier segments."""
    out = np.zeros(len(segments), dtype=bool)
    ia, _ = crossing_pairs(segments, barriers)
    out[ia] = True
    return out


_CELL_KM = 1.0


def intersection_params(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For crossing segment pairs (rows of ``a`` and ``b``): the parameters t, u in [0, 1]
    of the crossing point along each (point = a0 + t (a1 − a0))."""
    rx, ry = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    sx, sy = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    den = rx * sy - ry * sx
    qx, qy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qx * sy - qy * sx) / den
        u = (qx * ry - qy * rx) / den
    return np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0), np.clip(
        np.nan_to_num(u, nan=0.5), 0.0, 1.0
    )


def polyline_segments(pts: FloatArray) -> FloatArray:
    """The segments (x0, y0, x1, y1) of a polyline given as an (n, 2) array."""
    return np.column_stack((pts[:-1], pts[1:]))
