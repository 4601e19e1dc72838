"""Coordinates and areas (区域): bus positions, area polygons, area-class lookup."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

AreaClass = Literal["city_centre", "urban", "town", "rural"]
AREA_CLASSES: tuple[AreaClass, ...] = ("city_centre", "urban", "town", "rural")
OVERLAY_KINDS = ("provincial_park", "urban_planning_area")

EARTH_RADIUS_M = 6_371_008.8


def point_lon_lat(value: Any) -> tuple[float, float]:
    """(lon, lat) of a pandapower ``geo`` cell (GeoJSON string, dict or [lon, lat]); NaN if none."""
    nan = (math.nan, math.nan)
    if value is None:
        return nan
    if isinstance(value, float) and math.isnan(value):
        return nan
    if isinstance(value, str):
        if not value.strip():
            return nan
        try:
            value = json.loads(value)
        except ValueError:
            return nan
    if isinstance(value, dict):
        value = value.get("coordinates")
    if isinstance(value, list | tuple) and len(value) >= 2:
        try:
            return float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return nan
    return nan


def bus_coordinates(bus: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude arrays (degrees, NaN where unknown) in the bus table's order."""
    n = len(bus)
    if "geo" in bus.columns:
        cells = bus["geo"].tolist()
        fast = _fast_points(cells)
        pairs: list[Any] = list(fast) if fast else [point_lon_lat(v) for v in cells]
        arr = np.asarray(pairs, dtype=float).reshape(n, 2)
        return arr[:, 0], arr[:, 1]
    if {"x", "y"} <= set(bus.columns):
        return bus["x"].to_numpy(float), bus["y"].to_numpy(float)
    return np.full(n, np.nan), np.full(n, np.nan)


_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"
#: A plain GeoJSON point as the generator and pandapower write it.
_POINT_TEXT = re.compile(
    rf'\{{ ?"type": ?"Point", ?"coordinates": ?\[ ?({_NUMBER}), ?({_NUMBER}) ?\] ?\}}'
)


def _fast_points(cells: list[Any]) -> list[tuple[str, str]] | None:
    """Every cell a plain GeoJSON point text: its two numbers read by one pattern (a
    province's buses 1.5 s → 0.7 s); None when any cell is not, for the careful way."""
    out: list[tuple[str, str]] = []
    for v in cells:
        m = _POINT_TEXT.fullmatch(v) if isinstance(v, str) else None
        if m is None:
            return None
        out.append((m[1], m[2]))
    return out or None


def bus_positions(net: Any) -> dict[int, tuple[float | None, float | None]]:
    """Bus index → (lon, lat) in degrees, None where unknown (for JSON output)."""
    lon, lat = bus_coordinates(net.bus)
    return {
        int(b): (float(x) if math.isfinite(x) else None, float(y) if math.isfinite(y) else None)
        for b, x, y in zip(net.bus.index, lon, lat, strict=True)
    }


def geodesic_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres (haversine); works on scalars and numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class Area:
    """An area polygon: a class (市中心区/市区/城镇/农村) or an overlay (省级园区, 城市规划区)."""

    id: str
    name: str
    kind: str
    geometry: BaseGeometry

    def to_feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(self.geometry),
            "properties": {
                "kind": "area",
                "id": self.id,
                "name": self.name,
                "area_kind": self.kind,
            },
        }


def areas_from_table(table: pd.DataFrame | None) -> tuple[list[Area], list[str]]:
    """Areas from ``net["gridcap_areas"]`` and messages about the rows that were skipped."""
    if table is None or len(table) == 0:
        return [], []
    areas: list[Area] = []
    skipped: list[str] = []
    for pos, row in enumerate(table.to_dict("records")):
        area_id = str(row.get("id", pos))
        kind = str(row.get("kind", ""))
        if kind not in AREA_CLASSES and kind not in OVERLAY_KINDS:
            skipped.append(f"area {area_id!r}: unknown kind {kind!r}")
            continue
        try:
            geom_raw = row.get("geometry")
            geom = shape(json.loads(geom_raw) if isinstance(geom_raw, str) else geom_raw)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            skipped.append(f"area {area_id!r}: geometry is not GeoJSON ({exc})")
            continue
        if geom.is_empty or not geom.is_valid:
            skipped.append(f"area {area_id!r}: geometry is empty or invalid")
            continue
        shapely.prepare(geom)
        areas.append(
            Area(
                id=f"area:{area_id}", name=str(row.get("name") or area_id), kind=kind, geometry=geom
            )
        )
    return areas, skipped


def classify_points(
    areas: Sequence[Area], lon: np.ndarray, lat: np.ndarray, default: AreaClass = "rural"
) -> np.ndarray:
    """Area class per point: the first class polygon containing it, in the order of AREA_CLASSES."""
    out = np.full(len(lon), default, dtype=object)
    undecided = np.isfinite(lon) & np.isfinite(lat)
    for cls in AREA_CLASSES:
        for area in (a for a in areas if a.kind == cls):
            idx = np.flatnonzero(undecided)
            if len(idx) == 0:
                return out
            inside = shapely.contains_xy(area.geometry, lon[idx], lat[idx])
            out[idx[inside]] = cls
            undecided[idx[inside]] = False
    return out


def in_overlay(areas: Sequence[Area], kind: str, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each point lies in any overlay polygon of ``kind``."""
    inside = np.zeros(len(lon), dtype=bool)
    ok = np.isfinite(lon) & np.isfinite(lat)
    for area in (a for a in areas if a.kind == kind):
        inside[ok] |= shapely.contains_xy(area.geometry, lon[ok], lat[ok])
    return inside
