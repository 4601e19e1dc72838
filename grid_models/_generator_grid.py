"""Planning and building of the generated grid: cities, substations, feeders, ties, loads.

The work happens in three passes so that every decision can use the ones before it:

1. **plan** (per city): area polygons, substation sites, main transformers, feeder slots,
   wiring modes and ties (cable rings, double rings, dedicated lines; overhead ties), and
   every feeder's route in the local km frame;
2. **size**: each feeder's target peak loading from its tie count (N-1 limit), a few
   feeders deliberately above it, long overhead feeders held back by a voltage-drop budget;
3. **build**: buses, lines, transformers, switches and loads appended to :class:`Tables`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import pandas as pd

from grid_models._catalogue import load_catalogue
from grid_models._generator_corridors import BarrierLine, build_corridors, make_barriers
from grid_models._generator_geo import (
    CITY_CENTRE,
    RURAL,
    TOWN,
    URBAN,
    City,
    Frame,
    Route,
    Town,
    blob,
    make_route,
    rectangle,
    scaled,
    unit,
)
from grid_models._generator_lv import DensityReport, MVHost, PublicDT, densify_lv
from grid_models._generator_names import ROMAN, NameBook
from grid_models._generator_tables import Tables

if TYPE_CHECKING:
    from grid_models._generator import GeneratorParams

T = TypeVar("T")

SQRT3 = math.sqrt(3.0)
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
NAN = float("nan")

TOWN_FEEDER_MAX_KM = 20.0  # a town farther from every substation gets no feeder
TOWN_FEEDER_TRUNK = "JKLYJ-240"
CABLE_TIE_MAX_KM = 9.0  # substations farther apart get no cable ring between them
CABLE_MAX_LEN_KM = 5.0
OVERHEAD_TIE_MAX_KM = 27.0
OVERHEAD_MAX_LEN_KM = 12.0
SECOND_TIE_MAX_KM = 3.5
VOLTAGE_DROP_BUDGET = 0.05  # estimated feeder voltage drop allowed at peak
LV_DROP_BUDGET = 0.03  # drop allowed on a transformer's LV line to a branch box at peak
MAX_FEEDER_LOADING = 0.85
MAX_MT_LOADING = 0.74  # sum of feeder peaks; losses and DT reactive add ≈ 10 %
MT_LOAD_MARGIN = 1.1
FEEDER_FBAR = {"cable": 0.42, "overhead": 0.40}  # expected mean loading, for feeder counts
_BARRIER_STREAM = 1  # child random streams: rivers and railways, LV density, corridors
_DENSITY_STREAM = 2
CORRIDOR_STREAM = 3

_MT_SIZES = {
    True: ("SZ13-50000/110", "SZ13-63000/110"),
    False: ("SZ13-31500/110", "SZ13-40000/110"),
}
_P_THREE_UNITS = {CITY_CENTRE: 0.6, URBAN: 0.35, TOWN: 0.15, RURAL: 0.15}

# distribution transformer ratings (kVA) and weights by area
_DT_PUBLIC: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    CITY_CENTRE: ((400, 500, 630, 800, 1000, 1250), (0.10, 0.15, 0.30, 0.25, 0.12, 0.08)),
    URBAN: ((315, 400, 500, 630, 800), (0.15, 0.30, 0.20, 0.25, 0.10)),
    TOWN: ((100, 200, 315, 400), (0.10, 0.35, 0.35, 0.20)),
    RURAL: ((100, 200, 315, 400), (0.30, 0.40, 0.20, 0.10)),
}
_DT_CUSTOMER: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    CITY_CENTRE: ((500, 630, 800, 1000, 1250), (0.15, 0.25, 0.25, 0.20, 0.15)),
    URBAN: ((400, 500, 630, 800, 1000, 1250), (0.15, 0.15, 0.25, 0.20, 0.15, 0.10)),
    TOWN: ((200, 315, 400), (0.30, 0.40, 0.30)),
    RURAL: ((100, 200, 315, 400), (0.20, 0.35, 0.30, 0.15)),
    "park": ((630, 800, 1000, 1250), (0.25, 0.30, 0.25, 0.20)),
}
_CUSTOMER_SHARE_FACTOR = {CITY_CENTRE: 1.1, URBAN: 1.2, TOWN: 1.0, RURAL: 0.8}
_PUBLIC_CLASSES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    CITY_CENTRE: (("residential", "commercial", "public_service"), (0.45, 0.40, 0.15)),
    URBAN: (("residential", "commercial", "public_service"), (0.60, 0.25, 0.15)),
    TOWN: (("residential", "commercial", "public_service"), (0.70, 0.20, 0.10)),
    RURAL: (("residential", "commercial", "public_service"), (0.85, 0.05, 0.10)),
}
_CUSTOMER_CLASSES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    CITY_CENTRE: (("commercial", "industrial"), (0.6, 0.4)),
    URBAN: (("commercial", "industrial"), (0.5, 0.5)),
    TOWN: (("industrial", "commercial", "agriculture"), (0.55, 0.35, 0.10)),
    RURAL: (("agriculture", "industrial", "commercial"), (0.40, 0.40, 0.20)),
    "park": (("industrial", "commercial"), (0.85, 0.15)),
}
_BOX_CLASSES = (("residential", "commercial"), (0.75, 0.25))
_OVERHEAD_TRUNKS = (("JKLYJ-240", "JKLYJ-185", "LGJ-240", "LGJ-185"), (0.60, 0.25, 0.10, 0.05))
_BRANCH_TYPES = (("JKLYJ-70", "JKLYJ-95", "JKLYJ-120"), (0.35, 0.35, 0.30))
_LV_CABLES = (("YJV22-0.6/1-4x150", "YJV22-0.6/1-4x240"), (0.5, 0.5))
_LV_OVERHEAD = (("JKLYJ-1-4x120", "YJV22-0.6/1-4x150"), (0.8, 0.2))
_RMU_BAYS = ((4, 5, 6), (0.3, 0.4, 0.3))
_DEDICATED_KVA = ((1600, 2000, 2500), (0.3, 0.4, 0.3))


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from point P to the segment AB."""
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = 0.0 if den == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / den))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _cum(weights: tuple[float, ...]) -> list[float]:
    return list(accumulate(weights))


class _Picker(Generic[T]):
    """Weighted choice from a fixed table with one uniform draw (fast for scalar use)."""

    __slots__ = ("items", "cum")

    def __init__(self, table: tuple[tuple[T, ...], tuple[float, ...]]) -> None:
        self.items: tuple[T, ...] = table[0]
        self.cum = _cum(table[1])

    def __call__(self, rng: np.random.Generator) -> T:
        i = bisect.bisect_right(self.cum, rng.random() * self.cum[-1])
        return self.items[min(i, len(self.items) - 1)]


def _pickers(
    tables: dict[str, tuple[tuple[T, ...], tuple[float, ...]]],
) -> dict[str, _Picker[T]]:
    return {k: _Picker(v) for k, v in tables.items()}


