"""LV density pass (低压供电半径): branch boxes and public transformers where people live.

The build pass gives only some public transformers an LV network, with boxes placed at
random around them; a customer in the city centre then finds few LV branch boxes
(分支箱) within the 0.38 kV supply radius. This pass, run after the build, places boxes so
that the places where people live are within the LV supply radius of their area class
(domain §6; the radii come from the rules file, ``scheme.candidates.supply_radius_m.lv``):

- **where people live**: the whole city-centre polygon and every town polygon; in the
  urban ring the land within :data:`URBAN_BAND_KM` of a cable feeder's ring-main unit;
  in rural areas a village of radius :data:`VILLAGE_KM` around every rural public
  transformer;
- **sites**: a jittered hexagonal lattice over each of those places, spaced so that
  every place is within the radius of a site (a site whose cell is already covered by
  an existing box is dropped); one site next to each uncovered village transformer;
- **boxes**: each site becomes a box on the LV network of the nearest public transformer
  that reaches it (LV line ≤ :data:`MAX_LV_LENGTH_RATIO` × radius, not across a river or
  railway, with a free LV bay); where none does, a **new public transformer** (box-type
  箱变 in the city, pole-mounted in towns and villages, sized from the catalogue) is set
  up near the site and joined by a short MV line to the nearest MV bus of a feeder
  (a ring-main unit with a free bay — keeping one for customers where another bus is in
  reach —, another new box-type transformer, or a pole);
- **loads move, they are not added**: a new box takes part of its transformer's load, a
  new transformer takes load from the same feeder's other public transformers, classes
  kept. Every feeder's peak (and its typical-day profile) stays what the sizing pass
  chose, so feeder and main-transformer loadings do not change.

Everything is drawn from the pass's own random stream, after the build: the same
parameters and radii always give the same net.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from grid_models._generator_geo import (
    AREA_CLASSES,
    CITY_CENTRE,
    RURAL,
    TOWN,
    URBAN,
    classify_all,
    crosses_any,
    hex_lattice,
)

if TYPE_CHECKING:
    from grid_models._generator_corridors import BarrierLine
    from grid_models._generator_grid import Feeder, GridBuilder

SQRT3 = math.sqrt(3.0)
URBAN_BAND_KM = 0.8  # urban land counted as lived-in: this close to a ring-main unit
VILLAGE_KM = 0.3  # a village around a rural public transformer
SITE_JITTER = 0.10  # of the radius: how far a box may sit off its lattice point
MAX_LV_LENGTH_RATIO = 1.5  # LV line to a box at most this × the supply radius
LV_DETOUR = (1.05, 1.2)  # LV line length / straight distance
MV_DETOUR = 1.15
HOST_REACH_KM = {CITY_CENTRE: 1.0, URBAN: 1.0, TOWN: 1.5, RURAL: 1.0}
TAKE_SHARE = 0.35  # a new transformer takes at most this share of a source load, per pass
BOX_SHARE = (0.4, 0.7)  # share of a transformer's LV-bus load its new boxes take
LV_DROP_BUDGET = 0.05  # estimated voltage drop allowed on an LV line to a box
LV_THERMAL_SHARE = 0.55
RMU_SPARE_BAYS = 1  # free bays a ring-main unit keeps for customers' connections
HOST_CANDIDATES = 48  # nearest MV buses looked at for a new transformer
MIN_SOURCE_MW = 0.05  # a feeder with less public load hosts no new transformer
KEEP_SHARE = 0.4  # a load row keeps at least this share of its built value
MIN_CHUNK_MVA = 0.002  # smaller moves are not worth a load row
_NEW_DT_KVA: dict[str, tuple[int, ...]] = {
    CITY_CENTRE: (315, 400, 500, 630, 800),
    URBAN: (200, 315, 400, 500, 630),
    TOWN: (100, 200, 315, 400),
    RURAL: (100, 200, 315),
}
_LV_CABLE = ("YJV22-0.6/1-4x150", "YJV22-0.6/1-4x240")
# the class just outside a place's polygon (its edge sites): the centre lies in the urban
# ring, a town in the countryside; the urban ring's outer edge is not lived-in land itself
_OUTSIDE = {
    CITY_CENTRE: AREA_CLASSES.index(URBAN),
    URBAN: -1,
    TOWN: AREA_CLASSES.index(RURAL),
    RURAL: -1,
}
_LV_OVERHEAD = "JKLYJ-1-4x120"


@dataclass(eq=False, slots=True)
class PublicDT:
    """A public distribution transformer (公变) as built: what the pass may extend."""

    feeder: Feeder
    name: str
    hv: int
    lv: int
    x: float
    y: float
    cable: bool
    lv_bays: int
    boxes: int  # LV lines leaving the LV bus
    loads: list[int]  # load rows at the LV bus and its boxes
    trafo: int = -1
    new: bool = False
    area: str = ""  # area class at its position (set by the pass)
    new_boxes: list[_Box] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class MVHost:
    """A 10 kV bus a new transformer can be joined to (ring-main unit or pole)."""

    bus: int
    feeder: Feeder
    x: float
    y: float
    cable: bool


@dataclass(eq=False, slots=True)
class _Box:
    bus: int
    name: str
    cap_mva: float
    load_mva: float = 0.0


@dataclass(eq=False, slots=True)
class _Sources:
    """A feeder's built public load rows: row, position of its transformer, what it can
    still give (MVA, above its floor) and at most per new transformer."""

    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    spare: np.ndarray
    per_take: np.ndarray


@dataclass(frozen=True)
class DensityReport:
    """What the pass did, per area class."""

    sites: dict[str, int]
    boxes_added: int
    transformers_added: int
    unserved_sites: dict[str, int]


class _Grid:
    """A bucket grid for 'what is near this point' among points added one by one."""

    def __init__(self, cell_km: float) -> None:
        self.cell = cell_km
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.x: list[float] = []
        self.y: list[float] = []

    def add(self, x: float, y: float) -> int:
        i = len(self.x)
        self.x.append(x)
        self.y.append(y)
        self.cells[(math.floor(x / self.cell), math.floor(y / self.cell))].append(i)
        return i

    def near(self, x: float, y: float, r: float) -> list[tuple[float, int]]:
        """(distance, index) of the points within ``r``, nearest first."""
        c, cells, xs, ys = self.cell, self.cells, self.x, self.y
        out = []
        iy0, iy1 = math.floor((y - r) / c), math.floor((y + r) / c) + 1
        for ix in range(math.floor((x - r) / c), math.floor((x + r) / c) + 1):
            for iy in range(iy0, iy1):
                got = cells.get((ix, iy))
                if got:
                    for i in got:
                        d = math.hypot(xs[i] - x, ys[i] - y)
                        if d <= r:
                            out.append((d, i))
        if len(out) > 1:
            out.sort()
        return out


class _Index:
    """Points known at the start (a k-d tree) plus points added one by one (a grid)."""

    def __init__(self, x: list[float], y: list[float], cell_km: float) -> None:
        self.n0 = len(x)
        self.xy0 = np.column_stack((x, y)).reshape(-1, 2)
        self.tree = cKDTree(self.xy0) if self.n0 else None
        self.grid = _Grid(cell_km)

    def add(self, x: float, y: float) -> int:
        return self.n0 + self.grid.add(x, y)

    def xy(self, i: int) -> tuple[float, float]:
        if i < self.n0:
            return float(self.xy0[i, 0]), float(self.xy0[i, 1])
        k = i - self.n0
        return self.grid.x[k], self.grid.y[k]

    def near_k(self, x: float, y: float, r: float, k: int) -> list[tuple[float, int]]:
        """(distance, index) of the points within ``r``, nearest first; of the points
        known at the start only the ``k`` nearest."""
        out: list[tuple[float, int]] = []
        if self.tree is not None:
            d, idx = self.tree.query((x, y), k=min(k, self.n0), distance_upper_bound=r)
            d, idx = np.atleast_1d(d), np.atleast_1d(idx)
            good = np.isfinite(d)
            out = list(zip(d[good].tolist(), idx[good].tolist(), strict=True))
        out += [(d, self.n0 + i) for d, i in self.grid.near(x, y, r)]
        out.sort()
        return out


class BarrierIndex:
    """Answers 'does this short segment cross a river or a railway?' quickly."""

    def __init__(self, barriers: list[BarrierLine], cell_km: float = 1.0) -> None:
        self.cell = cell_km
        segs = [np.column_stack((b.pts[:-1], b.pts[1:])) for b in barriers]
        self.seg = np.concatenate(segs) if segs else np.zeros((0, 4))
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for k, (x0, y0, x1, y1) in enumerate(self.seg.tolist()):
            for ix in range(
                math.floor(min(x0, x1) / cell_km), math.floor(max(x0, x1) / cell_km) + 1
            ):
                for iy in range(
                    math.floor(min(y0, y1) / cell_km), math.floor(max(y0, y1) / cell_km) + 1
                ):
                    self.cells[(ix, iy)].append(k)

    def crosses(self, ax: float, ay: float, bx: float, by: float) -> bool:
        c = self.cell
        seen: set[int] = set()
        for ix in range(math.floor(min(ax, bx) / c), math.floor(max(ax, bx) / c) + 1):
            for iy in range(math.floor(min(ay, by) / c), math.floor(max(ay, by) / c) + 1):
                for k in self.cells.get((ix, iy), ()):
                    if k in seen:
                        continue
                    seen.add(k)
                    cx, cy, dx, dy = self.seg[k]
                    d1 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
                    d2 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
                    d3 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
                    d4 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
                    if d1 * d2 < 0 and d3 * d4 < 0:
                        return True
        return False


def site_spacing_km(radius_km: float) -> float:
    """Lattice spacing for which every place lies within ``radius_km`` of a jittered site."""
    return SQRT3 * (1.0 - SITE_JITTER) * radius_km * 0.98


def densify_lv(
    b: GridBuilder, radius_km: dict[str, float], rng: np.random.Generator
) -> DensityReport:
    """Run the pass on a built grid (appends buses, lines, transformers, switches, loads;
    moves load between load rows). Returns what it did."""
    return _Densifier(b, radius_km, rng).run()


class _Densifier:
    def __init__(self, b: GridBuilder, radius_km: dict[str, float], rng: np.random.Generator):
        self.b = b
        self.t = b.tables
        self.rng = rng
        self.radius = {k: float(radius_km[k]) for k in AREA_CLASSES}
        self.barrier = BarrierIndex(b.barriers)
        self.dts: list[PublicDT] = list(b.public_dts)
        self.dt_index = _Index([d.x for d in self.dts], [d.y for d in self.dts], 1.0)
        areas = classify_all(
            b.cities, np.array([d.x for d in self.dts]), np.array([d.y for d in self.dts])
        )
        for d, k in zip(self.dts, areas.tolist(), strict=True):
            d.area = AREA_CLASSES[k]
        self.by_feeder: dict[int, list[PublicDT]] = defaultdict(list)
        for d in self.dts:
            self.by_feeder[id(d.feeder)].append(d)
        t = self.t
        n_bus = len(t.bus_x)
        used = (
            np.bincount(np.asarray(t.line_from, np.int64), minlength=n_bus)
            + np.bincount(np.asarray(t.line_to, np.int64), minlength=n_bus)
            + np.bincount(np.asarray(t.trafo_hv, np.int64), minlength=n_bus)
        )
        self.hosts: list[MVHost] = list(b.hosts)
        self.free_bays: dict[int, int] = {}
        self.keep_bays: dict[int, int] = {}  # a ring-main unit keeps a bay for customers
        for h in self.hosts:
            if h.cable:
                self.free_bays[h.bus] = int(t.bus_bays[h.bus]) - int(used[h.bus])
                self.keep_bays[h.bus] = RMU_SPARE_BAYS
        self.host_index = _Index([h.x for h in self.hosts], [h.y for h in self.hosts], 1.0)
        self.n_boxes = 0
        self.n_new = 0
        self.built_mva = [math.hypot(p, q) for p, q in zip(t.load_p, t.load_q, strict=True)]
        self.public_mw: dict[int, float] = {}
        self.line_caps: dict[str, tuple[float, float]] = {}
        self.host_cands: dict[int, list[int]] = {}
        self.sources: dict[int, _Sources] = {}
        self._gamma: list[float] = []
        self._gamma_at = 0

    # ------------------------------------------------------------------ helpers
    def u(self, a: float, b: float) -> float:
        return a + (b - a) * float(self.rng.random())

    def shares(self, n: int) -> list[float]:
        """Random shares summing to one (Dirichlet(2, …, 2)), from a buffer of gamma
        variates drawn in bulk (one numpy call per few thousand, not per split)."""
        if self._gamma_at + n > len(self._gamma):
            self._gamma = self.rng.standard_gamma(2.0, max(4096, n)).tolist()
            self._gamma_at = 0
        g = self._gamma[self._gamma_at : self._gamma_at + n]
        self._gamma_at += n
        total = sum(g)
        return [x / total for x in g]

    def feeder_public_mw(self, f: Feeder) -> float:
        got = self.public_mw.get(id(f))
        if got is None:
            p = self.t.load_p
            got = sum(p[i] for d in self.by_feeder.get(id(f), ()) if not d.new for i in d.loads)
            self.public_mw[id(f)] = got
        return got

    # ------------------------------------------------------------------ sites
    def sites(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[PublicDT | None]]:
        """Box sites (x, y, class index) and, for village sites, their own transformer."""
        t, b, rng = self.t, self.b, self.rng
        kinds = np.asarray(t.bus_kind, dtype=object)
        bx, by = np.asarray(t.bus_x), np.asarray(t.bus_y)
        is_box = kinds == "lv_branch_box"
        boxes = np.column_stack((bx[is_box], by[is_box]))
        box_tree = cKDTree(boxes) if len(boxes) else None
        rmu = np.array([(h.x, h.y) for h in self.hosts if h.cable]).reshape(-1, 2)
        rmu_tree = cKDTree(rmu) if len(rmu) else None

        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        for city in b.cities:
            zones: list[tuple[np.ndarray, str]] = [(city.centre_ring, CITY_CENTRE)]
            zones.append((city.urban_ring, URBAN))
            zones += [(town.ring, TOWN) for town in city.towns]
            for ring, cls in zones:
                r = self.radius[cls]
                s = site_spacing_km(r)
                # the lattice reaches a little beyond the polygon so that its edge is
                # covered too; a site there takes the class of where it stands
                pts, _, _ = hex_lattice(rng, ring, s, SITE_JITTER * r, s / SQRT3)
                here = city.classify_index(pts[:, 0], pts[:, 1])
                keep = (here == AREA_CLASSES.index(cls)) | (here == _OUTSIDE[cls])
                if cls == URBAN:
                    if rmu_tree is None:
                        continue
                    d, _ = rmu_tree.query(pts)
                    keep &= d <= URBAN_BAND_KM + s / 2
                pts = pts[keep]
                if box_tree is not None and len(pts):
                    keep = ~self._covered(box_tree, pts, s / SQRT3, r)
                    pts = pts[keep]
                xs.append(pts[:, 0])
                ys.append(pts[:, 1])
        x = np.concatenate(xs) if xs else np.zeros(0)
        y = np.concatenate(ys) if ys else np.zeros(0)
        cls_idx = classify_all(b.cities, x, y)
        owners: list[PublicDT | None] = [None] * len(x)

        # villages: one box close to every rural public transformer not yet covered
        rural = [d for d in self.dts if d.area == RURAL]
        xy = np.array([(d.x, d.y) for d in rural]).reshape(-1, 2)
        if box_tree is not None and len(xy):
            covered = self._covered(box_tree, xy, VILLAGE_KM, self.radius[RURAL])
        else:
            covered = np.zeros(len(xy), dtype=bool)
        vx: list[float] = []
        vy: list[float] = []
        for d, done in zip(rural, covered.tolist(), strict=True):
            if done:
                continue
            pos = self._offset(d.x, d.y, self.u(0.05, 0.15), self.u(0.0, 2 * math.pi))
            if pos is None:
                continue
            vx.append(pos[0])
            vy.append(pos[1])
            owners.append(d)
        x = np.concatenate((x, np.asarray(vx)))
        y = np.concatenate((y, np.asarray(vy)))
        cls_idx = np.concatenate((cls_idx, classify_all(b.cities, np.asarray(vx), np.asarray(vy))))
        return x, y, cls_idx, owners

    @staticmethod
    def _covered(tree: cKDTree, pts: np.ndarray, rho: float, r: float) -> np.ndarray:
        """Whether the disc of radius ``rho`` around each point is (nearly) within ``r`` of
        an existing box: its centre and six points on its rim are."""
        ang = np.linspace(0.0, 2 * np.pi, 6, endpoint=False)
        probes = [pts]
        for a in ang:
            probes.append(pts + rho * np.array([math.cos(a), math.sin(a)]))
        d, _ = tree.query(np.concatenate(probes))
        return np.asarray((d.reshape(len(probes), len(pts)) <= r).all(axis=0))

    def _offset(self, x: float, y: float, dist: float, angle: float) -> tuple[float, float] | None:
        """A point ``dist`` from (x, y) not across a barrier, trying six directions."""
        for k in range(6):
            a = angle + k * math.pi / 3
            px, py = x + dist * math.cos(a), y + dist * math.sin(a)
            if not self.barrier.crosses(x, y, px, py):
                return px, py
        return None

    # ------------------------------------------------------------------ run
    def run(self) -> DensityReport:
        x, y, cls_idx, owners = self.sites()
        n = len(x)
        sites = {c: int((cls_idx == k).sum()) for k, c in enumerate(AREA_CLASSES)}
        unserved = dict.fromkeys(AREA_CLASSES, 0)
        if not n or self.dt_index.tree is None:
            self._move_loads()
            return DensityReport(sites, 0, 0, unserved)
        reach = np.array([self._reach_km(c) for c in AREA_CLASSES])[cls_idx]
        xy = np.column_stack((x, y))
        first, first_idx = self.dt_index.tree.query(xy)
        order = np.lexsort((np.arange(n), first)).tolist()
        # the built transformers that reach each site (not across a barrier), nearest first
        found = self.dt_index.tree.query_ball_point(xy, reach)
        counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=n)
        si = np.repeat(np.arange(n), counts)
        di = np.fromiter((k for f in found for k in f), dtype=np.int64, count=int(counts.sum()))
        dxy = self.dt_index.xy0[di]
        dist = np.hypot(dxy[:, 0] - x[si], dxy[:, 1] - y[si])
        ok = ~crosses_any(np.column_stack((dxy, x[si], y[si])), self.barrier.seg)
        si, di, dist = si[ok], di[ok], dist[ok]
        by_site = np.lexsort((dist, si))
        si, di, dist = si[by_site], di[by_site], dist[by_site]
        start = np.searchsorted(si, np.arange(n + 1))
        cand_d, cand_i = dist.tolist(), di.tolist()
        # sites no built transformer reaches will need a new one: their MV buses, at once
        self.host_cands = {}
        lonely = np.flatnonzero(start[1:] == start[:-1])
        if len(lonely) and self.host_index.tree is not None:
            k = min(HOST_CANDIDATES, self.host_index.n0)
            bound = max(HOST_REACH_KM.values()) + reach.max()
            _, hi = self.host_index.tree.query(xy[lonely], k=k, distance_upper_bound=bound)
            hi = hi.reshape(len(lonely), k)
            for site, row in zip(lonely.tolist(), hi.tolist(), strict=True):
                self.host_cands[site] = [h for h in row if h < self.host_index.n0]
        for i in order:
            cls = AREA_CLASSES[int(cls_idx[i])]
            sx, sy = float(x[i]), float(y[i])
            owner = owners[i]
            if owner is not None and self._can_take(owner, sx, sy, cls):
                self._add_box(owner, sx, sy, cls)
                continue
            best: tuple[float, PublicDT] | None = None
            for j in range(start[i], start[i + 1]):
                d = self.dts[cand_i[j]]
                if d.boxes < d.lv_bays - 1:
                    best = (cand_d[j], d)
                    break
            # a built transformer that reaches the site takes it; else a new one nearby
            for dist_new, k in () if best else self.dt_index.grid.near(sx, sy, float(reach[i])):
                d = self.dts[self.dt_index.n0 + k]
                if d.boxes < d.lv_bays - 1 and not self.barrier.crosses(d.x, d.y, sx, sy):
                    best = (dist_new, d)
                    break
            dt = best[1] if best is not None else self._new_dt(sx, sy, cls, int(first_idx[i]), i)
            if dt is None:
                unserved[cls] += 1
                continue
            self._add_box(dt, sx, sy, cls)
        self._move_loads()
        return DensityReport(sites, self.n_boxes, self.n_new, unserved)

    def _reach_km(self, cls: str) -> float:
        return MAX_LV_LENGTH_RATIO * self.radius[cls] / LV_DETOUR[1]

    def _can_take(self, dt: PublicDT, sx: float, sy: float, cls: str) -> bool:
        if dt.boxes >= dt.lv_bays - 1:
            return False
        if math.hypot(sx - dt.x, sy - dt.y) > self._reach_km(cls):
            return False
        return not self.barrier.crosses(dt.x, dt.y, sx, sy)

    # ------------------------------------------------------------------ new transformers
    def _new_dt(self, sx: float, sy: float, cls: str, nearest: int, site: int) -> PublicDT | None:
        box_type = cls in (CITY_CENTRE, URBAN)
        reach = self._reach_km(cls)
        # stand the transformer a little into the uncovered land, away from the nearest
        # transformer, so that it can serve the neighbouring sites too
        nx, ny = self.dt_index.xy(nearest)
        for _, k in self.dt_index.grid.near(sx, sy, min(2 * reach, math.hypot(sx - nx, sy - ny))):
            nx, ny = self.dt_index.grid.x[k], self.dt_index.grid.y[k]
            break
        away = math.atan2(sy - ny, sx - nx)
        pos = self._offset(sx, sy, self.u(0.35, 0.6) * reach, away + self.u(-0.5, 0.5))
        if pos is None:
            return None
        px, py = pos
        host = self._host(px, py, cls, box_type, self.host_cands.get(site))
        if host is None:
            return None
        return self._build_dt(host, px, py, cls, box_type)

    def _host(
        self, px: float, py: float, cls: str, box_type: bool, cands: list[int] | None
    ) -> MVHost | None:
        """The nearest MV bus to join a new transformer to: of the matching kind (cable for
        a box-type transformer, a pole for a pole-mounted one) before the other, and a
        ring-main unit's last free bay only when nothing else is in reach. ``cands``: the
        built MV buses near the site, when known."""
        reach = HOST_REACH_KM[cls]
        if cands is None:
            near = self.host_index.near_k(px, py, reach, HOST_CANDIDATES)
        else:
            xy0 = self.host_index.xy0
            near = [
                (d, h) for h in cands if (d := math.hypot(xy0[h, 0] - px, xy0[h, 1] - py)) <= reach
            ]
            near += [
                (d, self.host_index.n0 + i) for d, i in self.host_index.grid.near(px, py, reach)
            ]
            near.sort()
        for spare_kept in (True, False):
            best: MVHost | None = None
            for _, k in near:
                h = self.hosts[k]
                keep = self.keep_bays.get(h.bus, 0) if spare_kept else 0
                if h.cable and self.free_bays.get(h.bus, 0) <= keep:
                    continue
                if h.cable != box_type and best is not None:
                    continue
                if self.feeder_public_mw(h.feeder) < MIN_SOURCE_MW:
                    continue
                if h.cable == box_type:
                    return h
                best = best or h
            if best is not None:
                return best
        return None

    def _build_dt(self, host: MVHost, px: float, py: float, cls: str, box_type: bool) -> PublicDT:
        b, t, f = self.b, self.t, host.feeder
        f.n_dts += 1
        k = f.n_dts
        d_mv = max(0.03, math.hypot(px - host.x, py - host.y) * MV_DETOUR)
        kva = _NEW_DT_KVA[cls][-1]  # the real size is chosen once its load is known
        if box_type:
            tname = f"{f.name}{k}号箱变"
            sid = b.station_id("X")
            hv = t.add_bus(f"{tname} 10kV", 10.0, sid, "distribution_room", 3.0, px, py)
            ln = t.add_line(host.bus, hv, d_mv, "YJV22-3x70", f"{tname}进线")
            t.add_switch(host.bus, ln, "l", True, "LBS", f"{tname}电源侧开关")
            t.add_switch(hv, ln, "l", True, "LBS", f"{tname}进线开关")
            lv_bays = b.ri(6, 8)
            lv = t.add_bus(
                f"{tname} 0.4kV母线", 0.4, sid, "distribution_room", float(lv_bays), px, py
            )
            tr = t.add_trafo(hv, lv, f"S13-M-{kva}/10", tname, "distribution", "public")
            t.add_switch(hv, tr, "t", True, "LBS", f"{tname}高压开关")
            if host.cable:
                self.free_bays[host.bus] -= 1
            self.free_bays[hv] = 1  # in, transformer, one spare bay
        else:
            tname = f"{f.name}{k}号公变"
            sid = b.station_id("P")
            hv = t.add_bus(f"{f.name}{k}号配变杆", 10.0, sid, "pole", float("nan"), px, py, "n")
            std = "YJV22-3x70" if host.cable else "JKLYJ-70"
            t.add_line(host.bus, hv, d_mv, std, f"{f.name}{k}号配变引线")
            if host.cable:
                self.free_bays[host.bus] -= 1
            lv_bays = b.ri(5, 6)
            lv = t.add_bus(f"{tname} 0.4kV母线", 0.4, sid, "pole", float(lv_bays), px, py)
            tr = t.add_trafo(hv, lv, f"S13-M-{kva}/10", tname, "distribution", "public")
            t.add_switch(hv, tr, "t", True, "DS", f"{tname}跌落式熔断器")
        new_host = MVHost(hv, f, px, py, cable=box_type)
        self.hosts.append(new_host)
        self.host_index.add(px, py)
        dt = PublicDT(f, tname, hv, lv, px, py, box_type, lv_bays, 0, [], tr, True, cls)
        self.dts.append(dt)
        self.dt_index.add(px, py)
        self.by_feeder[id(f)].append(dt)
        self.n_new += 1
        return dt

    # ------------------------------------------------------------------ boxes
    def _add_box(self, dt: PublicDT, sx: float, sy: float, cls: str) -> None:
        b, t, cat = self.b, self.t, self.b.cat
        std = _LV_CABLE[int(self.rng.random() < 0.5)] if dt.cable else _LV_OVERHEAD
        limit = MAX_LV_LENGTH_RATIO * self.radius[cls]
        length = min(limit, max(0.03, math.hypot(sx - dt.x, sy - dt.y) * self.u(*LV_DETOUR)))
        dt.boxes += 1
        n = dt.boxes
        name = f"{dt.name}{n}号分支箱"
        bus = t.add_bus(name, 0.4, b.station_id("B"), "lv_branch_box", float(b.ri(4, 8)), sx, sy)
        t.add_line(dt.lv, bus, length, std, f"{dt.name}低压{n}路")
        got = self.line_caps.get(std)
        if got is None:
            lt = cat.line_type(std)
            got = self.line_caps[std] = (
                LV_THERMAL_SHARE * SQRT3 * lt.vn_kv * lt.max_i_ka,
                LV_DROP_BUDGET * lt.vn_kv**2 / (0.92 * lt.r_ohm_per_km + 0.39 * lt.x_ohm_per_km),
            )
        thermal, drop_km = got
        drop = drop_km / max(length, 0.01)
        dt.new_boxes.append(_Box(bus, name, min(thermal, drop)))
        self.n_boxes += 1

    # ------------------------------------------------------------------ loads
    def _move_loads(self) -> None:
        # each new transformer gets a fair part of what its feeder's public load can spare
        spare: dict[int, float] = defaultdict(float)
        n_new: dict[int, int] = defaultdict(int)
        for dt in self.dts:
            key = id(dt.feeder)
            if dt.new:
                n_new[key] += 1
            else:
                spare[key] += sum(self._spare(i) for i in dt.loads)
        for dt in self.dts:
            if dt.new:
                key = id(dt.feeder)
                self._feed_new(dt, spare[key] / max(n_new[key], 1))
        for dt in self.dts:
            if not dt.new and dt.new_boxes:
                self._share_with_boxes(dt)

    def _spare(self, row: int) -> float:
        """What a load row can give away (MVA): down to its floor."""
        s = math.hypot(self.t.load_p[row], self.t.load_q[row])
        return max(0.0, s - KEEP_SHARE * self.built_mva[row])

    def _take(self, src: int, mva: float) -> tuple[float, float]:
        """Remove about ``mva`` from load row ``src`` (same power factor), never below
        :data:`KEEP_SHARE` of what the row had when built; the (p, q) taken."""
        t = self.t
        p, q = t.load_p[src], t.load_q[src]
        s = math.hypot(p, q)
        mva = min(mva, s - KEEP_SHARE * self.built_mva[src])
        if s <= 0 or mva < MIN_CHUNK_MVA:
            return 0.0, 0.0
        frac = mva / s
        dp, dq = round(p * frac, 6), round(q * frac, 6)
        t.load_p[src] = round(p - dp, 6)
        t.load_q[src] = round(q - dq, 6)
        return dp, dq

    def _put(self, bus: int, p: float, q: float, name: str, cls: str) -> None:
        t = self.t
        t.load_bus.append(bus)
        t.load_p.append(p)
        t.load_q.append(q)
        t.load_name.append(name)
        t.load_class.append(cls)

    def _sources(self, f: Feeder) -> _Sources:
        """The feeder's built public load rows, where they stand and what each can give."""
        got = self.sources.get(id(f))
        if got is None:
            rows = [(i, d.x, d.y) for d in self.by_feeder[id(f)] if not d.new for i in d.loads]
            idx = np.array([r[0] for r in rows], dtype=np.int64)
            got = _Sources(
                idx,
                np.array([r[1] for r in rows]),
                np.array([r[2] for r in rows]),
                np.array([self._spare(i) for i in idx.tolist()]),
                np.array([TAKE_SHARE * self.built_mva[i] for i in idx.tolist()]),
            )
            self.sources[id(f)] = got
        return got

    def _feed_new(self, dt: PublicDT, fair_mva: float) -> None:
        """Give a new transformer load taken from its feeder's other public transformers,
        the nearest first, at most ``fair_mva``."""
        t, cat = self.t, self.b.cat
        cls = dt.area
        kva_pref = _NEW_DT_KVA[cls][int(self.rng.integers(len(_NEW_DT_KVA[cls])))]
        lo, hi = self.b.p.dt_utilisation
        need = min(kva_pref / 1000.0 * self.u(lo, hi), fair_mva)
        src = self._sources(dt.feeder)
        got: dict[str, list[float]] = {}
        total = 0.0
        if len(src.rows) and need >= MIN_CHUNK_MVA:
            order = np.argsort((src.x - dt.x) ** 2 + (src.y - dt.y) ** 2, kind="stable")
            give = np.minimum(src.spare[order], src.per_take[order])
            upto = int(np.searchsorted(np.cumsum(give), need)) + 1
            for k, amount in zip(order[:upto].tolist(), give[:upto].tolist(), strict=True):
                mva = min(amount, need - total)
                if mva < MIN_CHUNK_MVA:
                    continue
                row = int(src.rows[k])
                p, q = self._take(row, mva)
                if p <= 0:
                    continue
                taken = math.hypot(p, q)
                src.spare[k] -= taken
                acc = got.setdefault(t.load_class[row], [0.0, 0.0])
                acc[0] += p
                acc[1] += q
                total += taken
        sizes = _NEW_DT_KVA[cls]
        kva = next((k for k in sizes if 0.75 * k / 1000.0 >= total), sizes[-1])
        t.trafo_std[dt.trafo] = f"S13-M-{kva}/10"
        cat.transformer_type(t.trafo_std[dt.trafo])  # the size must exist in the catalogue
        for load_class, (p, q) in sorted(got.items()):
            self._spread(p, q, dt, load_class)

    def _spread(self, p: float, q: float, dt: PublicDT, load_class: str) -> None:
        """Split (p, q) over a new transformer's boxes in random shares, each within what
        its LV line carries; the rest stays on the transformer's LV bus."""
        s = math.hypot(p, q)
        if s <= 0:
            return
        w = self.shares(len(dt.new_boxes) + 1)
        left_p, left_q = p, q
        for box, wk in zip(dt.new_boxes, w, strict=False):
            mva = min(wk * s, box.cap_mva - box.load_mva)
            if mva < MIN_CHUNK_MVA:
                continue
            dp, dq = round(p * mva / s, 6), round(q * mva / s, 6)
            box.load_mva += math.hypot(dp, dq)
            self._put(box.bus, dp, dq, f"{box.name}负荷", load_class)
            left_p -= dp
            left_q -= dq
        dp, dq = round(left_p, 6), round(left_q, 6)
        if dp > 0 or dq > 0:
            self._put(dt.lv, dp, dq, f"{dt.name}负荷", load_class)

    def _share_with_boxes(self, dt: PublicDT) -> None:
        """New boxes on an existing transformer take part of its LV-bus load (or, when
        that is all on boxes already, of its largest box load)."""
        t = self.t
        on_bus = [i for i in dt.loads if t.load_bus[i] == dt.lv and t.load_p[i] > 1e-4]
        srcs = on_bus or ([max(dt.loads, key=lambda i: t.load_p[i])] if dt.loads else [])
        for src in srcs:
            p0, q0 = t.load_p[src], t.load_q[src]
            s0 = math.hypot(p0, q0)
            if s0 <= 0:
                continue
            share = self.u(*BOX_SHARE) if on_bus else 0.3
            w = self.shares(len(dt.new_boxes))
            for box, wk in zip(dt.new_boxes, w, strict=True):
                mva = min(share * wk * s0, box.cap_mva - box.load_mva)
                if mva <= 1e-6:
                    continue
                p, q = self._take(src, mva)
                if p <= 0:
                    continue
                box.load_mva += math.hypot(p, q)
                self._put(box.bus, p, q, f"{box.name}负荷", t.load_class[src])
