"""GeoJSON export of a model (for maps): every feature has ``properties.kind`` and ``.id``.

Corridors (``net["gridcap_corridors"]``) are exported with ``kind`` = the corridor kind
(``main_road``, ``road``, ``rural_road``, ``lane``, ``cable_duct``, ``river``, ``railway``)
and ``layer`` = ``"corridor"``; ask for them with the selector ``"corridor"``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from grid_models._corridors import CORRIDOR_KINDS, CORRIDORS_TABLE, line_coordinates
from grid_models._geo import bus_coordinates
from grid_models._model import GridModel

FEATURE_KINDS = (
    "area",
    "substation",
    "feeder",
    "line",
    "tie_switch",
    "distribution_transformer",
    "connection_point",
    "corridor",
)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 7)


def _point(lon: float, lat: float) -> dict[str, Any] | None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def _feature(geometry: dict[str, Any] | None, kind: str, fid: str, **props: Any) -> dict[str, Any]:
    clean = {k: (_num(v) if isinstance(v, float) else v) for k, v in props.items()}
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"kind": kind, "id": fid, **clean},
    }


def to_geojson(model: GridModel, kinds: tuple[str, ...] = FEATURE_KINDS) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the model's elements (WGS 84 lon/lat)."""
    net = model.net
    lon, lat = bus_coordinates(net.bus)
    pos = pd.Index(net.bus.index)
    xy = {int(b): (float(x), float(y)) for b, x, y in zip(net.bus.index, lon, lat, strict=True)}
    feats: list[dict[str, Any]] = []
    if "area" in kinds:
        feats += [a.to_feature() for a in model.areas]
    if "substation" in kinds:
        for s in model.substations.values():
            sn = sum(model.main_transformers[m].sn_mva for m in s.main_transformer_ids)
            feats.append(
                _feature(
                    _point(s.lon_deg, s.lat_deg),
                    "substation",
                    s.id,
                    name=s.name,
                    main_transformers=len(s.main_transformer_ids),
                    sn_mva_total=float(sn),
                    bus_sections=list(s.bus_section_ids),
                )
            )
    line = net.line
    lf = pos.get_indexer(line["from_bus"].to_numpy())
    lt = pos.get_indexer(line["to_bus"].to_numpy())

    def seg_coords(idx: int) -> list[list[float]] | None:
        k = line.index.get_loc(idx)
        if not isinstance(k, int | np.integer) or lf[k] < 0 or lt[k] < 0:
            return None
        a, b = (lon[lf[k]], lat[lf[k]]), (lon[lt[k]], lat[lt[k]])
        if not all(math.isfinite(v) for v in (*a, *b)):
            return None
        return [[round(a[0], 7), round(a[1], 7)], [round(b[0], 7), round(b[1], 7)]]

    if "feeder" in kinds:
        for f in model.feeders.values():
            parts = [c for c in (seg_coords(i) for i in f.lines) if c is not None]
            geom = {"type": "MultiLineString", "coordinates": parts} if parts else None
            feats.append(
                _feature(
                    geom,
                    "feeder",
                    f.id,
                    name=f.name,
                    wiring_mode=f.wiring_mode,
                    conductor=f.conductor,
                    substation_id=f.substation_id,
                    bus_section_id=f.bus_section_id,
                    length_km=f.length_km,
                    tie_partner_ids=list(f.tie_partner_ids),
                )
            )
    if "line" in kinds:
        line_feeder = {i: f.id for f in model.feeders.values() for i in f.lines}
        line_segment = {i: s.id for s in model.segments.values() for i in s.lines}
        names = line["name"].astype(object).where(line["name"].notna(), None).tolist()
        std = (
            line["std_type"].astype(object).where(line["std_type"].notna(), None).tolist()
            if "std_type" in line
            else [None] * len(line)
        )
        for k, idx in enumerate(line.index):
            c = seg_coords(int(idx))
            feats.append(
                _feature(
                    {"type": "LineString", "coordinates": c} if c else None,
                    "line",
                    f"line:{idx}",
                    name=names[k],
                    std_type=std[k],
                    length_km=float(line["length_km"].iat[k]),
                    in_service=bool(line["in_service"].iat[k]),
                    feeder_id=line_feeder.get(int(idx)),
                    segment_id=line_segment.get(int(idx)),
                )
            )
    if "tie_switch" in kinds:
        for t in model.tie_switches.values():
            x, y = xy.get(t.bus_a, (math.nan, math.nan))
            feats.append(
                _feature(
                    _point(x, y),
                    "tie_switch",
                    t.id,
                    side_a=t.side_a,
                    side_b=t.side_b,
                    between_substations=t.between_substations,
                )
            )
    if "distribution_transformer" in kinds:
        for d in model.distribution_transformers.values():
            x, y = xy.get(d.hv_bus, (math.nan, math.nan))
            feats.append(
                _feature(
                    _point(x, y),
                    "distribution_transformer",
                    d.id,
                    name=d.name,
                    sn_kva=d.sn_kva,
                    ownership=d.ownership,
                    feeder_id=d.feeder_id,
                    std_type=d.std_type,
                )
            )
    if "connection_point" in kinds:
        for cp in model.connection_points.values():
            feats.append(
                _feature(
                    _point(cp.lon_deg, cp.lat_deg),
                    "connection_point",
                    cp.id,
                    name=cp.name,
                    bus=cp.bus,
                    point_kind=cp.kind,
                    vn_kv=cp.vn_kv,
                    bays_free=cp.bays_free,
                    feeder_id=cp.feeder_id,
                    substation_id=cp.substation_id,
                    area_class=cp.area_class,
                )
            )
    if "corridor" in kinds:
        feats += corridor_features(net.get(CORRIDORS_TABLE))
    return {
        "type": "FeatureCollection",
        "properties": {"network_id": model.id, "network_version": model.version},
        "features": feats,
    }


def corridor_features(table: object) -> list[dict[str, Any]]:
    """One LineString feature per corridor row; rows with a bad kind or geometry are left
    out (validation reports them)."""
    if not isinstance(table, pd.DataFrame) or table.empty or "kind" not in table:
        return []
    n = len(table)
    ids = table["id"].tolist() if "id" in table else [str(k) for k in range(n)]
    names = table["name"].tolist() if "name" in table else [None] * n
    geoms = table["geometry"].tolist() if "geometry" in table else [None] * n
    out = []
    for cid, name, kind, geom in zip(ids, names, table["kind"].tolist(), geoms, strict=True):
        coords = line_coordinates(geom)
        if kind not in CORRIDOR_KINDS or coords is None or len(coords) < 2:
            continue
        line = {"type": "LineString", "coordinates": np.round(coords, 7).tolist()}
        text = None if name is None or (isinstance(name, float) and math.isnan(name)) else name
        out.append(_feature(line, str(kind), f"corridor:{cid}", name=text, layer="corridor"))
    return out