_PICK_DT_PUBLIC = _pickers(_DT_PUBLIC)
_PICK_DT_CUSTOMER = _pickers(_DT_CUSTOMER)
_PICK_PUBLIC_CLASS = _pickers(_PUBLIC_CLASSES)
_PICK_CUSTOMER_CLASS = _pickers(_CUSTOMER_CLASSES)
_PICK_BOX_CLASS = _Picker(_BOX_CLASSES)
_PICK_OH_TRUNK = _Picker(_OVERHEAD_TRUNKS)
_PICK_BRANCH = _Picker(_BRANCH_TYPES)
_PICK_LV_CABLE = _Picker(_LV_CABLES)
_PICK_LV_OVERHEAD = _Picker(_LV_OVERHEAD)
_PICK_RMU_BAYS = _Picker(_RMU_BAYS)
_PICK_DEDICATED = _Picker(_DEDICATED_KVA)


@dataclass(eq=False)
class Substation:
    number: int
    sid: str
    name: str
    base: str
    city: City
    x: float
    y: float
    area: str
    cable: bool
    mt_types: list[str]
    angle0: float
    n_angles: int = 0
    section_buses: list[int] = field(default_factory=list)
    feeders: list[Feeder] = field(default_factory=list)
    town: Town | None = None

    def next_angle(self) -> float:
        a = self.angle0 + self.n_angles * GOLDEN_ANGLE
        self.n_angles += 1
        return a


@dataclass(eq=False)
class Feeder:
    sub: Substation
    section: int
    number: int
    name: str
    trunk: str
    s_th: float  # thermal limit of the head conductor, MVA
    mode: str = ""  # ring, double, dedicated, overhead
    route: Route | None = None
    twin: Feeder | None = None  # double ring: the feeder sharing the RMU stations
    ties: int = 0
    desire: int = 0
    end_used: bool = False
    partners: list[Feeder] = field(default_factory=list)
    target: float = 0.0  # peak loading, fraction of s_th
    cap: float = MAX_FEEDER_LOADING
    over: bool = False
    end_bus: int = -1
    built: bool = False
    trunk_buses: list[int] = field(default_factory=list)
    trunk_arcs: list[float] = field(default_factory=list)
    town: Town | None = None  # an overhead feeder that carries supply to this town
    n_dts: int = 0  # distribution transformers numbered so far (names 1号公变 …)

    def bus_at(self, arc: float | None) -> int:
        if arc is None or not self.trunk_buses:
            return self.end_bus
        i = int(np.argmin(np.abs(np.asarray(self.trunk_arcs) - arc)))
        return self.trunk_buses[max(i, 1) if len(self.trunk_buses) > 1 else i]


@dataclass(eq=False)
class Tie:
    a: Feeder
    b: Feeder
    sa: float | None  # arc on a's trunk, None = a's end
    sb: float | None


@dataclass(slots=True)
class _DT:
    kva: int
    customer: bool
    s_mva: float
    load_class: str
    lv_network: bool
    std: str


