"""Corridors for the generated network (电力管廊通道): streets, rural roads, the grid's own
line routes, rivers and railways, as ``net["gridcap_corridors"]`` (see
:mod:`grid_models._corridors` for the table and the graph built from it).

What is laid out, all in the generator's local km frame:

- per city a **river** through or near the city and a **railway** passing its edge,
  roughly north–south (the barriers; Anyang gets 洹河 and 京广铁路);
- a **street lattice** in each city (about 400 m apart in the centre, every second line
  continues into the urban ring, so about 800 m there; slightly rotated and jittered) and
  in each town (about 350 m); every third street is a ``main_road``; streets share their
  intersection vertices;
- ``main_road`` links from each city to each of its towns and between neighbouring towns,
  noded where they cross other streets;
- a **rural road grid** (``rural_road``, 2 km, jittered) over the rural bounding box, cut
  out where cities and towns are and joined to their lattices;
- at a river or railway, a main road always crosses (a bridge); of the minor streets and
  rural roads that meet it only every third does, the others stop at it;
- every MV and LV line as a corridor between its buses' positions: MV cable →
  ``cable_duct``, MV overhead → ``road`` in built-up areas, ``rural_road`` outside, LV →
  ``lane``; a distribution transformer's HV-bus position → LV-bus position → ``lane``.
  An LV connection that has to cross a river or railway runs in a duct (``cable_duct``):
  lanes never cross one;
- short **links** from the line corridors to the streets: every line-corridor vertex where
  lines end or branch (degree ≠ 2) and every substation gets a link to the nearest point
  of a street within :data:`LINK_KM` (inserted into the street as a shared vertex), never
  across a barrier; a substation gets one however far the street is. An LV branch box at
  the end of its lane gets none: it reaches the streets through its transformer, which
  keeps the links few (no hairball). A piece of the graph still apart is then joined to
  the largest piece by its shortest link.

Two lanes that meet at a transformer's LV bus are written as one polyline through it, and
consecutive lines of a trunk or branch as one polyline: fewer rows, the same graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from grid_models._generator_geo import (
    AREA_CLASSES,
    RURAL,
    City,
    Frame,
    classify_all,
    crosses_any,
    crossing_pairs,
    intersection_params,
    polyline_segments,
)
from grid_models._generator_names import RoadNames

if TYPE_CHECKING:
    from grid_models._generator_grid import GridBuilder

LINK_KM = 0.4  # a line-corridor vertex this close to a street gets a link to it
RURAL_JOIN_KM = 3.0  # a rural road ending at a city or town joins its lattice within this
REPAIR_KM = 3.0  # a piece of the graph apart from the rest is joined within this
CITY_SPACING_KM = (0.35, 0.45)
TOWN_SPACING_KM = (0.30, 0.40)
RURAL_SPACING_KM = 2.0
LATTICE_TILT = 0.26  # rad, about 15°
CROSS_EVERY = 3  # one in this many minor streets crosses a river or railway
_ROUND = 6  # lon/lat decimals, as the bus geo; polylines join where these agree


@dataclass(frozen=True, eq=False)
class BarrierLine:
    """A river or railway in the local km frame."""

    cid: str
    name: str
    kind: str
    pts: np.ndarray


@dataclass(eq=False)
class _Poly:
    pts: np.ndarray
    kind: str
    name: str
    cid: str
    #: the street line the polyline belongs to (for the one-in-three crossing rule)
    key: tuple[str, int, int] | None = None
    minor: bool = False


@dataclass(eq=False)
class _Lines:
    """Many polylines packed: vertices, offsets (one more than rows), and per row."""

    pts: np.ndarray
    off: np.ndarray
    kind: np.ndarray
    cid: np.ndarray
    name: np.ndarray


def _pack(rows: list[tuple[np.ndarray, str, str, str]]) -> _Lines:
    if not rows:
        return _Lines(np.zeros((0, 2)), np.zeros(1, np.int64), *(np.zeros(0, dtype=object),) * 3)
    counts = [len(r[0]) for r in rows]
    return _Lines(
        np.concatenate([r[0] for r in rows]),
        np.concatenate(([0], np.cumsum(counts))),
        np.array([r[1] for r in rows], dtype=object),
        np.array([r[3] for r in rows], dtype=object),
        np.array([r[2] for r in rows], dtype=object),
    )


def _concat(parts: list[_Lines]) -> _Lines:
    shift = np.cumsum([0] + [len(p.pts) for p in parts])
    return _Lines(
        np.concatenate([p.pts for p in parts]),
        np.concatenate([[0]] + [p.off[1:] + shift[k] for k, p in enumerate(parts)]),
        np.concatenate([p.kind for p in parts]).astype(object),
        np.concatenate([p.cid for p in parts]).astype(object),
        np.concatenate([p.name for p in parts]).astype(object),
    )


def make_barriers(rng: np.random.Generator, cities: list[City]) -> list[BarrierLine]:
    """One river through or near each city and one railway past its edge."""
    out: list[BarrierLine] = []
    for c in cities:
        names = RoadNames(rng, c.name)
        half = c.reach + 6.0
        # the river: roughly west–east, meandering, through the city
        theta = rng.uniform(-0.6, 0.6)
        off = rng.uniform(-0.35, 0.35) * c.r_centre
        s = np.arange(-half, half + 0.2, 0.4)
        w = np.zeros_like(s)
        for _ in range(3):
            w += rng.uniform(0.2, 0.5) * np.sin(
                2 * np.pi * s / rng.uniform(3.0, 9.0) + rng.uniform(0, 2 * np.pi)
            )
        out.append(
            BarrierLine(
                f"c{c.index + 1:02d}-river", names.river(), "river", _along(c, theta, off, s, w)
            )
        )
        # the railway: roughly north–south, gently curved, along the city's edge
        theta = math.pi / 2 + rng.uniform(-0.25, 0.25)
        side = 1.0 if rng.random() < 0.5 else -1.0
        off = side * rng.uniform(0.75, 1.0) * c.r_urban
        s = np.arange(-half, half + 0.5, 1.0)
        w = rng.uniform(0.2, 0.4) * np.sin(
            2 * np.pi * s / rng.uniform(20.0, 30.0) + rng.uniform(0, 2 * np.pi)
        )
        out.append(
            BarrierLine(
                f"c{c.index + 1:02d}-railway",
                names.railway(),
                "railway",
                _along(c, theta, off, s, w),
            )
        )
    return out


def _along(c: City, theta: float, off: float, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    ux, uy = math.cos(theta), math.sin(theta)
    nx, ny = -uy, ux
    return np.column_stack((c.x + off * nx + s * ux + w * nx, c.y + off * ny + s * uy + w * ny))


# --------------------------------------------------------------------------- streets


def _grid_runs(
    exists: np.ndarray, run_u: np.ndarray, run_v: np.ndarray
) -> list[tuple[int, int, np.ndarray, bool, bool]]:
    """Street runs of a grid of vertices: (family, line, vertex positions along the line,
    starts inside, ends inside). Line i of family 0 goes through vertices (i, ·), of
    family 1 through (·, j); it runs where ``run_u`` / ``run_v`` say, and has a vertex
    where both lines run (``exists``). "Inside" = the run stops at a grid point within
    the grid (not at its border)."""
    out: list[tuple[int, int, np.ndarray, bool, bool]] = []
    for family, run, ex in ((0, run_u, exists), (1, run_v.T, exists.T)):
        n, m = run.shape
        for i in range(n):
            r = run[i]
            if not r.any():
                continue
            edges = np.diff(np.concatenate(([0], r.astype(np.int8), [0])))
            starts = np.flatnonzero(edges == 1)
            ends = np.flatnonzero(edges == -1)
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                idx = a + np.flatnonzero(ex[i, a:b])
                if len(idx) >= 2:
                    out.append((family, i, idx, a > 0, b < m))
    return out


def _rotated_grid(
    rng: np.random.Generator,
    cx: float,
    cy: float,
    half: float,
    spacing: float,
    jitter: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Vertices (n, n, 2) of a square grid around (cx, cy), tilted and jittered; also the
    index of the line through the centre."""
    k = math.ceil(half / spacing)
    ticks = np.arange(-k, k + 1) * spacing
    ou, ov = rng.uniform(-0.5, 0.5, 2) * spacing
    uu, vv = np.meshgrid(ticks + ou, ticks + ov, indexing="ij")
    n = len(ticks)
    uu = uu + rng.uniform(-jitter, jitter, (n, n))
    vv = vv + rng.uniform(-jitter, jitter, (n, n))
    a = rng.uniform(-LATTICE_TILT, LATTICE_TILT)
    c, s = math.cos(a), math.sin(a)
    return np.stack((cx + c * uu - s * vv, cy + s * uu + c * vv), axis=-1), np.arange(n), k


