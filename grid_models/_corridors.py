"""The corridor layer (电力管廊通道): roads, cable ducts, rivers and railways a new line follows.

A network may carry ``net["gridcap_corridors"]``: one row per polyline with ``id``,
``name``, ``kind`` and ``geometry`` (a GeoJSON ``LineString`` in lon/lat, as text).
Traversable kinds are listed in :data:`TRAVERSABLE_KINDS`; ``river`` and ``railway`` rows
are barriers: a traversable segment that crosses one is a crossing (bridge, culvert, pipe
jacking) and carries its kind in ``edge_crossing``. Polylines meet where they share a
vertex (coordinates equal to 1e-7 degree, about a centimetre).

:class:`CorridorNetwork` is the graph a route is found on: a networkx graph for anyone
who wants it, and the same edges as a sparse matrix for fast shortest paths from one site.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from grid_models._errors import Problem

if TYPE_CHECKING:
    import networkx as nx

CORRIDORS_TABLE = "gridcap_corridors"
CorridorKind = Literal["main_road", "road", "rural_road", "lane", "cable_duct", "river", "railway"]
TRAVERSABLE_KINDS: tuple[str, ...] = ("main_road", "road", "rural_road", "lane", "cable_duct")
BARRIER_KINDS: tuple[str, ...] = ("river", "railway")
CORRIDOR_KINDS: tuple[str, ...] = TRAVERSABLE_KINDS + BARRIER_KINDS

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_VERTEX_DIGITS = 7
_CELL_DEG = 0.01  # about a kilometre: the grid that finds edges near a barrier


@dataclass(frozen=True, slots=True)
class Barrier:
    """A river or railway a route may cross only where a corridor crosses it."""

    id: str
    name: str
    kind: str
    lon: np.ndarray
    lat: np.ndarray


@dataclass(eq=False)
class CorridorNetwork:
    """Corridor graph: nodes with coordinates, edges with length, kind and crossing."""

    node_lon: np.ndarray
    node_lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_kind: np.ndarray
    edge_crossing: np.ndarray
    edge_corridor: np.ndarray
    barriers: tuple[Barrier, ...]
    names: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        return len(self.node_lon)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @cached_property
    def _frame(self) -> tuple[float, float, float]:
        lat0 = float(np.nanmean(self.node_lat)) if self.n_nodes else 0.0
        return lat0, _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0)), _M_PER_DEG_LAT

    def _xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        _, kx, ky = self._frame
        return np.column_stack((np.asarray(lon, float) * kx, np.asarray(lat, float) * ky))

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self._xy(self.node_lon, self.node_lat))

    @cached_property
    def matrix(self) -> csr_matrix:
        """Symmetric sparse matrix of edge lengths (m); parallel edges keep the shortest."""
        n = self.n_nodes
        u = np.concatenate((self.edge_u, self.edge_v))
        v = np.concatenate((self.edge_v, self.edge_u))
        w = np.concatenate((self.edge_length_m, self.edge_length_m))
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        # a zero-length edge would vanish from a sparse matrix: keep it as 1 mm
        return csr_matrix((np.maximum(w[first], 1e-3), (u[first], v[first])), shape=(n, n))

    @cached_property
    def _edge_of_pair(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for e, (a, b) in enumerate(zip(self.edge_u.tolist(), self.edge_v.tolist(), strict=True)):
            key = (a, b) if a < b else (b, a)
            best = out.get(key)
            if best is None or self.edge_length_m[e] < self.edge_length_m[best]:
                out[key] = e
        return out

    @cached_property
    def graph(self) -> nx.Graph:
        """The corridors as a networkx graph (nodes carry lon/lat, edges length/kind)."""
        import networkx as nx

        g = nx.Graph()
        for i in range(self.n_nodes):
            g.add_node(i, lon=float(self.node_lon[i]), lat=float(self.node_lat[i]))
        for (a, b), e in self._edge_of_pair.items():
            g.add_edge(
                a,
                b,
                length_m=float(self.edge_length_m[e]),
                kind=str(self.edge_kind[e]),
                crossing=str(self.edge_crossing[e]),
                corridor=str(self.edge_corridor[e]),
            )
        return g

    def nearest_nodes(
        self, lon: np.ndarray | float, lat: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The nearest corridor node of each place and the straight distance to it (m)."""
        lon_a = np.atleast_1d(np.asarray(lon, float))
        lat_a = np.atleast_1d(np.asarray(lat, float))
        if not self.n_nodes:
            return np.full(len(lon_a), -1, np.int64), np.full(len(lon_a), np.inf)
        dist, idx = self._tree.query(self._xy(lon_a, lat_a))
        return np.asarray(idx, np.int64), np.asarray(dist, float)

    def shortest_from(self, node: int, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Route length (m) from ``node`` to every node within ``limit_m`` (inf beyond) and
        the predecessor of each node on its shortest path (-9999 where none)."""
        dist, pred = dijkstra(
            self.matrix,
            directed=False,
            indices=int(node),
            limit=float(limit_m),
            return_predecessors=True,
        )
        return np.asarray(dist, float), np.asarray(pred, np.int64)

    @cached_property
    def component(self) -> np.ndarray:
        """The connected component of every node (nodes that can reach each other)."""
        from scipy.sparse.csgraph import connected_components

        return np.asarray(connected_components(self.matrix, directed=False)[1], np.int64)

    def site_access(
        self, lon: float, lat: float, max_access_m: float, k: int = 8
    ) -> list[tuple[int, float]]:
        """The corridor nodes a site can reach in a straight line: the ``k`` nearest within
        ``max_access_m``, leaving out any whose straight piece would cross a river or a
        railway (a route crosses those only where a corridor does)."""
        if not self.n_nodes:
            return []
        dist, idx = self._tree.query(
            self._xy(np.array([lon]), np.array([lat])),
            k=min(k, self.n_nodes),
            distance_upper_bound=max_access_m,
        )
        d = np.atleast_1d(dist[0])
        i = np.atleast_1d(idx[0])
        found = np.isfinite(d) & (i < self.n_nodes)
        d, i = d[found], i[found]
        blocked = np.zeros(len(i), dtype=bool)
        if len(i) and len(self._walls):
            pieces = np.column_stack(
                (np.full(len(i), lon), np.full(len(i), lat), self.node_lon[i], self.node_lat[i])
            )
            hit, _ = segment_crossings(pieces, self._walls, cell=_CELL_DEG)
            blocked[hit] = True
        return [(int(n), float(m)) for n, m, b in zip(i, d, blocked, strict=True) if not b]

    @cached_property
    def _walls(self) -> np.ndarray:
        """Every barrier segment as a row (lon0, lat0, lon1, lat1)."""
        walls = [
            np.column_stack((b.lon[:-1], b.lat[:-1], b.lon[1:], b.lat[1:])) for b in self.barriers
        ]
        return np.concatenate(walls) if walls else np.zeros((0, 4))

    def shortest_from_access(
        self, access: list[tuple[int, float]], limit_m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Route length (m) from a site joined to the corridors at ``access`` (node, metres)
        to every node within ``limit_m``, and each node's predecessor (-1: the site itself,
        -9999: unreached)."""
        n = self.n_nodes
        base = self.matrix.tocoo()
        nodes = np.array([a for a, _ in access], np.int64)
        lengths = np.maximum(np.array([m for _, m in access], float), 1e-3)
        rows = np.concatenate((base.row, np.full(len(nodes), n), nodes))
        cols = np.concatenate((base.col, nodes, np.full(len(nodes), n)))
        data = np.concatenate((base.data, lengths, lengths))
        graph = csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
        dist, pred = dijkstra(
            graph, directed=False, indices=n, limit=float(limit_m), return_predecessors=True
        )
        pred = np.asarray(pred[:n], np.int64)
        pred[pred == n] = -1
        return np.asarray(dist[:n], float), pred

    def path_nodes(self, predecessors: np.ndarray, target: int) -> list[int]:
        """The nodes from the search's start to ``target``, following the predecessors
        back until one is negative (the start, or the site). Callers ask only for nodes
        the search reached."""
        out: list[int] = []
        node = int(target)
        guard = self.n_nodes + 1
        while node >= 0 and guard:
            out.append(node)
            node = int(predecessors[node])
            guard -= 1
        out.reverse()
        return out

    def path_edges(self, nodes: list[int]) -> list[int]:
        """Edge indices along consecutive ``nodes``."""
        pairs = self._edge_of_pair
        return [pairs[(a, b) if a < b else (b, a)] for a, b in zip(nodes, nodes[1:], strict=False)]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> CorridorNetwork:
        """Build the graph from ``net["gridcap_corridors"]``; bad rows become problems.

        Nodes are numbered in the order the table first reaches them, edges in table
        order: the same table always gives the same graph."""
        n = len(table)

        def column(name: str, default: object) -> list[Any]:
            return table[name].tolist() if name in table.columns else [default] * n

        ids = [str(x) for x in column("id", "")]
        kinds = [str(x) for x in column("kind", "")]
        names_col = [str(x or "") for x in column("name", "")]
        coords = _parse_lines(column("geometry", None))
        problems: list[Problem] = []
        names: dict[str, str] = {}
        barriers: list[Barrier] = []
        rows: list[int] = []  # traversable rows, in table order
        lines: list[np.ndarray] = []
        for k in range(n):
            cid, kind = ids[k], kinds[k]
            if kind not in CORRIDOR_KINDS:
                problems.append(
                    _problem(
                        "corridor_kind",
                        cid,
                        f"corridor {cid!r}: kind {kind!r} is not one"
                        f" of {', '.join(CORRIDOR_KINDS)}",
                    )
                )
                continue
            got = coords[k]
            if got is None or len(got) < 2:
                problems.append(
                    _problem(
                        "corridor_geometry",
                        cid,
                        f"corridor {cid!r}: geometry is not a LineString of two or more"
                        " lon/lat positions",
                    )
                )
                continue
            names[cid] = names_col[k]
            if kind in BARRIER_KINDS:
                barriers.append(
                    Barrier(cid, names_col[k], kind, got[:, 0].copy(), got[:, 1].copy())
                )
            else:
                rows.append(k)
                lines.append(got)
        if rows:
            pts = np.concatenate(lines)
            counts = np.array([len(line) for line in lines])
        else:
            pts, counts = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        key = np.round(pts, _VERTEX_DIGITS)
        uniq, first, inverse = np.unique(
            key[:, 0] + 1j * key[:, 1], return_index=True, return_inverse=True
        )
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
        node = rank[inverse.ravel()]
        order = np.argsort(rank, kind="stable")
        node_lon, node_lat = uniq.real[order], uniq.imag[order]
        row_of = np.repeat(np.arange(len(rows)), counts)
        a, b = node[:-1], node[1:]
        keep = (row_of[1:] == row_of[:-1]) & (a != b)
        u, v = a[keep], b[keep]
        edge_row = np.asarray(rows, dtype=np.int64)[row_of[1:][keep]]
        length = _geodesic(node_lon[u], node_lat[u], node_lon[v], node_lat[v])
        crossing = _crossings(node_lon, node_lat, u, v, barriers)
        return cls(
            node_lon=node_lon,
            node_lat=node_lat,
            edge_u=u,
            edge_v=v,
            edge_length_m=length,
            edge_kind=np.asarray(kinds, dtype=object)[edge_row],
            edge_crossing=crossing,
            edge_corridor=np.asarray(ids, dtype=object)[edge_row],
            barriers=tuple(barriers),
            names=names,
            problems=problems,
        )


def corridors_of(net: Any) -> CorridorNetwork | None:
    """The corridor graph of a pandapower net, or None when it carries no corridors."""
    table = net.get(CORRIDORS_TABLE) if hasattr(net, "get") else None
    if not isinstance(table, pd.DataFrame) or table.empty:
        return None
    graph = CorridorNetwork.from_table(table)
    return graph if graph.n_edges else None


def _problem(code: str, cid: str, message: str) -> Problem:
    return Problem(code, "warning", "corridor", (cid,), message)


def line_coordinates(value: object) -> np.ndarray | None:
    """The (n, 2) lon/lat positions of a GeoJSON LineString (text or dict); None if it is
    not one, or has a position that is not a finite lon/lat."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or value.get("type") != "LineString":
        return None
    try:
        arr = np.asarray(value.get("coordinates"), dtype=float)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 2 or arr.shape[1] < 2 or not np.isfinite(arr[:, :2]).all():
        return None
    if (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
        return None
    return arr[:, :2]


def _parse_lines(values: list[Any]) -> list[np.ndarray | None]:
    """:func:`line_coordinates` of many geometries, GeoJSON text parsed in one go."""
    out: list[np.ndarray | None] = [None] * len(values)
    fast = _fast_lines(values, out)
    text = [k for k, g in enumerate(values) if isinstance(g, str) and k not in fast]
    parsed: list[Any] = []
    if text:
        try:
            parsed = json.loads("[" + ",".join(values[k] for k in text) + "]")
        except ValueError:  # one row is not JSON: parse them one by one
            parsed = [_json_or_none(values[k]) for k in text]
    objs: dict[int, Any] = dict(zip(text, parsed, strict=True))
    good: list[int] = []
    positions: list[Any] = []
    for k, g in enumerate(values):
        if k in fast:
            continue
        obj = objs.get(k, g)
        if not isinstance(obj, dict) or obj.get("type") != "LineString":
            continue
        line = obj.get("coordinates")
        if isinstance(line, list) and len(line) >= 2:
            good.append(k)
            positions.append(line)
        else:
            out[k] = line_coordinates(obj)
    if not good:
        return out
    try:
        flat = np.array([p for line in positions for p in line], dtype=float)
        uniform = flat.ndim == 2 and flat.shape[1] >= 2
    except (TypeError, ValueError):
        uniform = False
    if not uniform:  # ragged or odd positions: the careful way, row by row
        for k, line in zip(good, positions, strict=True):
            out[k] = line_coordinates({"type": "LineString", "coordinates": line})
        return out
    flat = flat[:, :2]
    counts = np.array([len(line) for line in positions])
    ok_pos = (
        np.isfinite(flat).all(axis=1) & (np.abs(flat[:, 0]) <= 180) & (np.abs(flat[:, 1]) <= 90)
    )
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ok_row = np.logical_and.reduceat(ok_pos, starts)
    for k, a, c, ok in zip(good, starts.tolist(), counts.tolist(), ok_row.tolist(), strict=True):
        if ok:
            out[k] = flat[a : a + c]
    return out


_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_POSITION = rf"\[ ?{_NUMBER}, ?{_NUMBER} ?\]"
_POSITIONS = rf"\[ ?{_POSITION}(?:, ?{_POSITION})+ ?\]"
#: A plain 2-D LineString in either key order (the generator's and the bundle's spelling).
_LINE_TEXT = re.compile(
    rf'\{{ ?"type": ?"LineString", ?"coordinates": ?{_POSITIONS} ?\}}'
    rf'|\{{ ?"coordinates": ?{_POSITIONS}, ?"type": ?"LineString" ?\}}'
)


def _fast_lines(values: list[Any], out: list[np.ndarray | None]) -> set[int]:
    """Rows whose text is a plain 2-D LineString: their numbers read in one go (no JSON
    parsing row by row). Fills ``out`` for them and returns their row numbers."""
    rows = [k for k, g in enumerate(values) if isinstance(g, str) and _LINE_TEXT.fullmatch(g)]
    if not rows:
        return set()
    texts = [values[k] for k in rows]
    numbers = np.array(re.findall(_NUMBER, "\n".join(texts)), dtype=float)
    counts = np.array([t.count("[") - 1 for t in texts])
    if numbers.size != 2 * int(counts.sum()):
        return set()  # not what the pattern promised: leave them to the careful way
    flat = numbers.reshape(-1, 2)
    ok_pos = (
        np.isfinite(flat).all(axis=1) & (np.abs(flat[:, 0]) <= 180) & (np.abs(flat[:, 1]) <= 90)
    )
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ok_row = np.logical_and.reduceat(ok_pos, starts)
    for k, a, c, ok in zip(rows, starts.tolist(), counts.tolist(), ok_row.tolist(), strict=True):
        out[k] = flat[a : a + c] if ok else None
    return set(rows)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _geodesic(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    from grid_models._geo import geodesic_m

    return np.asarray(geodesic_m(lon1, lat1, lon2, lat2), float)


def _crossings(
    lon: np.ndarray, lat: np.ndarray, u: np.ndarray, v: np.ndarray, barriers: list[Barrier]
) -> np.ndarray:
    """Per edge: the kind of barrier it crosses ('' for none; a railway wins over a river)."""
    out = np.full(len(u), "", dtype=object)
    if not len(u) or not barriers:
        return out
    edges = np.column_stack((lon[u], lat[u], lon[v], lat[v]))
    walls = [np.column_stack((b.lon[:-1], b.lat[:-1], b.lon[1:], b.lat[1:])) for b in barriers]
    kind = np.concatenate(
        [np.full(len(w), b.kind, dtype=object) for b, w in zip(barriers, walls, strict=True)]
    )
    ie, ib = segment_crossings(edges, np.concatenate(walls), cell=_CELL_DEG)
    railway = kind[ib] == "railway"
    out[ie[~railway]] = "river"
    out[ie[railway]] = "railway"
    return out


def segment_crossings(
    a: np.ndarray, b: np.ndarray, *, cell: float, touching: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) where segment ``a[i]`` crosses segment ``b[j]``; segments are rows
    (x0, y0, x1, y1). Proper crossings only (a shared end point or a touch is none), unless
    ``touching``. Cells of side ``cell`` near the smaller set pick the candidates of the
    larger one, a spatial index finds the pairs, an exact orientation test decides."""
    import shapely

    empty = np.zeros(0, dtype=np.int64)
    if not len(a) or not len(b):
        return empty, empty
    a_small = len(a) <= len(b)
    small, large = (a, b) if a_small else (b, a)
    rows = _near_cells(large, small, cell)
    if not len(rows):
        return empty, empty
    tree = shapely.STRtree(_linestrings(small))
    il, i_small = tree.query(_linestrings(large[rows]), predicate="intersects")
    il = rows[il]
    ia, ib = (i_small, il) if a_small else (il, i_small)
    if not len(ia):
        return empty, empty
    sa, sb = a[ia], b[ib]
    d1 = _orient(sb[:, 0], sb[:, 1], sb[:, 2], sb[:, 3], sa[:, 0], sa[:, 1])
    d2 = _orient(sb[:, 0], sb[:, 1], sb[:, 2], sb[:, 3], sa[:, 2], sa[:, 3])
    d3 = _orient(sa[:, 0], sa[:, 1], sa[:, 2], sa[:, 3], sb[:, 0], sb[:, 1])
    d4 = _orient(sa[:, 0], sa[:, 1], sa[:, 2], sa[:, 3], sb[:, 2], sb[:, 3])
    ok = (d1 * d2 <= 0) & (d3 * d4 <= 0) if touching else (d1 * d2 < 0) & (d3 * d4 < 0)
    return np.asarray(ia[ok], np.int64), np.asarray(ib[ok], np.int64)


def _near_cells(large: np.ndarray, small: np.ndarray, c: float) -> np.ndarray:
    """Rows of ``large`` that may meet a segment of ``small``: an end in a cell next to
    one that ``small`` touches, or longer than a cell (a quick filter, no exact test)."""
    if len(small) * 4 > len(large):
        return np.arange(len(large))
    x0 = np.floor(np.minimum(small[:, 0], small[:, 2]) / c).astype(np.int64) - 1
    x1 = np.floor(np.maximum(small[:, 0], small[:, 2]) / c).astype(np.int64) + 1
    y0 = np.floor(np.minimum(small[:, 1], small[:, 3]) / c).astype(np.int64) - 1
    y1 = np.floor(np.maximum(small[:, 1], small[:, 3]) / c).astype(np.int64) + 1
    ny = y1 - y0 + 1
    total = (x1 - x0 + 1) * ny
    owner = np.repeat(np.arange(len(small)), total)
    k = np.arange(int(total.sum())) - np.repeat(np.cumsum(total) - total, total)
    cx = x0[owner] + k // ny[owner]
    cy = y0[owner] + k % ny[owner]
    code = np.unique(cx * 2_000_003 + cy)
    ex = np.floor(large[:, 0] / c).astype(np.int64)
    ey = np.floor(large[:, 1] / c).astype(np.int64)
    near = np.isin(ex * 2_000_003 + ey, code)
    long = np.abs(large[:, 2] - large[:, 0]) + np.abs(large[:, 3] - large[:, 1]) > c
    return np.flatnonzero(near | long)


def _linestrings(seg: np.ndarray) -> np.ndarray:
    import shapely

    return np.asarray(shapely.linestrings(np.stack((seg[:, 0:2], seg[:, 2:4]), axis=1)))


def _orient(
    px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray, rx: np.ndarray, ry: np.ndarray
) -> np.ndarray:
    return np.asarray((qx - px) * (ry - py) - (qy - py) * (rx - px))


#: What each corridor kind is, for publication (电力管廊通道 and the roads lines follow).
CORRIDOR_KIND_NAMES: dict[str, str] = {
    "cable_duct": "电缆管沟（排管）",
    "main_road": "主干道",
    "road": "道路",
    "rural_road": "乡村道路",
    "lane": "街巷",
    "railway": "铁路（跨越）",
    "river": "河流（跨越）",
}


def corridor_summary(net: Any) -> list[dict[str, Any]]:
    """Per corridor kind: how many and their length (km) — what the seed's 三(二)4 asks to
    publish as 电力管廊通道 (cable ducts) beside the roads new lines follow."""
    table = net.get("gridcap_corridors") if hasattr(net, "get") else None
    if table is None or len(table) == 0:
        return []
    lines = _parse_lines(table["geometry"].tolist())
    totals: dict[str, list[float]] = {}
    for kind, coords in zip(table["kind"].astype(str), lines, strict=True):
        entry = totals.setdefault(kind, [0.0, 0.0])
        entry[0] += 1
        if coords is not None and len(coords) >= 2:
            d = _geodesic(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
            entry[1] += float(d.sum()) / 1000.0
    return [
        {
            "kind": kind,
            "name": CORRIDOR_KIND_NAMES.get(kind, kind),
            "count": int(count),
            "length_km": round(km, 1),
        }
        for kind, (count, km) in sorted(totals.items(), key=lambda kv: -kv[1][1])
    ]