class GridBuilder:
    """Runs the three passes and keeps the resulting tables and areas."""

    def __init__(self, params: GeneratorParams, rng: np.random.Generator) -> None:
        self.p = params
        self.rng = rng
        self.tables = Tables()
        self.names = NameBook(rng)
        self.frame = Frame(params.centre_lon_deg, params.centre_lat_deg)
        self.cat = load_catalogue()
        self.cities: list[City] = []
        self.subs: list[Substation] = []
        self.feeders: list[Feeder] = []
        self.ties: list[Tie] = []
        self._counters: dict[str, int] = {}
        self._mt_u: dict[int, float] = {}
        # what the LV density pass builds on: public transformers and MV buses that can host
        # a new transformer, in the order they were built
        self.public_dts: list[PublicDT] = []
        self.hosts: list[MVHost] = []
        self.barriers: list[BarrierLine] = []
        self.density: DensityReport | None = None

    # ------------------------------------------------------------------ helpers
    def u(self, a: float, b: float) -> float:
        return a + (b - a) * self.rng.random()

    def ri(self, a: int, b: int) -> int:
        """Random integer in [a, b] (inclusive)."""
        return a + int(self.rng.random() * (b - a + 1))

    def station_id(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}{n:06d}"

    def line_s_th(self, std: str) -> float:
        lt = self.cat.line_type(std)
        return SQRT3 * lt.vn_kv * lt.max_i_ka

    # ------------------------------------------------------------------ pass 1: plan
    def run(self, lv_radius_km: dict[str, float] | None = None) -> None:
        """Plan, size and build the grid; with ``lv_radius_km`` (LV supply radius per area
        class) then densify LV networks until where people live is within reach of a
        branch box (see :mod:`grid_models._generator_lv`)."""
        p = self.p
        for ci, (cx, cy) in enumerate(self._city_positions()):
            given = p.city_names[ci] if ci < len(p.city_names) else None
            city = self._make_city(ci, cx, cy, given)
            self.cities.append(city)
            subs = self._place_substations(city)
            for sub in subs:
                self._make_feeders(sub)
            self._plan_cable(city, [s for s in subs if s.cable])
            self._plan_overhead(city, [s for s in subs if not s.cable])
        self._size_feeders()
        for sub in self.subs:
            self._build_substation(sub)
            for f in sub.feeders:
                self._build_feeder(f)
        for tie in self.ties:
            self._build_tie(tie)
        # after the build, so that the elements built so far keep their ids
        for city in self.cities:
            self._build_town_feeders(city)
        # rivers and railways are laid out from their own stream of random numbers, so
        # that the corridor layer never changes the electrical network
        self.barriers = make_barriers(np.random.default_rng([p.seed, _BARRIER_STREAM]), self.cities)
        if lv_radius_km is not None:
            self.density = densify_lv(
                self, lv_radius_km, np.random.default_rng([p.seed, _DENSITY_STREAM])
            )

    def _city_positions(self) -> list[tuple[float, float]]:
        n = self.p.n_cities
        if n == 1:
            return [(0.0, 0.0)]
        spacing = self.p.city_spacing_km
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        out = []
        for i in range(n):
            r, c = divmod(i, cols)
            x = (c - (cols - 1) / 2) * spacing + self.u(-0.12, 0.12) * spacing
            y = ((rows - 1) / 2 - r) * spacing + self.u(-0.12, 0.12) * spacing
            out.append((x, y))
        return out

    def _make_city(self, index: int, cx: float, cy: float, given: str | None) -> City:
        rng = self.rng
        name = self.names.city(given)
        r_c, r_u = self.u(2.0, 3.0), self.u(6.0, 8.0)
        centre = blob(rng, cx, cy, r_c)
        urban = blob(rng, cx, cy, r_u)
        plan = scaled(urban, cx, cy, self.u(1.08, 1.15))
        phi = self.u(0.0, 2 * math.pi)
        d = self.u(r_c + 1.3, r_u - 1.4)
        park = rectangle(
            cx + d * math.cos(phi),
            cy + d * math.sin(phi),
            self.u(1.6, 2.6),
            self.u(1.2, 1.9),
            self.u(0.0, math.pi),
        )
        city = City(
            index=index,
            name=name,
            x=cx,
            y=cy,
            r_centre=r_c,
            r_urban=r_u,
            centre_ring=centre,
            urban_ring=urban,
            plan_ring=plan,
            park_name=self.names.park(name),
            park_ring=park,
        )
        n = self.p.towns_per_city
        base = self.u(0.0, 2 * math.pi)
        for k, tname in enumerate(self.names.towns(name, n)):
            ang = base + 2 * math.pi * k / n + self.u(-0.2, 0.2) * 2 * math.pi / n
            dist, rt = self.u(10.0, 20.0), self.u(1.0, 1.5)
            tx, ty = cx + dist * math.cos(ang), cy + dist * math.sin(ang)
            city.add_town(Town(tname, tx, ty, rt, blob(rng, tx, ty, rt, n=20)))
        return city

    def _sample_site(
        self,
        gen: tuple[float, float, float, float],
        placed: list[tuple[float, float]],
        min_d: float,
        ok: object = None,
    ) -> tuple[float, float]:
        """Rejection-sample a point in an annulus (cx, cy, r_min, r_max) at least ``min_d``
        from every placed site; falls back to the best candidate seen."""
        cx, cy, r0, r1 = gen
        best, best_d = (cx, cy), -1.0
        for _ in range(80):
            r = math.sqrt(self.u(r0 * r0, r1 * r1))
            a = self.u(0.0, 2 * math.pi)
            x, y = cx + r * math.cos(a), cy + r * math.sin(a)
            if callable(ok) and not ok(x, y):
                continue
            d = min((math.hypot(x - px, y - py) for px, py in placed), default=math.inf)
            if d >= min_d:
                return x, y
            if d > best_d:
                best, best_d = (x, y), d
        return best

    def _place_substations(self, city: City) -> list[Substation]:
        p = self.p
        n = p.substations_per_city
        n_cu = round(n * p.urban_substation_share)
        if p.urban_substation_share > 0 and n >= 2:
            n_cu = max(1, n_cu)
        n_cu = min(n_cu, n)
        n_c = max(1, round(n_cu * 0.4)) if n_cu else 0
        n_u, n_oh = n_cu - n_c, n - n_cu
        placed: list[tuple[float, float]] = []
        sites: list[tuple[float, float, Town | None]] = []
        for _ in range(n_c):
            x, y = self._sample_site((city.x, city.y, 0.0, 0.75 * city.r_centre), placed, 1.8)
            placed.append((x, y))
            sites.append((x, y, None))
        px, py = (float(v) for v in city.park_ring.mean(axis=0))

        def urban_ok(x: float, y: float) -> bool:
            return city.r_centre + 0.4 < math.hypot(x - city.x, y - city.y) < city.r_urban - 0.8

        for i in range(n_u):
            # the first urban substation serves the provincial park
            if i == 0:
                gen = (px, py, 0.8, 2.2)
            else:
                gen = (city.x, city.y, city.r_centre + 0.6, city.r_urban - 1.2)
            x, y = self._sample_site(gen, placed, 2.5, urban_ok)
            placed.append((x, y))
            sites.append((x, y, None))
        towns = sorted(city.towns, key=lambda t: math.atan2(t.y - city.y, t.x - city.x))
        start = self.ri(0, len(towns) - 1) if towns else 0
        oh_sites: list[tuple[float, float]] = []
        for i in range(min(n_oh, len(towns))):
            town = towns[(start + i) % len(towns)]
            gen = (town.x, town.y, 0.0, 0.5 * town.radius)
            x, y = self._sample_site(gen, placed, 2.0)
            placed.append((x, y))
            oh_sites.append((x, y))
            sites.append((x, y, town))

        def rural_ok(x: float, y: float) -> bool:
            if math.hypot(x - city.x, y - city.y) < city.r_urban + 2.0:
                return False
            return all(math.hypot(x - t.x, y - t.y) > t.radius + 1.0 for t in city.towns)

        for _ in range(n_oh - len(oh_sites)):
            if oh_sites:
                ax, ay = oh_sites[self.ri(0, len(oh_sites) - 1)]
                gen = (ax, ay, 7.0, 12.0)
            else:
                gen = (city.x, city.y, city.r_urban + 3.0, city.r_urban + 12.0)
            x, y = self._sample_site(gen, placed, 5.0, rural_ok)
            placed.append((x, y))
            oh_sites.append((x, y))
            sites.append((x, y, None))

        subs = []
        areas = city.classify(np.array([s[0] for s in sites]), np.array([s[1] for s in sites]))
        for k, ((x, y, site_town), area) in enumerate(zip(sites, areas, strict=True)):
            cable = area in (CITY_CENTRE, URBAN)
            number = len(self.subs) + 1
            town_name = site_town.name if site_town is not None else None
            base = self.names.substation(city.name, "cable" if cable else "overhead", town_name, k)
            n_mt = 3 if self.rng.random() < _P_THREE_UNITS[area] else 2
            mt = _MT_SIZES[cable][int(self.rng.random() < 0.5)]
            sub = Substation(
                number=number,
                sid=f"S{number:04d}",
                name=f"{base}变",
                base=base,
                city=city,
                x=x,
                y=y,
                area=area,
                cable=cable,
                mt_types=[mt] * n_mt,
                angle0=self.u(0.0, 2 * math.pi),
                town=site_town,
            )
            self.subs.append(sub)
            subs.append(sub)
        return subs

    def _make_feeders(self, sub: Substation) -> None:
        lo, hi = self.p.feeders_per_section
        ulo, uhi = self.p.main_transformer_loading
        number = 0
        for sec, mt in enumerate(sub.mt_types):
            sn = self.cat.transformer_type(mt).sn_mva
            if sub.cable:
                big = sub.area == CITY_CENTRE and self.rng.random() < 0.5
                nominal = "YJV22-3x400" if big else "YJV22-3x300"
            else:
                nominal = "JKLYJ-240"
            fbar = FEEDER_FBAR["cable" if sub.cable else "overhead"]
            want = self.u(ulo, uhi) * sn / (MT_LOAD_MARGIN * fbar * self.line_s_th(nominal))
            n = int(min(hi, max(lo, round(want))))
            for _ in range(n):
                number += 1
                if sub.cable:
                    trunk = nominal if self.rng.random() < 0.85 else "YJV22-3x300"
                else:
                    trunk = str(_PICK_OH_TRUNK(self.rng))
                f = Feeder(
                    sub=sub,
                    section=sec,
                    number=number,
                    name=f"{sub.base}{number:02d}线",
                    trunk=trunk,
                    s_th=self.line_s_th(trunk),
                )
                sub.feeders.append(f)
                self.feeders.append(f)

    # -- routes
    def _cross_routes(
        self,
        a: Feeder,
        b: Feeder,
        max_len: float,
        avoid: tuple[float, float, float] | None = None,
    ) -> tuple[Route, Route]:
        """Routes of two feeders of different substations that meet between them; with
        ``avoid`` = (x, y, r) the meeting point is pushed out of that disc."""
        s, t = a.sub, b.sub
        dx, dy = t.x - s.x, t.y - s.y
        d = math.hypot(dx, dy)
        nx, ny = -dy / d, dx / d
        off = self.u(-0.25, 0.25) * d
        mx, my = (s.x + t.x) / 2 + nx * off, (s.y + t.y) / 2 + ny * off
        if avoid is not None:
            cx, cy, r = avoid
            dm = math.hypot(mx - cx, my - cy)
            if dm < r:
                ux, uy = ((mx - cx) / dm, (my - cy) / dm) if dm > 1e-6 else (nx, ny)
                mx, my = cx + ux * r, cy + uy * r
        gap = self.u(0.15, 0.4)
        gx, gy = unit(self.u(0.0, 2 * math.pi))
        ends = []
        for sub, sign in ((s, 1.0), (t, -1.0)):
            ex, ey = mx + sign * gx * gap / 2, my + sign * gy * gap / 2
            dist = math.hypot(ex - sub.x, ey - sub.y)
            if dist > max_len:
                ex = sub.x + (ex - sub.x) * max_len / dist
                ey = sub.y + (ey - sub.y) * max_len / dist
            ends.append((ex, ey))
        ra = make_route(self.rng, s.x, s.y, *ends[0], self.u(-0.15, 0.15))
        rb = make_route(self.rng, t.x, t.y, *ends[1], self.u(-0.15, 0.15))
        return ra, rb

    def _petal_routes(self, sub: Substation, length: float) -> tuple[Route, Route]:
        """Two routes leaving ``sub`` side by side and ending close together (花瓣 ring)."""
        theta = sub.next_angle()
        beta = self.u(0.06, 0.13)
        ax, ay = unit(theta - beta)
        bx, by = unit(theta + beta)
        ra = make_route(
            self.rng, sub.x, sub.y, sub.x + length * ax, sub.y + length * ay, -self.u(0.12, 0.25)
        )
        rb = make_route(
            self.rng, sub.x, sub.y, sub.x + length * bx, sub.y + length * by, self.u(0.12, 0.25)
        )
        return ra, rb

    def _radial_route(self, sub: Substation, length: float) -> Route:
        ux, uy = unit(sub.next_angle())
        ex, ey = sub.x + length * ux, sub.y + length * uy
        return make_route(self.rng, sub.x, sub.y, ex, ey, self.u(-0.15, 0.15))

    def _cable_length(self, sub: Substation) -> float:
        return self.u(1.5, 3.0) if sub.area == CITY_CENTRE else self.u(2.0, 4.0)

    def _tie(self, a: Feeder, b: Feeder, sa: float | None = None, sb: float | None = None) -> None:
        self.ties.append(Tie(a, b, sa, sb))
        a.ties += 1
        b.ties += 1
        a.partners.append(b)
        b.partners.append(a)

    @staticmethod
    def _pairs_by_distance(
        subs: list[Substation], max_km: float
    ) -> list[tuple[float, Substation, Substation]]:
        out = []
        for i, s in enumerate(subs):
            for t in subs[i + 1 :]:
                d = math.hypot(s.x - t.x, s.y - t.y)
                if d <= max_km:
                    out.append((d, s, t))
        out.sort(key=lambda e: (e[0], e[1].number, e[2].number))
        return out

    # -- cable
    def _plan_cable(self, city: City, subs: list[Substation]) -> None:
        p, rng = self.p, self.rng
        free: dict[int, list[Feeder]] = {}
        for sub in subs:
            order = rng.permutation(len(sub.feeders))
            kept = []
            for i in order:
                f = sub.feeders[int(i)]
                if rng.random() < p.dedicated_line_share:
                    self._make_dedicated(f)
                else:
                    kept.append(f)
            free[sub.number] = kept

        # double rings: pairs of feeders (two sections) through double RMUs, tied pair to pair
        pairs: list[tuple[Feeder, Feeder]] = []
        for sub in subs:
            if sub.area != CITY_CENTRE or len(sub.mt_types) < 2:
                continue
            fl = free[sub.number]
            for _ in range(int(round(p.double_ring_share * len(fl) / 2))):
                if not fl:
                    break
                f1 = fl[0]
                f2 = next((f for f in fl[1:] if f.section != f1.section), None)
                if f2 is None:
                    break
                fl.remove(f1)
                fl.remove(f2)
                pairs.append((f1, f2))
        cands = []
        for i, (a1, _) in enumerate(pairs):
            for j in range(i + 1, len(pairs)):
                b1 = pairs[j][0]
                d = math.hypot(a1.sub.x - b1.sub.x, a1.sub.y - b1.sub.y)
                if a1.sub is b1.sub:
                    cands.append((3.0, i, j))
                elif d <= CABLE_TIE_MAX_KM:
                    cands.append((d, i, j))
        cands.sort()
        used: set[int] = set()
        for _, i, j in cands:
            if i in used or j in used:
                continue
            used.update((i, j))
            (a1, a2), (b1, b2) = pairs[i], pairs[j]
            if a1.sub is b1.sub:
                ra, rb = self._petal_routes(a1.sub, self._cable_length(a1.sub))
            else:
                ra, rb = self._cross_routes(a1, b1, CABLE_MAX_LEN_KM)
            for f, twin, r in ((a1, a2, ra), (a2, a1, ra), (b1, b2, rb), (b2, b1, rb)):
                f.mode, f.twin, f.route = "double", twin, r
            # tie I-I / II-II, or crosswise when that avoids a tie within one section
            straight = int(a1.section == b1.section) + int(a2.section == b2.section)
            crossed = int(a1.section == b2.section) + int(a2.section == b1.section)
            if a1.sub is b1.sub and crossed < straight:
                self._tie(a1, b2)
                self._tie(a2, b1)
            else:
                self._tie(a1, b1)
                self._tie(a2, b2)
        for k, (f1, f2) in enumerate(pairs):
            if k not in used:
                free[f1.sub.number][:0] = [f1, f2]

        # single rings between neighbouring substations (each with its nearest three)
        links = {s.number: 0 for s in subs}
        for _, s, t in self._pairs_by_distance(subs, CABLE_TIE_MAX_KM):
            if links[s.number] >= 3 or links[t.number] >= 3:
                continue
            links[s.number] += 1
            links[t.number] += 1
            for _ in range(1 + int(rng.random() < 0.5)):
                fs, ft = free[s.number], free[t.number]
                if not fs or not ft:
                    break
                a, b = fs.pop(0), ft.pop(0)
                a.route, b.route = self._cross_routes(a, b, CABLE_MAX_LEN_KM)
                a.mode = b.mode = "ring"
                self._tie(a, b)

        # single rings within a substation, between feeders of different sections
        for sub in subs:
            fl = sorted(free[sub.number], key=lambda f: f.section)
            half = len(fl) // 2
            for i in range(half):
                a, b = fl[i], fl[i + half]
                if a.section == b.section:
                    self._make_dedicated(a)
                    self._make_dedicated(b)
                    continue
                a.route, b.route = self._petal_routes(sub, self._cable_length(sub))
                a.mode = b.mode = "ring"
                self._tie(a, b)
            if len(fl) % 2:
                self._make_dedicated(fl[-1])

    def _make_dedicated(self, f: Feeder) -> None:
        f.mode = "dedicated"
        f.route = self._radial_route(f.sub, self.u(0.5, 2.5))

    # -- overhead
    def _plan_overhead(self, city: City, subs: list[Substation]) -> None:
        p, rng = self.p, self.rng
        # wished tie counts in the proportions of the weights (largest remainder), shuffled
        fl = [f for sub in subs for f in sub.feeders]
        w = np.asarray(p.overhead_tie_weights, dtype=float)
        quota = w / w.sum() * len(fl)
        counts = np.floor(quota).astype(int)
        for i in np.argsort(-(quota - counts), kind="stable")[: len(fl) - int(counts.sum())]:
            counts[i] += 1
        desires = np.repeat(np.arange(4), counts)
        for f, i in zip(fl, rng.permutation(len(fl)), strict=True):
            f.mode = "overhead"
            f.desire = int(desires[i])

        def end_candidate(sub: Substation) -> Feeder | None:
            best = None
            for f in sub.feeders:
                if f.route is None and (best is None or f.desire > best.desire):
                    best = f
            return best

        links = {s.number: 0 for s in subs}
        for _, s, t in self._pairs_by_distance(subs, OVERHEAD_TIE_MAX_KM):
            if links[s.number] >= 3 or links[t.number] >= 3:
                continue
            # overhead ties go round the city, not through it
            avoid = None
            if _segment_distance(city.x, city.y, s.x, s.y, t.x, t.y) < city.r_urban + 1.0:
                avoid = (city.x, city.y, city.r_urban + 2.0)
            made = 0
            for _ in range(1 if rng.random() < 0.6 else 2):
                a, b = end_candidate(s), end_candidate(t)
                if a is None or b is None:
                    break
                a.desire, b.desire = max(a.desire, 1), max(b.desire, 1)
                a.route, b.route = self._cross_routes(a, b, OVERHEAD_MAX_LEN_KM, avoid)
                a.end_used = b.end_used = True
                self._tie(a, b)
                made += 1
            if made:
                links[s.number] += 1
                links[t.number] += 1

        for sub in subs:
            for f in sub.feeders:
                if f.route is None:
                    length = self.u(3.5, 7.5) if sub.area == TOWN else self.u(4.5, 10.0)
                    f.route = self._radial_route(sub, length)

        self._second_ties([f for s in subs for f in s.feeders])

    def _second_ties(self, feeders: list[Feeder]) -> None:
        """Further overhead ties by proximity: from a feeder's end or middle to the nearest
        trunk of another feeder (another substation preferred, never the same section)."""
        if len(feeders) < 2:
            return
        rem = [max(0, f.desire - f.ties) for f in feeders]
        # a feeder can be the far side of a tie if it wants ties at all (at most three)
        room = [3 - f.ties if f.desire > 0 else 0 for f in feeders]
        pts, owner, arcs = [], [], []
        for k, f in enumerate(feeders):
            assert f.route is not None
            s = np.linspace(0.3 * f.route.length, f.route.length, 12)
            x, y = f.route.at(s)
            pts.append(np.column_stack((x, y)))
            owner.append(np.full(len(s), k))
            arcs.append(s)
        all_pts = np.concatenate(pts)
        all_owner = np.concatenate(owner)
        all_arcs = np.concatenate(arcs)
        anchors: list[tuple[int, float | None, float, float]] = []
        for k, f in enumerate(feeders):
            if rem[k] <= 0:
                continue
            assert f.route is not None
            if not f.end_used:
                anchors.append((k, None, *f.route.end))
            for frac in (0.35, 0.55, 0.75):
                anchors.append((k, frac * f.route.length, *f.route.point(frac * f.route.length)))
        if not anchors:
            return
        ax = np.array([a[2] for a in anchors])
        ay = np.array([a[3] for a in anchors])
        dist = np.hypot(ax[:, None] - all_pts[None, :, 0], ay[:, None] - all_pts[None, :, 1])
        cands = []
        for j, f in enumerate(feeders):
            if room[j] <= 0:
                continue
            cols = np.flatnonzero(all_owner == j)
            sub_d = dist[:, cols]
            best = np.argmin(sub_d, axis=1)
            best_d = sub_d[np.arange(len(anchors)), best]
            for i, (k, _, _, _) in enumerate(anchors):
                a = feeders[k]
                if k == j or best_d[i] > SECOND_TIE_MAX_KM:
                    continue
                if a.sub is f.sub and a.section == f.section:
                    continue
                score = float(best_d[i]) * (1.6 if a.sub is f.sub else 1.0)
                cands.append((score, i, j, float(all_arcs[cols[best[i]]])))
        cands.sort(key=lambda c: (c[0], c[1], c[2]))
        used_anchor: set[int] = set()
        for _, i, j, arc_b in cands:
            k, arc_a = anchors[i][0], anchors[i][1]
            a, b = feeders[k], feeders[j]
            if i in used_anchor or rem[k] <= 0 or room[k] <= 0 or room[j] <= 0 or b in a.partners:
                continue
            if arc_a is None and a.end_used:
                continue
            used_anchor.add(i)
            if arc_a is None:
                a.end_used = True
            rem[k] -= 1
            rem[j] -= 1
            room[k] -= 1
            room[j] -= 1
            self._tie(a, b, arc_a, arc_b)

    # ------------------------------------------------------------------ pass 2: size
    def _voltage_cap(self, f: Feeder) -> float:
        assert f.route is not None
        lt = self.cat.line_type(f.trunk)
        per_km = 0.92 * lt.r_ohm_per_km + 0.39 * lt.x_ohm_per_km
        # a town feeder carries much of its load to its far end
        share = 0.5 if f.mode != "overhead" else 0.85 if f.town is not None else 0.65
        eff = share * max(f.route.length, 0.1)
        s_max = VOLTAGE_DROP_BUDGET * lt.vn_kv**2 / (per_km * eff)
        return min(MAX_FEEDER_LOADING, s_max / f.s_th)

    def _size_feeders(self) -> None:
        p, rng = self.p, self.rng
        lo, hi = p.feeder_loading
        for f in self.feeders:
            f.cap = self._voltage_cap(f)

        def limit(f: Feeder) -> float:
            return f.ties / (f.ties + 1) if f.ties else 1.0

        eligible = [f for f in self.feeders if f.ties and f.cap >= limit(f) + 0.06]
        n_over = min(len(eligible), round(p.over_n1_share * len(self.feeders)))
        for i in sorted(rng.choice(len(eligible), size=n_over, replace=False).tolist()):
            eligible[i].over = True
        for f in self.feeders:
            lim = limit(f)
            if f.over:
                f.target = self.u(lim + 0.03, min(lim + 0.22, f.cap))
            elif rng.random() < p.light_feeder_share:
                f.target = self.u(0.12, min(0.28, f.cap))
            else:
                top = min(lim - 0.03, f.cap, hi)
                f.target = (
                    self.u(lo, top) if top - lo >= 0.03 else self.u(max(0.08, top - 0.12), top)
                )
        # keep main transformers within their rating
        for sub in self.subs:
            for sec, mt in enumerate(sub.mt_types):
                sn = self.cat.transformer_type(mt).sn_mva
                fs = [f for f in sub.feeders if f.section == sec]
                load = sum(f.target * f.s_th for f in fs)
                if load > MAX_MT_LOADING * sn:
                    k = MAX_MT_LOADING * sn / load
                    for f in fs:
                        f.target *= k

    # ------------------------------------------------------------------ pass 3: build
    def _build_substation(self, sub: Substation) -> None:
        t = self.tables
        hv = t.add_bus(f"{sub.name} 110kV母线", 110.0, sub.sid, "substation", NAN, sub.x, sub.y)
        t.add_ext_grid(hv, f"{sub.name} 110kV电源")
        for i, mt in enumerate(sub.mt_types):
            n_f = sum(1 for f in sub.feeders if f.section == i)
            bays = float(max(self.ri(12, 16), n_f + 1 + self.ri(2, 4)))
            sec = t.add_bus(
                f"{sub.name} 10kV{ROMAN[i]}段母线", 10.0, sub.sid, "substation", bays, sub.x, sub.y
            )
            tr = t.add_trafo(hv, sec, mt, f"{sub.name} {i + 1}号主变", "main", "public")
            t.add_switch(sec, tr, "t", True, "CB", f"{sub.name} {i + 1}号主变10kV侧开关")
            sub.section_buses.append(sec)
        for i in range(len(sub.section_buses) - 1):
            t.add_switch(
                sub.section_buses[i],
                sub.section_buses[i + 1],
                "b",
                False,
                "CB",
                f"{sub.name} 10kV {ROMAN[i]}-{ROMAN[i + 1]}母联",
            )

    def _build_feeder(self, f: Feeder) -> None:
        if f.built:
            return
        if f.mode == "dedicated":
            self._build_dedicated(f)
        elif f.mode == "overhead":
            self._build_overhead(f)
        elif f.mode == "double" and f.twin is not None:
            self._build_cable([f, f.twin] if f.section < f.twin.section else [f.twin, f])
        else:
            self._build_cable([f])

    def _feeder_area(self, f: Feeder) -> tuple[str, bool]:
        assert f.route is not None
        x, y = f.route.point(0.6 * f.route.length)
        city = f.sub.city
        return city.classify_one(x, y), city.in_park(x, y)

    def _make_dts(self, f: Feeder, area: str, park: bool, dry: bool) -> list[_DT]:
        p, rng = self.p, self.rng
        s_target = f.target * f.s_th
        share = (
            0.75 if park else min(0.9, p.customer_transformer_share * _CUSTOMER_SHARE_FACTOR[area])
        )
        ulo, uhi = p.dt_utilisation
        kvas: list[int] = []
        custs: list[bool] = []
        us: list[float] = []
        total = 0.0
        while total < s_target or not kvas:
            customer = rng.random() < share
            table = (
                _PICK_DT_CUSTOMER["park" if park else area] if customer else _PICK_DT_PUBLIC[area]
            )
            kva = int(table(rng))
            u = self.u(ulo, uhi)
            kvas.append(kva)
            custs.append(customer)
            us.append(u)
            total += kva * u / 1000.0
        k = s_target / total
        out = []
        prefix = "SCB13" if dry else "S13-M"
        for kva, customer, u in zip(kvas, custs, us, strict=True):
            if customer:
                cls = _PICK_CUSTOMER_CLASS["park" if park else area](rng)
                lv = False
            else:
                cls = _PICK_PUBLIC_CLASS[area](rng)
                lv = rng.random() < p.lv_network_share
            out.append(_DT(kva, customer, kva * u * k / 1000.0, str(cls), lv, f"{prefix}-{kva}/10"))
        return out

    def _rmu_layout(self, n_dt: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        left = n_dt
        while left > 0 or not out:
            bays = int(_PICK_RMU_BAYS(self.rng))
            cap = bays - 2
            d = min(left, self.ri(max(1, cap - 1), cap))
            out.append((bays, d))
            left -= d
        return out

    def _build_cable(self, fs: list[Feeder]) -> None:
        t, rng = self.tables, self.rng
        lead = fs[0]
        route = lead.route
        assert route is not None
        area, park = self._feeder_area(lead)
        dry = area == CITY_CENTRE
        dts = [self._make_dts(f, area, park, dry) for f in fs]
        layouts = [self._rmu_layout(len(d)) for d in dts]
        n = max(len(lay) for lay in layouts)
        for lay in layouts:
            while len(lay) < n:
                bays = int(_PICK_RMU_BAYS(rng))
                lay.insert(self.ri(0, len(lay)), (bays, 0))
        arcs = route.length * (np.arange(n) + 1) / n
        xs, ys = route.at(arcs)
        prev = [f.sub.section_buses[f.section] for f in fs]
        dt_iter = [iter(d) for d in dts]
        counters = [0] * len(fs)
        label = lead.name
        if len(fs) == 2:
            label = f"{lead.sub.base}{fs[0].number:02d}/{fs[1].number:02d}线"
        prev_arc = 0.0
        for k in range(n):
            sid = self.station_id("H")
            x, y = float(xs[k]), float(ys[k])
            for j, f in enumerate(fs):
                bays, n_dt = layouts[j][k]
                suffix = f" {ROMAN[j]}段" if len(fs) == 2 else ""
                name = f"{label}{k + 1}号环网柜{suffix}"
                bus = t.add_bus(name, 10.0, sid, "ring_main_unit", float(bays), x, y)
                self.hosts.append(MVHost(bus, f, x, y, cable=True))
                lname = f.name if k == 0 else f"{f.name}{k}-{k + 1}号环网柜"
                ln = t.add_line(prev[j], bus, float(arcs[k]) - prev_arc, f.trunk, lname)
                if k == 0:
                    t.add_switch(prev[j], ln, "l", True, "CB", f"{f.name}出线开关")
                else:
                    t.add_switch(prev[j], ln, "l", True, "LBS", f"{f.name}{k}号环网柜出线开关")
                t.add_switch(bus, ln, "l", True, "LBS", f"{f.name}{k + 1}号环网柜进线开关")
                for _ in range(n_dt):
                    dt = next(dt_iter[j])
                    counters[j] += 1
                    a = self.u(0.0, 2 * math.pi)
                    r = self.u(0.03, 0.15)
                    dx, dy = x + r * math.cos(a), y + r * math.sin(a)
                    self._build_dt(f, dt, counters[j], bus, dx, dy, area, cable=True, dry=dry)
                prev[j] = bus
            prev_arc = float(arcs[k])
        for j, f in enumerate(fs):
            f.end_bus = prev[j]
            f.built = True

    def _build_dedicated(self, f: Feeder) -> None:
        t = self.tables
        assert f.route is not None
        area, _ = self._feeder_area(f)
        dry = area == CITY_CENTRE
        s = f.target * f.s_th
        kva = int(_PICK_DEDICATED(self.rng))
        n = max(2, math.ceil(s / (0.8 * kva / 1000.0)))
        cust = self.names.customer(f.sub.base)
        sid = self.station_id("C")
        x, y = f.route.end
        bays = float(1 + n + self.ri(0, 2))
        bus = t.add_bus(f"{cust}10kV配电站", 10.0, sid, "customer", bays, x, y)
        ln = t.add_line(f.sub.section_buses[f.section], bus, f.route.length, f.trunk, f.name)
        t.add_switch(f.sub.section_buses[f.section], ln, "l", True, "CB", f"{f.name}出线开关")
        t.add_switch(bus, ln, "l", True, "LBS", f"{cust}进线开关")
        std = f"{'SCB13' if dry else 'S13-M'}-{kva}/10"
        cls = "industrial" if area in (TOWN, RURAL) or self.rng.random() < 0.6 else "commercial"
        for i in range(n):
            tname = f"{cust}{i + 1}号专变"
            lv = t.add_bus(f"{tname} 0.4kV母线", 0.4, sid, "customer", NAN, x, y)
            tr = t.add_trafo(bus, lv, std, tname, "distribution", "customer")
            t.add_switch(bus, tr, "t", True, "CB", f"{tname}高压开关")
            t.add_load(lv, s / n, self.u(0.9, 0.95), f"{tname}负荷", cls)
        f.end_bus = bus
        f.built = True

    def _build_overhead(self, f: Feeder) -> None:
        t, rng = self.tables, self.rng
        route = f.route
        assert route is not None
        area, park = self._feeder_area(f)
        if area in (CITY_CENTRE, URBAN):
            area = TOWN
        dts = self._make_dts(f, area, park, dry=False)
        length = route.length
        head = min(self.u(0.15, 0.5), 0.3 * length)
        rest = length - head
        n_sp = max(1, round(rest / self.u(0.22, 0.32)))
        spans = rng.uniform(0.15, 0.4, n_sp)
        spans *= rest / spans.sum()
        arcs = head + np.concatenate(([0.0], np.cumsum(spans)))
        xs, ys = route.at(arcs)
        section_bus = f.sub.section_buses[f.section]
        prev, prev_arc = section_bus, 0.0
        next_sw = self.ri(3, 6)
        poles: list[int] = []
        hosts: list[tuple[int, str, float, float]] = []
        for k in range(len(arcs)):
            sid = self.station_id("P")
            x, y = float(xs[k]), float(ys[k])
            bus = t.add_bus(f"{f.name}{k + 1}号杆", 10.0, sid, "pole", NAN, x, y, "n")
            self.hosts.append(MVHost(bus, f, x, y, cable=False))
            lname = f.name if k == 0 else f"{f.name}{k}-{k + 1}号杆"
            ln = t.add_line(prev, bus, float(arcs[k]) - prev_arc, f.trunk, lname)
            if k == 0:
                t.add_switch(prev, ln, "l", True, "CB", f"{f.name}出线开关")
            elif k == next_sw:
                t.add_switch(prev, ln, "l", True, "LBS", f"{f.name}{k}号杆分段开关")
                next_sw += self.ri(3, 6)
            poles.append(bus)
            if k >= 1 or len(arcs) == 1:
                hosts.append((bus, sid, x, y))
            prev, prev_arc = bus, float(arcs[k])
        f.trunk_buses, f.trunk_arcs, f.end_bus = poles, arcs.tolist(), poles[-1]

        n_br = 0 if len(poles) < 4 else min(4, max(self.ri(0, 2), math.ceil(len(dts) / 12)))
        for b in range(n_br):
            root = self.ri(max(1, int(0.2 * len(poles))), max(1, int(0.9 * len(poles)) - 1))
            side = 1.0 if rng.random() < 0.5 else -1.0
            heading = route.heading(float(arcs[root])) + side * (math.pi / 2 + self.u(-0.5, 0.5))
            blen = self.u(0.4, 2.0)
            nb = max(1, round(blen / self.u(0.15, 0.25)))
            ux, uy = unit(heading)
            std = str(_PICK_BRANCH(rng))
            prev = poles[root]
            px, py = float(xs[root]), float(ys[root])
            for i in range(nb):
                step = blen / nb
                x = px + ux * step + self.u(-0.03, 0.03)
                y = py + uy * step + self.u(-0.03, 0.03)
                sid = self.station_id("P")
                bus = t.add_bus(f"{f.name}{b + 1}支{i + 1}号杆", 10.0, sid, "pole", NAN, x, y, "n")
                self.hosts.append(MVHost(bus, f, x, y, cable=False))
                ln = t.add_line(prev, bus, math.hypot(x - px, y - py), std, f"{f.name}{b + 1}支线")
                if i == 0:
                    t.add_switch(prev, ln, "l", True, "LBS", f"{f.name}{b + 1}支线分支开关")
                hosts.append((bus, sid, x, y))
                prev, px, py = bus, x, y

        free_hosts = [int(i) for i in rng.permutation(len(hosts))]
        for i, dt in enumerate(dts):
            if free_hosts and rng.random() < 0.45:
                bus, sid, x, y = hosts[free_hosts.pop()]
            else:
                hbus, _, hx, hy = hosts[self.ri(0, len(hosts) - 1)]
                a, r = self.u(0.0, 2 * math.pi), self.u(0.03, 0.2)
                x, y = hx + r * math.cos(a), hy + r * math.sin(a)
                sid = self.station_id("P")
                bus = t.add_bus(f"{f.name}{i + 1}号配变杆", 10.0, sid, "pole", NAN, x, y, "n")
                self.hosts.append(MVHost(bus, f, x, y, cable=False))
                t.add_line(hbus, bus, r, "JKLYJ-70", f"{f.name}{i + 1}号配变引线")
            self._build_dt(f, dt, i + 1, bus, x, y, area, cable=False, dry=False, station=sid)
        f.built = True

    def _build_dt(
        self,
        f: Feeder,
        dt: _DT,
        k: int,
        hv: int,
        x: float,
        y: float,
        area: str,
        *,
        cable: bool,
        dry: bool,
        station: str | None = None,
    ) -> None:
        t = self.tables
        owner = "customer" if dt.customer else "public"
        tname = f"{f.name}{k}号公变"
        if dt.customer:
            tname = f"{self.names.customer(f.sub.base)}专变"
        if cable:
            sid = self.station_id("D")
            kind = "distribution_room"
            bays = float(self.ri(8, 12) if dry else self.ri(6, 8))
        else:
            assert station is not None
            sid, kind, bays = station, "pole", float(self.ri(5, 6))
        lv = t.add_bus(f"{tname} 0.4kV母线", 0.4, sid, kind, bays, x, y)
        tr = t.add_trafo(hv, lv, dt.std, tname, "distribution", owner)
        if cable:
            t.add_switch(hv, tr, "t", True, "LBS", f"{tname}高压开关")
        else:
            t.add_switch(hv, tr, "t", True, "DS", f"{tname}跌落式熔断器")
        f.n_dts = max(f.n_dts, k)
        first_load = len(t.load_bus)
        first_line = len(t.line_from)
        self._build_lv(dt, tname, lv, x, y, cable)
        if not dt.customer:
            boxes = len(t.line_from) - first_line
            self.public_dts.append(
                PublicDT(
                    feeder=f,
                    name=tname,
                    hv=hv,
                    lv=lv,
                    x=x,
                    y=y,
                    cable=cable,
                    lv_bays=int(bays),
                    boxes=boxes,
                    loads=list(range(first_load, len(t.load_bus))),
                )
            )

    def _build_lv(self, dt: _DT, tname: str, lv: int, x: float, y: float, cable: bool) -> None:
        """The transformer's loads: on its LV bus, or through LV lines to branch boxes."""
        t, rng = self.tables, self.rng
        pf = self.u(0.9, 0.95)
        if not dt.lv_network:
            t.add_load(lv, dt.s_mva, pf, f"{tname}负荷", dt.load_class)
            return
        n = self.ri(2, 4)
        picker = _PICK_LV_CABLE if cable else _PICK_LV_OVERHEAD
        weights = rng.dirichlet(np.full(n, 3.0))
        to_boxes = dt.s_mva * self.u(0.6, 0.95)
        placed = 0.0
        for i in range(n):
            std = str(picker(rng))
            lt = self.cat.line_type(std)
            cap = 0.55 * SQRT3 * lt.vn_kv * lt.max_i_ka
            length = self.u(0.05, 0.25)
            # and no more than keeps the box within the LV drop budget at peak
            per_mva = length * (0.92 * lt.r_ohm_per_km + 0.39 * lt.x_ohm_per_km) / lt.vn_kv**2
            s_box = min(to_boxes * float(weights[i]), cap, LV_DROP_BUDGET / per_mva)
            a = self.u(0.0, 2 * math.pi)
            bx, by = x + length * math.cos(a), y + length * math.sin(a)
            box = t.add_bus(
                f"{tname}{i + 1}号分支箱",
                0.4,
                self.station_id("B"),
                "lv_branch_box",
                float(self.ri(4, 8)),
                bx,
                by,
            )
            t.add_line(lv, box, length, std, f"{tname}低压{i + 1}路")
            t.add_load(
                box,
                s_box,
                self.u(0.9, 0.95),
                f"{tname}{i + 1}号分支箱负荷",
                str(_PICK_BOX_CLASS(rng)),
            )
            placed += s_box
        rest = dt.s_mva - placed
        if rest > 1e-6:
            t.add_load(lv, rest, pf, f"{tname}负荷", dt.load_class)

    def _build_town_feeders(self, city: City) -> None:
        """A town without a substation of its own gets a radial overhead feeder (from a
        free bay of the nearest substation, a city-centre one only when nothing else is in
        reach) whose trunk runs through the town; its load is the town's own, kept within
        the voltage budget and the main transformer's loading limit."""
        subs = [s for s in self.subs if s.city is city]
        served = {id(s.town) for s in subs if s.town is not None}
        given: dict[int, int] = {}
        for town in city.towns:
            if id(town) in served:
                continue
            best: tuple[float, Substation] | None = None
            for sub in subs:
                d = math.hypot(town.x - sub.x, town.y - sub.y)
                if d > TOWN_FEEDER_MAX_KM or given.get(sub.number, 0) >= 2:
                    continue
                score = d * (1.5 if sub.area == CITY_CENTRE else 1.0)
                if best is None or score < best[0]:
                    best = (score, sub)
            if best is None:
                continue
            sub = best[1]
            section, room = self._section_room(sub)
            ux, uy = town.x - sub.x, town.y - sub.y
            beyond = 0.4 * town.radius / math.hypot(ux, uy)
            route = make_route(
                self.rng,
                sub.x,
                sub.y,
                town.x + ux * beyond,
                town.y + uy * beyond,
                self.u(-0.06, 0.06),
            )
            number = len(sub.feeders) + 1
            f = Feeder(
                sub=sub,
                section=section,
                number=number,
                name=f"{sub.base}{number:02d}线",
                trunk=TOWN_FEEDER_TRUNK,
                s_th=self.line_s_th(TOWN_FEEDER_TRUNK),
                mode="overhead",
                route=route,
                town=town,
            )
            f.cap = self._voltage_cap(f)
            target = min(self.u(0.15, 0.3), f.cap, room / f.s_th)
            if target < 0.05:
                continue
            f.target = target
            given[sub.number] = given.get(sub.number, 0) + 1
            sub.feeders.append(f)
            self.feeders.append(f)
            self._build_overhead(f)
            # the section keeps a free bay: its feeders, its transformer, one spare
            used = sum(1 for g in sub.feeders if g.section == section) + 1
            bus = sub.section_buses[section]
            self.tables.bus_bays[bus] = max(self.tables.bus_bays[bus], float(used + 1))

    def _section_room(self, sub: Substation) -> tuple[int, float]:
        """The bus section with the most room under the main-transformer loading limit."""
        best = (0, -math.inf)
        for sec, mt in enumerate(sub.mt_types):
            sn = self.cat.transformer_type(mt).sn_mva
            load = sum(f.target * f.s_th for f in sub.feeders if f.section == sec)
            room = MAX_MT_LOADING * sn - load
            if room > best[1]:
                best = (sec, room)
        return best

    def _build_tie(self, tie: Tie) -> None:
        t = self.tables
        a, b = tie.a, tie.b
        ba, bb = a.bus_at(tie.sa), b.bus_at(tie.sb)
        length = max(0.05, 1.15 * t.distance(ba, bb))
        ln = t.add_line(ba, bb, length, a.trunk, f"{a.name}-{b.name}联络线")
        t.add_switch(ba, ln, "l", False, "LBS", f"{a.name}-{b.name}联络开关")
        if a.mode != "overhead":
            t.add_switch(bb, ln, "l", True, "LBS", f"{b.name}联络进线开关")

    # ------------------------------------------------------------------ areas
    def rural_bounds(self) -> tuple[float, float, float, float]:
        """The rural area: a box 3 km around every bus and polygon (x0, y0, x1, y1, km)."""
        extra = [np.column_stack((self.tables.bus_x, self.tables.bus_y))]
        for c in self.cities:
            extra += [c.plan_ring, c.park_ring, *(t.ring for t in c.towns)]
        pts = np.concatenate(extra)
        m = 3.0
        x0, y0 = pts.min(axis=0) - m
        x1, y1 = pts.max(axis=0) + m
        return float(x0), float(y0), float(x1), float(y1)

    def corridors_frame(self) -> pd.DataFrame:
        """``net["gridcap_corridors"]``: streets, roads, line routes, rivers, railways."""
        return build_corridors(self, np.random.default_rng([self.p.seed, CORRIDOR_STREAM]))

    def areas_frame(self) -> pd.DataFrame:
        fr = self.frame
        rows: list[tuple[str, str, str, str]] = []
        for c in self.cities:
            cid = f"c{c.index + 1:02d}"
            rows.append(
                (
                    f"{cid}-centre",
                    f"{c.name}市中心城区",
                    CITY_CENTRE,
                    fr.polygon_geojson(c.centre_ring),
                )
            )
            rows.append(
                (f"{cid}-urban", f"{c.name}市城区", URBAN, fr.polygon_geojson(c.urban_ring))
            )
            for k, town in enumerate(c.towns):
                rows.append((f"{cid}-town{k + 1}", town.name, TOWN, fr.polygon_geojson(town.ring)))
            rows.append(
                (f"{cid}-park", c.park_name, "provincial_park", fr.polygon_geojson(c.park_ring))
            )
            rows.append(
                (
                    f"{cid}-plan",
                    f"{c.name}市城市规划区",
                    "urban_planning_area",
                    fr.polygon_geojson(c.plan_ring),
                )
            )
        x0, y0, x1, y1 = self.rural_bounds()
        ring = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        rows.append(("rural", "农村地区", RURAL, fr.polygon_geojson(ring)))
        df = pd.DataFrame(rows, columns=["id", "name", "kind", "geometry"])
        return df.astype(object)