class CorridorBuilder:
    """Lays out every corridor of a built grid; :meth:`frame` gives the table."""

    def __init__(self, b: GridBuilder, rng: np.random.Generator) -> None:
        self.b = b
        self.rng = rng
        self.frame_: Frame = b.frame
        self.barriers = b.barriers
        self.bar_seg = (
            np.concatenate([polyline_segments(x.pts) for x in self.barriers])
            if self.barriers
            else np.zeros((0, 4))
        )
        self.streets: list[_Poly] = []
        self.lines: _Lines | None = None
        self.link_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.lattice_pts: list[np.ndarray] = []
        self.city_vertices: dict[int, np.ndarray] = {}
        self.town_vertices: dict[tuple[int, int], np.ndarray] = {}
        self.names = {c.index: RoadNames(rng, c.name) for c in b.cities}

    # ------------------------------------------------------------------ lattices
    def _lattice(
        self,
        vertices: np.ndarray,
        run_u: np.ndarray,
        run_v: np.ndarray,
        centre_line: int,
        prefix: str,
        key_group: str,
        names: RoadNames | None,
        kinds: tuple[str, str],
    ) -> np.ndarray:
        """Streets of one grid; returns the lattice's vertices (for joining)."""
        exists = run_u & run_v
        minor_kind, main_kind = kinds
        line_names: dict[tuple[int, int], str] = {}
        for family, i, idx, _, _ in _grid_runs(exists, run_u, run_v):
            pts = vertices[i, idx] if family == 0 else vertices[idx, i]
            main = main_kind != minor_kind and (i - centre_line) % 3 == 0
            if (family, i) not in line_names:
                line_names[(family, i)] = names.street(main, family) if names else ""
            self.streets.append(
                _Poly(
                    pts,
                    main_kind if main else minor_kind,
                    line_names[(family, i)],
                    f"{prefix}{'uv'[family]}{i:03d}",
                    (key_group, family, i),
                    minor=not main,
                )
            )
        got = vertices[exists]
        self.lattice_pts.append(got)
        return got

    def city_lattices(self) -> None:
        rng = self.rng
        for c in self.b.cities:
            urban, centre = Polygon(c.urban_ring), Polygon(c.centre_ring)
            half = float(np.abs(c.urban_ring - [c.x, c.y]).max()) + 0.5
            spacing = rng.uniform(*CITY_SPACING_KM)
            v, ticks, k = _rotated_grid(rng, c.x, c.y, half, spacing, 0.1 * spacing)
            in_urban = shapely.contains_xy(urban, v[..., 0], v[..., 1])
            in_centre = shapely.contains_xy(centre, v[..., 0], v[..., 1])
            # every second line goes on into the urban ring: ≈ 2 × spacing there
            long_line = (ticks - k) % 2 == 0
            run_u = np.where(long_line[:, None], in_urban, in_centre)
            run_v = np.where(long_line[None, :], in_urban, in_centre)
            cid = f"c{c.index + 1:02d}"
            self.city_vertices[c.index] = self._lattice(
                v, run_u, run_v, k, f"{cid}-st", cid, self.names[c.index], ("road", "main_road")
            )
            for t_i, town in enumerate(c.towns):
                poly = Polygon(town.ring)
                spacing = rng.uniform(*TOWN_SPACING_KM)
                half = float(np.abs(town.ring - [town.x, town.y]).max()) + 0.3
                v, _, k = _rotated_grid(rng, town.x, town.y, half, spacing, 0.1 * spacing)
                inside = shapely.contains_xy(poly, v[..., 0], v[..., 1])
                self.town_vertices[(c.index, t_i)] = self._lattice(
                    v,
                    inside,
                    inside,
                    k,
                    f"{cid}-t{t_i + 1}-st",
                    f"{cid}-t{t_i + 1}",
                    self.names[c.index],
                    ("road", "main_road"),
                )

    def rural_grid(self, bounds: tuple[float, float, float, float]) -> None:
        rng = self.rng
        x0, y0, x1, y1 = bounds
        s = RURAL_SPACING_KM
        xs = np.arange(x0, x1 + s, s)
        ys = np.arange(y0, y1 + s, s)
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        gx = gx + rng.uniform(-0.3, 0.3, gx.shape)
        gy = gy + rng.uniform(-0.3, 0.3, gy.shape)
        built = np.zeros(gx.shape, dtype=bool)
        for c in self.b.cities:
            polys = [Polygon(c.urban_ring)] + [Polygon(t.ring) for t in c.towns]
            near = (np.abs(gx - c.x) < c.reach + s) & (np.abs(gy - c.y) < c.reach + s)
            if not near.any():
                continue
            px, py = gx[near], gy[near]
            hit = np.zeros(len(px), dtype=bool)
            for poly in polys:
                hit |= shapely.contains_xy(poly, px, py)
            built[near] = hit
        free = ~built
        vertices = np.stack((gx, gy), axis=-1)
        ends: list[np.ndarray] = []
        for family, i, idx, start_in, end_in in _grid_runs(free, free, free):
            pts = vertices[i, idx] if family == 0 else vertices[idx, i]
            name = f"{'YX'[family]}{i + 1:03d}{('乡道', '县道')[family]}"
            self.streets.append(
                _Poly(
                    pts,
                    "rural_road",
                    name,
                    f"rural-{'uv'[family]}{i:03d}",
                    ("rural", family, i),
                    True,
                )
            )
            if start_in:
                ends.append(pts[0])
            if end_in:
                ends.append(pts[-1])
        # rural roads that stop at a city or town go on to its lattice
        lattice = np.concatenate(self.lattice_pts) if self.lattice_pts else np.zeros((0, 2))
        if not ends or not len(lattice):
            return
        e = np.array(ends)
        d, j = cKDTree(lattice).query(e)
        ok = d <= RURAL_JOIN_KM
        seg = np.column_stack((e[ok], lattice[j[ok]]))
        seg = seg[~crosses_any(seg, self.bar_seg)]
        for a in seg:
            self.streets.append(_Poly(a.reshape(2, 2), "rural_road", "", "", None, minor=True))

    def main_roads(self) -> None:
        """From each city to each of its towns, and between neighbouring towns."""
        rng = self.rng
        for c in self.b.cities:
            cv = self.city_vertices.get(c.index)
            if cv is None or not len(cv) or not c.towns:
                continue
            ctree = cKDTree(cv)
            names = self.names[c.index]
            cid = f"c{c.index + 1:02d}"
            ends: list[tuple[np.ndarray, np.ndarray, str]] = []
            for t_i, town in enumerate(c.towns):
                tv = self.town_vertices.get((c.index, t_i))
                if tv is None or not len(tv):
                    continue
                d = np.array([town.x - c.x, town.y - c.y])
                u = d / np.linalg.norm(d)
                a = cv[ctree.query(np.array([c.x, c.y]) + u * 0.9 * c.r_urban)[1]]
                b = tv[cKDTree(tv).query(np.array([town.x, town.y]) - u * 0.7 * town.radius)[1]]
                ends.append((a, b, names.highway(c.name, town.name)))
            order = sorted(
                range(len(c.towns)),
                key=lambda k: math.atan2(c.towns[k].y - c.y, c.towns[k].x - c.x),
            )
            pairs = list(zip(order, order[1:] + order[:1], strict=True))
            if len(order) == 2:
                pairs = pairs[:1]
            elif len(order) < 2:
                pairs = []
            for p, q in pairs:
                tp, tq = c.towns[p], c.towns[q]
                vp = self.town_vertices.get((c.index, p))
                vq = self.town_vertices.get((c.index, q))
                if vp is None or vq is None or not len(vp) or not len(vq):
                    continue
                d = np.array([tq.x - tp.x, tq.y - tp.y])
                u = d / np.linalg.norm(d)
                a = vp[cKDTree(vp).query(np.array([tp.x, tp.y]) + u * 0.7 * tp.radius)[1]]
                b = vq[cKDTree(vq).query(np.array([tq.x, tq.y]) - u * 0.7 * tq.radius)[1]]
                ends.append((a, b, names.highway(tp.name, tq.name)))
            for n, (a, b, name) in enumerate(ends):
                self.streets.append(
                    _Poly(_road_between(rng, a, b), "main_road", name, f"{cid}-hw{n + 1:02d}")
                )

    # ------------------------------------------------------------------ noding
    def node_main_roads(self) -> None:
        """Give main roads and the streets they cross a shared vertex at each crossing."""
        is_hw = np.array([p.cid.split("-")[-1].startswith("hw") for p in self.streets])
        if not is_hw.any():
            return
        seg, owner, pos = _segment_table([p.pts for p in self.streets])
        a_rows = np.flatnonzero(is_hw[owner])
        ia, ib = crossing_pairs(seg[a_rows], seg)
        ia = a_rows[ia]
        keep = owner[ia] != owner[ib]
        # a crossing of two main roads is found from both sides: keep one
        keep &= ~(is_hw[owner[ib]] & (ia > ib))
        ia, ib = ia[keep], ib[keep]
        if not len(ia):
            return
        t, u = intersection_params(seg[ia], seg[ib])
        pts = seg[ia, :2] + t[:, None] * (seg[ia, 2:] - seg[ia, :2])
        self._insert(
            np.concatenate((owner[ia], owner[ib])),
            np.concatenate((pos[ia], pos[ib])),
            np.concatenate((t, u)),
            np.concatenate((pts, pts)),
        )

    def _insert(self, owner: np.ndarray, pos: np.ndarray, t: np.ndarray, pts: np.ndarray) -> None:
        """Insert points into street polylines: after vertex ``pos``, ordered by ``t``."""
        order = np.lexsort((t, pos, owner))
        owner, pos, pts = owner[order], pos[order], pts[order]
        bounds = np.flatnonzero(np.diff(np.concatenate(([-1], owner, [-1]))))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            p = self.streets[int(owner[a])]
            p.pts = np.insert(p.pts, pos[a:b] + 1, pts[a:b], axis=0)

    # ------------------------------------------------------------------ barriers
    def cut_at_barriers(self) -> None:
        """Minor streets and rural roads cross a river or railway one in three; the
        crossing segment of the others is dropped."""
        seg, owner, pos = _segment_table([p.pts for p in self.streets])
        if not len(seg) or not len(self.bar_seg):
            return
        bar_owner = np.concatenate(
            [np.full(len(x.pts) - 1, k) for k, x in enumerate(self.barriers)]
        )
        ia, ib = crossing_pairs(seg, self.bar_seg)
        minor = np.array([p.minor and p.key is not None for p in self.streets])
        sel = minor[owner[ia]]
        ia, ib = ia[sel], ib[sel]
        # per barrier and street family: the lines crossing it, ranked along the barrier
        crossing: dict[tuple[int, str, int], set[int]] = {}
        for s_row, b_row in zip(ia.tolist(), ib.tolist(), strict=True):
            key = self.streets[int(owner[s_row])].key
            assert key is not None
            crossing.setdefault((int(bar_owner[b_row]), key[0], key[1]), set()).add(key[2])
        allowed: set[tuple[int, str, int, int]] = set()
        offsets = self.rng.integers(0, CROSS_EVERY, len(self.barriers))
        for (bk, group, family), lines in sorted(crossing.items()):
            for rank, line in enumerate(sorted(lines)):
                if rank % CROSS_EVERY == offsets[bk]:
                    allowed.add((bk, group, family, line))
        drop: dict[int, set[int]] = {}
        for s_row, b_row in zip(ia.tolist(), ib.tolist(), strict=True):
            p = self.streets[int(owner[s_row])]
            assert p.key is not None
            if (int(bar_owner[b_row]), *p.key) not in allowed:
                drop.setdefault(int(owner[s_row]), set()).add(int(pos[s_row]))
        out: list[_Poly] = []
        for k, p in enumerate(self.streets):
            cut = drop.get(k)
            if not cut:
                out.append(p)
                continue
            start = 0
            for s in sorted(cut) + [len(p.pts) - 1]:
                if s - start >= 1:
                    out.append(_Poly(p.pts[start : s + 1], p.kind, p.name, p.cid, p.key, p.minor))
                start = s + 1
        self.streets = out

    # ------------------------------------------------------------------ the grid's lines
    def grid_lines(self) -> None:
        """Every MV and LV line (and every transformer whose two buses stand apart) as a
        corridor; consecutive lines that continue each other become one polyline."""
        t, cat = self.b.tables, self.b.cat
        bx, by = np.asarray(t.bus_x), np.asarray(t.bus_y)
        std = {s: cat.line_type(s) for s in set(t.line_std)}
        lv = np.array([std[s].vn_kv < 1.0 for s in t.line_std], dtype=bool)
        cable = np.array([std[s].kind == "cable" for s in t.line_std], dtype=bool)
        lf = np.asarray(t.line_from, np.int64)
        lt = np.asarray(t.line_to, np.int64)
        th = np.asarray(t.trafo_hv, np.int64)
        tl = np.asarray(t.trafo_lv, np.int64)
        apart = (np.asarray(t.trafo_role, dtype=object) == "distribution") & (
            (bx[th] != bx[tl]) | (by[th] != by[tl])
        )
        dts = np.flatnonzero(apart)
        f = np.concatenate((lf, th[dts]))
        to = np.concatenate((lt, tl[dts]))
        mx, my = (bx[f] + bx[to]) / 2, (by[f] + by[to]) / 2
        rural = classify_all(self.b.cities, mx, my) == AREA_CLASSES.index(RURAL)
        overhead = np.where(rural, "rural_road", "road")
        kind = np.concatenate(
            (
                np.where(lv, "lane", np.where(cable, "cable_duct", overhead[: len(lf)])),
                np.full(len(dts), "lane"),
            )
        )
        ids = np.concatenate((np.arange(len(lf)), -1 - dts))  # line k, or transformer −1 − k
        names = np.asarray(
            list(t.line_name) + [t.trafo_name[k] for k in dts.tolist()], dtype=object
        )
        seg = np.column_stack((bx[f], by[f], bx[to], by[to]))
        # a lane never crosses a river or railway: such a connection runs in a duct
        lane = np.flatnonzero(kind == "lane")
        kind[lane[crosses_any(seg[lane], self.bar_seg)]] = "cable_duct"
        moving = (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
        is_lane = kind == "lane"
        rows = np.flatnonzero(moving & ~is_lane)
        f_, to_, kind_ = f[rows], to[rows], kind[rows]
        # merge consecutive segments that continue each other (a feeder's trunk, a branch)
        cont = np.zeros(len(rows), dtype=bool)
        cont[1:] = (f_[1:] == to_[:-1]) & (kind_[1:] == kind_[:-1]) & (rows[1:] == rows[:-1] + 1)
        starts = np.flatnonzero(~cont)
        verts = np.insert(to_, starts, f_[starts])
        counts = np.diff(np.append(starts, len(rows))) + 1
        first = rows[starts]
        # lanes meet at a transformer's LV bus: two of them make one polyline through it
        lanes = np.flatnonzero(moving & is_lane)
        dt_lane = ids[lanes] < 0  # a transformer's HV-to-LV hop ends at the LV bus
        hub = np.where(dt_lane, to[lanes], f[lanes])
        other = np.where(dt_lane, f[lanes], to[lanes])
        order = np.lexsort((lanes, hub))
        lanes, hub, other = lanes[order], hub[order], other[order]
        group_start = np.flatnonzero(np.r_[True, hub[1:] != hub[:-1]])
        rank = np.arange(len(hub)) - np.repeat(group_start, np.diff(np.r_[group_start, len(hub)]))
        paired = (rank % 2 == 0) & np.r_[hub[1:] == hub[:-1], False]
        a = np.flatnonzero(paired)
        single = np.flatnonzero((rank % 2 == 0) & ~paired)
        lane_verts = np.concatenate(
            (
                np.column_stack((other[a], hub[a], other[a + 1])).ravel(),
                np.column_stack((hub[single], other[single])).ravel(),
            )
        )
        lane_counts = np.concatenate((np.full(len(a), 3), np.full(len(single), 2)))
        lane_first = np.concatenate((lanes[a], lanes[single]))
        verts = np.concatenate((verts, lane_verts))
        counts = np.concatenate((counts, lane_counts))
        first = np.concatenate((first, lane_first))
        self.lines = _Lines(
            np.column_stack((bx[verts], by[verts])),
            np.concatenate(([0], np.cumsum(counts))),
            kind[first].astype(object),
            np.array(
                [f"ln{k}" if k >= 0 else f"dt{-1 - k}" for k in ids[first].tolist()], dtype=object
            ),
            np.where(pd.isna(names[first]), "", names[first]).astype(object),
        )

    # ------------------------------------------------------------------ links
    def link_lines(self) -> None:
        """Links from line-corridor vertices that end or join lines, and from every
        substation, to the nearest point of a street."""
        t = self.b.tables
        lines = self.lines
        if lines is None or not len(lines.pts) or not self.streets:
            return
        weight = np.full(len(lines.pts), 2.0)
        weight[lines.off[:-1]] = 1.0
        weight[lines.off[1:] - 1] = 1.0
        z = lines.pts[:, 0] + 1j * lines.pts[:, 1]
        keys, inverse = np.unique(z, return_inverse=True)
        inverse = inverse.ravel()
        degree = np.bincount(inverse, weights=weight, minlength=len(keys))
        # a branch box at the end of its lane reaches the streets through its transformer
        mv = np.repeat(lines.kind != "lane", np.diff(lines.off))
        on_mv = np.bincount(inverse, weights=mv, minlength=len(keys)) > 0
        box = (degree == 1) & ~on_mv
        kinds = np.asarray(t.bus_kind, dtype=object)
        sub = np.flatnonzero(kinds == "substation")
        sz = np.unique(np.asarray(t.bus_x)[sub] + 1j * np.asarray(t.bus_y)[sub])
        wz = np.union1d(keys[(degree != 2) & ~box], sz)
        want = np.column_stack((wz.real, wz.imag))
        is_sub = np.isin(wz, sz)
        seg, owner, pos = _segment_table([p.pts for p in self.streets])
        tree = shapely.STRtree(_lines(seg))
        (vi, si), _ = tree.query_nearest(
            shapely.points(want), max_distance=LINK_KM, return_distance=True, all_matches=False
        )
        tt, proj = _project(want[vi], seg[si])
        ok = ~crosses_any(np.column_stack((want[vi], proj)), self.bar_seg)
        vi, si, tt, proj = vi[ok], si[ok], tt[ok], proj[ok]
        # substations: always linked, to the nearest street not across a barrier
        linked = np.zeros(len(want), dtype=bool)
        linked[vi] = True
        extra = [
            (k, got)
            for k in np.flatnonzero(is_sub & ~linked).tolist()
            if (got := self._far_street(tree, seg, want[k])) is not None
        ]
        if extra:
            ev = np.array([e[0] for e in extra])
            es = np.array([e[1] for e in extra])
            et, ep = _project(want[ev], seg[es])
            vi, si = np.concatenate((vi, ev)), np.concatenate((si, es))
            tt, proj = np.concatenate((tt, et)), np.concatenate((proj, ep))
        # snap to a segment end when the foot is (nearly) on it; else insert the foot
        length = np.hypot(seg[si, 2] - seg[si, 0], seg[si, 3] - seg[si, 1])
        at_a = tt * length < 0.005
        at_b = ~at_a & ((1 - tt) * length < 0.005)
        proj[at_a] = seg[si[at_a], :2]
        proj[at_b] = seg[si[at_b], 2:]
        mid = ~at_a & ~at_b
        self._insert(owner[si[mid]], pos[si[mid]], tt[mid], proj[mid])
        a = want[vi]
        real = np.hypot(a[:, 0] - proj[:, 0], a[:, 1] - proj[:, 1]) > 1e-6
        self._add_links(a[real], proj[real])

    def _add_links(self, a: np.ndarray, b: np.ndarray) -> None:
        if not len(a):
            return
        cls = classify_all(self.b.cities, a[:, 0], a[:, 1])
        kind = np.where(cls == AREA_CLASSES.index(RURAL), "rural_road", "road").astype(object)
        self.link_parts.append((a, b, kind))

    def _far_street(self, tree: shapely.STRtree, seg: np.ndarray, p: np.ndarray) -> int | None:
        for r in (1.0, 3.0, 10.0, 30.0):
            cand = tree.query(shapely.points(p).buffer(r))
            if not len(cand):
                continue
            _, proj = _project(np.repeat(p[None, :], len(cand), axis=0), seg[cand])
            d = np.hypot(proj[:, 0] - p[0], proj[:, 1] - p[1])
            order = np.argsort(d, kind="stable")
            link = np.column_stack((np.repeat(p[None, :], len(cand), axis=0), proj))[order]
            good = np.flatnonzero(~crosses_any(link, self.bar_seg))
            if len(good):
                return int(cand[order[good[0]]])
        return None

    # ------------------------------------------------------------------ connectivity
    def packed(self) -> _Lines:
        """Every corridor so far, barriers first, as one packed set of polylines."""
        parts = [
            _pack([(x.pts, x.kind, x.name, x.cid) for x in self.barriers]),
            _pack(
                [(p.pts, p.kind, p.name, p.cid) for p in self.streets],
            ),
        ]
        for a, b, kind in self.link_parts:
            n = len(a)
            pts = np.empty((2 * n, 2))
            pts[0::2], pts[1::2] = a, b
            parts.append(
                _Lines(
                    pts,
                    np.arange(0, 2 * n + 1, 2),
                    kind,
                    np.full(n, "", dtype=object),
                    np.full(n, "", dtype=object),
                )
            )
        if self.lines is not None:
            parts.append(self.lines)
        return _concat(parts)

    def repair(self) -> None:
        """Join every piece of the graph that is apart from the largest one to it, by the
        shortest link that crosses no barrier (within :data:`REPAIR_KM`)."""
        all_ = self.packed()
        traversable = ~np.isin(all_.kind, ("river", "railway"))
        keys, inverse, edges = self._graph(all_, traversable)
        n = len(keys)
        if n == 0 or not len(edges):
            return
        g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        n_comp, label = connected_components(g, directed=False)
        used = np.zeros(n, dtype=bool)
        used[edges.ravel()] = True
        label = np.where(used, label, -1)
        sizes = np.bincount(label[label >= 0], minlength=n_comp)
        if (sizes > 0).sum() <= 1:
            return
        main = int(np.argmax(sizes))
        main_pts = keys[label == main]
        tree = cKDTree(main_pts)
        la: list[np.ndarray] = []
        lb: list[np.ndarray] = []
        for comp in np.argsort(-sizes, kind="stable").tolist():
            if comp == main or sizes[comp] == 0:
                continue
            own = keys[label == comp]
            k = min(4, len(main_pts))
            d, j = tree.query(own, k=k, distance_upper_bound=REPAIR_KM)
            d, j = d.reshape(len(own), k), j.reshape(len(own), k)
            rows, cols = np.nonzero(np.isfinite(d))
            if not len(rows):
                continue
            order = np.argsort(d[rows, cols], kind="stable")[:40]
            link = np.column_stack((own[rows[order]], main_pts[j[rows[order], cols[order]]]))
            good = np.flatnonzero(~crosses_any(link, self.bar_seg))
            if len(good):
                la.append(link[good[0], :2])
                lb.append(link[good[0], 2:])
        if la:
            self._add_links(np.array(la), np.array(lb))

    def _graph(self, lines: _Lines, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vertices (km) keyed as the corridor graph keys them (rounded lon/lat), and the
        edges of the chosen rows."""
        pts = lines.pts
        lon, lat = self.frame_.to_lonlat(pts[:, 0], pts[:, 1])
        z = np.round(lon, _ROUND) + 1j * np.round(lat, _ROUND)
        _, first, inverse = np.unique(z, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        row_of = np.repeat(np.arange(len(lines.kind)), np.diff(lines.off))
        a, b = inverse[:-1], inverse[1:]
        keep = (row_of[1:] == row_of[:-1]) & rows[row_of[1:]] & (a != b)
        return pts[first], inverse, np.column_stack((a[keep], b[keep]))

    # ------------------------------------------------------------------ output
    def frame(self) -> pd.DataFrame:
        all_ = self.packed()
        # ids: streets by their line and part, links numbered
        cid = all_.cid.copy()
        n_bar, n_st = len(self.barriers), len(self.streets)
        parts: dict[str, int] = {}
        for k in range(n_bar, n_bar + n_st):
            base = cid[k] or "rj"
            parts[base] = parts.get(base, 0) + 1
            cid[k] = f"{base}-{parts[base]}"
        n_links = sum(len(x[0]) for x in self.link_parts)
        cid[n_bar + n_st : n_bar + n_st + n_links] = [f"lk{k + 1:06d}" for k in range(n_links)]
        lon, lat = self.frame_.to_lonlat(all_.pts[:, 0], all_.pts[:, 1])
        lon, lat = np.round(lon, _ROUND), np.round(lat, _ROUND)
        row_of = np.repeat(np.arange(len(cid)), np.diff(all_.off))
        # drop repeated positions, then rows left with fewer than two
        keep = np.ones(len(lon), dtype=bool)
        keep[1:] = (row_of[1:] != row_of[:-1]) | (lon[1:] != lon[:-1]) | (lat[1:] != lat[:-1])
        lon, lat, row_of = lon[keep], lat[keep], row_of[keep]
        counts = np.bincount(row_of, minlength=len(cid))
        off = np.concatenate(([0], np.cumsum(counts)))
        kind = self._ducts_for_crossing_lanes(all_.kind.copy(), lon, lat, off, n_bar)
        text = [f"[{a:.6f},{b:.6f}]" for a, b in zip(lon.tolist(), lat.tolist(), strict=True)]
        geoms = [
            '{"type":"LineString","coordinates":[' + ",".join(text[a:b]) + "]}"
            for a, b in zip(off[:-1].tolist(), off[1:].tolist(), strict=True)
        ]
        ok = counts >= 2
        df = pd.DataFrame(
            {
                "id": cid[ok],
                "name": all_.name[ok],
                "kind": kind[ok],
                "geometry": np.asarray(geoms, dtype=object)[ok],
            }
        )
        return df.astype(object).reset_index(drop=True)

    @staticmethod
    def _ducts_for_crossing_lanes(
        kind: np.ndarray, lon: np.ndarray, lat: np.ndarray, off: np.ndarray, n_bar: int
    ) -> np.ndarray:
        """The last word on lanes: none may cross a barrier at the rounded positions."""
        if not n_bar:
            return kind
        pts = np.column_stack((lon, lat))
        seg = np.column_stack((pts[:-1], pts[1:]))
        row_of = np.repeat(np.arange(len(kind)), np.diff(off))
        same = row_of[1:] == row_of[:-1]
        bar = seg[same & (row_of[1:] < n_bar)]
        lane_rows = same & (kind[row_of[1:]] == "lane")
        ia, _ = crossing_pairs(seg[lane_rows], bar)
        kind[np.unique(row_of[1:][lane_rows][ia])] = "cable_duct"
        return kind


def build_corridors(b: GridBuilder, rng: np.random.Generator) -> pd.DataFrame:
    """``net["gridcap_corridors"]`` for a built (and densified) grid."""
    c = CorridorBuilder(b, rng)
    c.city_lattices()
    c.rural_grid(b.rural_bounds())
    c.main_roads()
    c.node_main_roads()
    c.cut_at_barriers()
    c.grid_lines()
    c.link_lines()
    c.repair()
    return c.frame()


# --------------------------------------------------------------------------- helpers


def _road_between(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A gently curved road from a to b with a vertex about every 0.8 km; ends exact."""
    d = b - a
    dist = float(np.hypot(*d))
    n = max(2, math.ceil(dist / 0.8) + 1)
    t = np.linspace(0.0, 1.0, n)
    normal = np.array([-d[1], d[0]]) / max(dist, 1e-9)
    bend = rng.uniform(-0.08, 0.08) * dist
    off = bend * 4 * t * (1 - t) + rng.uniform(-0.1, 0.1, n) * np.sin(np.pi * t)
    pts = a + t[:, None] * d + off[:, None] * normal
    pts[0], pts[-1] = a, b
    return np.asarray(pts)


def _segment_table(polys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All segments (x0, y0, x1, y1) of the polylines, their polyline and position."""
    if not polys:
        z = np.zeros(0, dtype=np.int64)
        return np.zeros((0, 4)), z, z
    seg = np.concatenate([polyline_segments(p) for p in polys])
    owner = np.concatenate([np.full(len(p) - 1, k, dtype=np.int64) for k, p in enumerate(polys)])
    pos = np.concatenate([np.arange(len(p) - 1, dtype=np.int64) for p in polys])
    return seg, owner, pos


def _lines(seg: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.linestrings(np.stack((seg[:, 0:2], seg[:, 2:4]), axis=1)))


def _project(p: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parameter t in [0, 1] and the foot of each point on its segment."""
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    den = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((p[:, 0] - seg[:, 0]) * dx + (p[:, 1] - seg[:, 1]) * dy) / den
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    return t, np.column_stack((seg[:, 0] + t * dx, seg[:, 1] + t * dy))


def _link_kind(area_index: int) -> str:
    return "rural_road" if AREA_CLASSES[area_index] == RURAL else "road"


def _dedupe(coords: list[str]) -> list[str]:
    out: list[str] = []
    for c in coords:
        if not out or out[-1] != c:
            out.append(c)
    return out
