"""Small networks for the connection-case library (``tests/data/connection``).

Every network is laid out in a local km frame around (114.30 E, 36.10 N); line lengths are
the straight distances between their buses, so the arithmetic in each case file can be
done by hand: at 36.10° one degree of latitude is 111.195 km and one of longitude
89.845 km (the haversine the product uses, R = 6 371.0088 km). Loads are peaks with no
profile (one time step), so an element's present load is the plain sum of what it feeds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pandapower as pp
import pandas as pd

from grid_models import GridModel, model_from_net, register_std_types

LON0, LAT0 = 114.30, 36.10
KM_PER_DEG_LAT = 6371.0088 * math.pi / 180.0
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(LAT0))


def lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    return LON0 + x_km / KM_PER_DEG_LON, LAT0 + y_km / KM_PER_DEG_LAT


class CaseNet:
    """A 110/10/0.4 kV network built piece by piece in km coordinates."""

    def __init__(self, name: str) -> None:
        self.net = pp.create_empty_network(name=name)
        register_std_types(self.net)
        self.xy: dict[int, tuple[float, float]] = {}
        self.corridors: list[tuple[str, str, str, list[tuple[float, float]]]] = []

    def bus(
        self,
        vn_kv: float,
        x: float,
        y: float,
        kind: str | None = None,
        bays: int | None = None,
        name: str | None = None,
    ) -> int:
        lon, lat = lonlat(x, y)
        geo = json.dumps({"type": "Point", "coordinates": [lon, lat]})
        b = int(pp.create_bus(self.net, vn_kv, name=name, geo=geo))
        if kind is not None:
            self.net.bus.loc[b, "station_kind"] = kind
        if bays is not None:
            self.net.bus.loc[b, "bays_total"] = float(bays)
        self.xy[b] = (x, y)
        return b

    def substation(
        self,
        name: str,
        x: float,
        y: float,
        sections: int = 2,
        bays: int = 12,
        unit: str = "SZ13-63000/110",
    ) -> list[int]:
        """A 110 kV source, one main transformer per 10 kV section (open couplers)."""
        hv = self.bus(110.0, x, y, "substation", name=f"{name} 110kV")
        pp.create_ext_grid(self.net, hv, vm_pu=1.0)
        out = []
        for k in range(sections):
            mv = self.bus(10.0, x, y, "substation", bays, name=f"{name} 10kV {k + 1}段")
            pp.create_transformer(self.net, hv, mv, unit, name=f"{name} {k + 1}号主变")
            out.append(mv)
        for a, b in zip(out, out[1:], strict=False):
            pp.create_switch(self.net, a, b, "b", closed=False, type="CB")
        return out

    def pole(self, x: float, y: float, name: str | None = None) -> int:
        return self.bus(10.0, x, y, "pole", name=name)

    def line(self, a: int, b: int, std: str, switch: str | None = None) -> int:
        """A line a–b as long as the straight distance; ``switch`` (CB/LBS) at ``a``."""
        (xa, ya), (xb, yb) = self.xy[a], self.xy[b]
        length = max(math.hypot(xb - xa, yb - ya), 0.001)
        ln = int(pp.create_line(self.net, a, b, length, std))
        if switch:
            pp.create_switch(self.net, a, ln, "l", closed=True, type=switch)
        return ln

    def chain(self, start: int, points: list[tuple[float, float]], std: str) -> list[int]:
        """Poles at ``points`` joined in order from ``start`` (a CB at the start)."""
        out, prev = [], start
        for k, (x, y) in enumerate(points):
            b = self.pole(x, y)
            self.line(prev, b, std, "CB" if k == 0 else None)
            out.append(b)
            prev = b
        return out

    def load(self, bus: int, p_mw: float, q_mvar: float = 0.0) -> None:
        pp.create_load(self.net, bus, p_mw, q_mvar)

    def transformer(self, hv: int, std: str, lv_load_kw: float, box_offset_km: float = 0.1) -> int:
        """A public distribution transformer at ``hv`` with one LV cable to a branch box
        east of it; the whole LV load sits at the box. Returns the box bus."""
        x, y = self.xy[hv]
        lv = self.bus(0.4, x, y, "pole")
        pp.create_transformer(self.net, hv, lv, std)
        box = self.bus(0.4, x + box_offset_km, y, "lv_branch_box", 6)
        self.line(lv, box, "YJV22-0.6/1-4x150")
        if lv_load_kw:
            self.load(box, lv_load_kw / 1000.0)
        return box

    def corridor(self, cid: str, kind: str, points: list[tuple[float, float]]) -> None:
        self.corridors.append((cid, kind, cid, points))

    def model(self) -> GridModel:
        if self.corridors:
            rows = [
                {
                    "id": cid,
                    "name": name,
                    "kind": kind,
                    "geometry": json.dumps(
                        {"type": "LineString", "coordinates": [list(lonlat(x, y)) for x, y in pts]}
                    ),
                }
                for cid, kind, name, pts in self.corridors
            ]
            self.net["gridcap_corridors"] = pd.DataFrame(rows).astype(object)
        return model_from_net(self.net, model_id=self.net.name)


def multi_mva_bay_in_reach() -> GridModel:
    """One substation (2 × 63 MVA, two sections, 12 bays each); from section 1 a radial
    JKLYJ-240 feeder east with poles at 0.5, 1.0 and 1.5 km, 2 MW + 0.66 Mvar on each."""
    n = CaseNet("multi_mva_bay_in_reach")
    s1, _ = n.substation("甲变", 0.0, 0.0)
    poles = n.chain(s1, [(0.5, 0.0), (1.0, 0.0), (1.5, 0.0)], "JKLYJ-240")
    for p in poles:
        n.load(p, 2.0, 0.66)
    return n.model()


def first_level_pair() -> GridModel:
    """Two substations 6 km apart (甲 at x = 0, 乙 at x = 6 km), one section each with
    12 bays; each feeds a radial JKLYJ-70 feeder towards the middle, poles at 1.5, 2.5 and
    2.8 km from its own substation, 1.0 MW + 0.33 Mvar on each pole."""
    n = CaseNet("first_level_pair")
    (a,) = n.substation("甲变", 0.0, 0.0, sections=1)
    (b,) = n.substation("乙变", 6.0, 0.0, sections=1)
    for start, sign, x0 in ((a, 1.0, 0.0), (b, -1.0, 6.0)):
        poles = n.chain(
            start,
            [(x0 + sign * 1.5, 0.0), (x0 + sign * 2.5, 0.0), (x0 + sign * 2.8, 0.0)],
            "JKLYJ-70",
        )
        for p in poles:
            n.load(p, 1.0, 0.33)
    return n.model()


def beyond_one_circuit() -> GridModel:
    """One substation (2 × 63 MVA, two sections, 12 bays each), no feeders."""
    n = CaseNet("beyond_one_circuit")
    n.substation("甲变", 0.0, 0.0)
    return n.model()


def upgrade_closes_gap() -> GridModel:
    """One substation, one section with its only bay used (bays_total 1); a radial feeder:
    trunk JKLYJ-150 poles T1..T3 at 0.5, 1.0, 1.5 km east; a JKLYJ-70 branch behind an LBS
    at T1 going north, poles B1, B2 at 0.3 and 0.6 km. Loads: T2 2.0 MW + 0.66 Mvar;
    B1 and B2 1.8 MW + 0.594 Mvar each."""
    n = CaseNet("upgrade_closes_gap")
    (s,) = n.substation("甲变", 0.0, 0.0, sections=1, bays=1)
    t1, t2, t3 = n.chain(s, [(0.5, 0.0), (1.0, 0.0), (1.5, 0.0)], "JKLYJ-150")
    b1 = n.pole(0.5, 0.3)
    n.line(t1, b1, "JKLYJ-70", "LBS")
    b2 = n.pole(0.5, 0.6)
    n.line(b1, b2, "JKLYJ-70")
    n.load(t2, 2.0, 0.66)
    n.load(b1, 1.8, 0.594)
    n.load(b2, 1.8, 0.594)
    return n.model()


def transformer_full() -> GridModel:
    """One substation; a JKLYJ-240 feeder east, poles at 0.5 and 1.0 km; at the 1.0 km
    pole a public S13-M-100/10 whose LV cable (YJV22-0.6/1-4x150) reaches a branch box
    0.1 km further east carrying 80 kW."""
    n = CaseNet("transformer_full")
    s1, _ = n.substation("甲变", 0.0, 0.0)
    _, p2 = n.chain(s1, [(0.5, 0.0), (1.0, 0.0)], "JKLYJ-240")
    n.transformer(p2, "S13-M-100/10", 80.0)
    return n.model()


def river_between() -> GridModel:
    """One substation at the origin (two sections); a JKLYJ-240 feeder north along x = 0
    with poles at y = 0.5 and 1.0 km. Corridors (roads): the feeder's own (0,0)–(0,0.5)–
    (0,1); a dead end (0,0)–(0.9,0) short of a river that runs along x = 1.0 km; east of
    the river (1.5,0)–(3,0)–(3,1)–(1.5,1)–(0,1), whose last piece crosses the river on a
    bridge at (1.0, 1.0); and an island road (8,5)–(9,5) joined to nothing."""
    n = CaseNet("river_between")
    s1, _ = n.substation("甲变", 0.0, 0.0)
    n.chain(s1, [(0.0, 0.5), (0.0, 1.0)], "JKLYJ-240")
    n.corridor("feeder-road", "road", [(0.0, 0.0), (0.0, 0.5), (0.0, 1.0)])
    n.corridor("dead-end", "road", [(0.0, 0.0), (0.9, 0.0)])
    n.corridor("east-loop", "road", [(1.5, 0.0), (3.0, 0.0), (3.0, 1.0), (1.5, 1.0), (0.0, 1.0)])
    n.corridor("river", "river", [(1.0, -1.0), (1.0, 3.0)])
    n.corridor("island", "road", [(8.0, 5.0), (9.0, 5.0)])
    return n.model()


def tie_relief() -> GridModel:
    """Two substations 4 km apart (甲 at x = 0, 乙 at x = 4 km), one section each whose
    only bay is used. Feeder A from 甲: JKLYJ-240 poles A1, A2, A3 at 0.5, 1.0, 1.5 km, an
    LBS before A3; feeder B from 乙: poles B1, B2, B3 at 3.5, 3.0, 2.5 km; a normally-open
    JKLYJ-240 tie A3–B3 (open at A3). Loads (Q = 0.33 P): A1 2.0, A2 2.0, A3 1.5 MW;
    B1, B2, B3 1.8 MW each."""
    n = CaseNet("tie_relief")
    (a,) = n.substation("甲变", 0.0, 0.0, sections=1, bays=1)
    (b,) = n.substation("乙变", 4.0, 0.0, sections=1, bays=1)
    a1, a2 = n.chain(a, [(0.5, 0.0), (1.0, 0.0)], "JKLYJ-240")
    a3 = n.pole(1.5, 0.0)
    n.line(a2, a3, "JKLYJ-240", "LBS")
    b1, b2, b3 = n.chain(b, [(3.5, 0.0), (3.0, 0.0), (2.5, 0.0)], "JKLYJ-240")
    tie = n.line(a3, b3, "JKLYJ-240")
    pp.create_switch(n.net, a3, tie, "l", closed=False, type="LBS")
    for bus, p in ((a1, 2.0), (a2, 2.0), (a3, 1.5), (b1, 1.8), (b2, 1.8), (b3, 1.8)):
        n.load(bus, p, 0.33 * p)
    return n.model()


NETWORKS: dict[str, Callable[[], GridModel]] = {
    f.__name__: f
    for f in (
        multi_mva_bay_in_reach,
        first_level_pair,
        beyond_one_circuit,
        upgrade_closes_gap,
        transformer_full,
        river_between,
        tie_relief,
    )
}
