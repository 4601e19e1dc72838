"""Routes of new lines (线路路径): along the network's corridors, or crow-fly × a factor.

Where the network carries a corridor layer (roads, cable ducts, crossings of rivers and
railways, :class:`grid_models.CorridorNetwork`), a route is the shortest path along it: one
shortest-path search from the site's nearest corridor node gives every connection point's
route length at once; the site and each point join the corridors by a straight access
piece. Without corridors the route is the geodesic distance × ``route_factor`` and says
so (``method: geodesic``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from grid_models import GridModel, geodesic_m


@dataclass(frozen=True, slots=True)
class Route:
    """A new line's route: length, how it was found, what it runs along and crosses."""

    length_m: float
    method: str  # corridor | geodesic
    geodesic_m: float
    by_kind: tuple[tuple[str, float], ...]  # corridor kind (or access / geodesic) → metres
    crossings: tuple[str, ...]  # river / railway, one entry per crossing
    path: tuple[tuple[float, float], ...] = ()  # lon/lat vertices, site first

    def to_dict(self, with_path: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "length_m": round(self.length_m, 1),
            "method": self.method,
            "geodesic_m": round(self.geodesic_m, 1),
            "by_kind_m": {k: round(v, 1) for k, v in self.by_kind},
            "crossings": list(self.crossings),
        }
        if with_path and self.path:
            out["path"] = [[round(x, 6), round(y, 6)] for x, y in self.path]
        return out


@dataclass(frozen=True, slots=True)
class PointAccess:
    """Each connection point's nearest corridor node and its straight distance to it."""

    node: np.ndarray
    access_m: np.ndarray

    @classmethod
    def of(cls, model: GridModel, lon: np.ndarray, lat: np.ndarray) -> PointAccess | None:
        corridors = model.corridors
        if corridors is None:
            return None
        node, dist = corridors.nearest_nodes(lon, lat)
        return cls(node, dist)


class SiteRoutes:
    """Routes from one site to the connection points of a context (index-aligned)."""

    def __init__(
        self,
        model: GridModel,
        access: PointAccess | None,
        point_lon: np.ndarray,
        point_lat: np.ndarray,
        lon: float,
        lat: float,
        limit_m: float,
        route_factor: float,
        max_access_m: float,
    ) -> None:
        self.model = model
        self.lon, self.lat = lon, lat
        self.point_lon, self.point_lat = point_lon, point_lat
        self.geodesic = np.asarray(geodesic_m(lon, lat, point_lon, point_lat), float)
        self.route_factor = route_factor
        self.access = access
        self.site_access: dict[int, float] = {}
        self.fallback_reason: str | None = None
        corridors = model.corridors
        if corridors is None or access is None:
            self.method = "geodesic"
            self.length = self.geodesic * route_factor
            return
        # the site joins the corridors at any of its nearest nodes it can reach straight
        joins = corridors.site_access(lon, lat, max_access_m)
        reachable = bool(joins) and bool(
            np.isin(
                corridors.component[access.node], corridors.component[[j for j, _ in joins]]
            ).any()
        )
        if not reachable:
            # far from every mapped road or duct, or on a piece that leads to no point:
            # a surveyor's route, estimated
            self.method = "geodesic"
            nearest = float(corridors.nearest_nodes(lon, lat)[1][0])
            self.fallback_reason = (
                f"用电地址距最近的已知通道{nearest:.0f}米（超过{max_access_m:.0f}米）："
                if not joins
                else "用电地址附近的通道与电网接入点不相连："
            ) + f"线路路径按直线距离×{route_factor}估算，需现场勘测"
            self.length = self.geodesic * route_factor
            return
        self.method = "corridor"
        self.site_access = dict(joins)
        self.dist, self.pred = corridors.shortest_from_access(joins, limit_m)
        along = self.dist[access.node]
        self.length = along + access.access_m

    def length_m(self, k: int) -> float:
        """Route length to point ``k`` (inf where the corridors give no path within reach)."""
        return float(self.length[k])

    def estimated(self, k: int) -> Route:
        """Crow-fly × the route factor, for a point past the corridor search."""
        geo = float(self.geodesic[k])
        length = geo * self.route_factor
        path = ((self.lon, self.lat), (float(self.point_lon[k]), float(self.point_lat[k])))
        return Route(length, "geodesic", geo, (("geodesic", length),), (), path)

    def route(self, k: int, with_path: bool = False) -> Route:
        """The route to point ``k``, with what it runs along and crosses."""
        geo = float(self.geodesic[k])
        if self.method == "geodesic" or not np.isfinite(self.length[k]):
            return self.estimated(k)
        corridors = self.model.corridors
        assert corridors is not None and self.access is not None
        target = int(self.access.node[k])
        nodes = corridors.path_nodes(self.pred, target)
        kinds: dict[str, float] = defaultdict(float)
        kinds["access"] += self.site_access[nodes[0]] + float(self.access.access_m[k])
        crossings: list[str] = []
        for e in corridors.path_edges(nodes):
            kinds[str(corridors.edge_kind[e])] += float(corridors.edge_length_m[e])
            if corridors.edge_crossing[e]:
                crossings.append(str(corridors.edge_crossing[e]))
        path: tuple[tuple[float, float], ...] = ()
        if with_path:
            pts = [(self.lon, self.lat)]
            pts += [(float(corridors.node_lon[n]), float(corridors.node_lat[n])) for n in nodes]
            pts.append((float(self.point_lon[k]), float(self.point_lat[k])))
            path = tuple(pts)
        by_kind = tuple(sorted((k_, v) for k_, v in kinds.items() if v > 0.05))
        return Route(float(self.length[k]), "corridor", geo, by_kind, tuple(crossings), path)
