"""Validation (数据校验): every problem of a network at once, each with its element ids."""

from __future__ import annotations

import re

import numpy as np
import pandapower as pp
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grid_models._corridors import CORRIDOR_KINDS, CORRIDORS_TABLE, line_coordinates
from grid_models._errors import Problem
from grid_models._geo import bus_coordinates
from grid_models._topology import source_positions

_BUS_REFS: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "load": ("bus",),
    "sgen": ("bus",),
    "gen": ("bus",),
    "ext_grid": ("bus",),
    "shunt": ("bus",),
    "storage": ("bus",),
    "switch": ("bus",),
}
_RATINGS: dict[str, tuple[str, ...]] = {
    "bus": ("vn_kv",),
    "line": ("max_i_ka",),
    "trafo": ("sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent"),
}
_MAX_IDS = 10_000  # one finding never lists more ids than this; the message says how many


def _ids(index: pd.Index | np.ndarray) -> tuple[int | str, ...]:
    vals = list(index)[:_MAX_IDS]
    return tuple(int(v) if isinstance(v, int | np.integer) else str(v) for v in vals)


def validate_net(net: pp.pandapowerNet) -> list[Problem]:
    """Check a pandapower net's tables and topology; return every finding (never raises)."""
    problems: list[Problem] = []
    tables = [t for t in ("bus", *(_BUS_REFS.keys())) if t in net and len(net[t])]
    for table in dict.fromkeys(tables):
        dup = net[table].index[net[table].index.duplicated()]
        if len(dup):
            problems.append(
                Problem(
                    "duplicate_id",
                    "error",
                    table,
                    _ids(dup.unique()),
                    f"{len(dup)} {table} ids occur more than once",
                    "index",
                )
            )
    bus_ids = net.bus.index
    for table, cols in _BUS_REFS.items():
        if table not in net or not len(net[table]):
            continue
        df = net[table]
        for col in cols:
            if col not in df.columns:
                continue
            bad = df.index[~df[col].isin(bus_ids)]
            if len(bad):
                problems.append(
                    Problem(
                        "unknown_bus",
                        "error",
                        table,
                        _ids(bad),
                        f"{len(bad)} {table} rows name a {col} that is not in the bus table",
                        col,
                    )
                )
    if len(net.switch):
        sw = net.switch
        for et, table in (("l", "line"), ("t", "trafo"), ("b", "bus")):
            rows = sw[sw["et"] == et]
            bad = rows.index[~rows["element"].isin(net[table].index)]
            if len(bad):
                problems.append(
                    Problem(
                        "unknown_element",
                        "error",
                        "switch",
                        _ids(bad),
                        f"{len(bad)} switches with et={et!r} name a {table} that does not exist",
                        "element",
                    )
                )
        bad_et = sw.index[~sw["et"].isin(["l", "t", "b", "t3"])]
        if len(bad_et):
            problems.append(
                Problem(
                    "bad_value",
                    "error",
                    "switch",
                    _ids(bad_et),
                    "switch et must be one of l, t, t3, b",
                    "et",
                )
            )
    for table, cols in _RATINGS.items():
        df = net[table]
        for col in cols:
            if col not in df.columns or not len(df):
                continue
            vals = pd.to_numeric(df[col], errors="coerce")
            bad = df.index[~(vals > 0)]
            if len(bad):
                problems.append(
                    Problem(
                        "missing_rating",
                        "error",
                        table,
                        _ids(bad),
                        f"{len(bad)} {table} rows have no positive {col}",
                        col,
                    )
                )
    if len(net.line):
        length = pd.to_numeric(net.line["length_km"], errors="coerce")
        bad = net.line.index[~(length > 0)]
        if len(bad):
            problems.append(
                Problem(
                    "zero_length",
                    "error",
                    "line",
                    _ids(bad),
                    f"{len(bad)} lines have a zero, negative or missing length",
                    "length_km",
                )
            )
        vn = net.bus["vn_kv"]
        ok = net.line["from_bus"].isin(bus_ids) & net.line["to_bus"].isin(bus_ids)
        lf = vn.reindex(net.line.loc[ok, "from_bus"]).to_numpy(float)
        lt = vn.reindex(net.line.loc[ok, "to_bus"]).to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            mism = np.abs(lf - lt) > 0.01 * np.maximum(lf, lt)
        bad = net.line.index[ok][mism]
        if len(bad):
            problems.append(
                Problem(
                    "voltage_mismatch",
                    "error",
                    "line",
                    _ids(bad),
                    f"{len(bad)} lines join buses of different nominal voltage",
                    "vn_kv",
                )
            )
    if len(net.trafo):
        for side in ("hv", "lv"):
            ok = net.trafo[f"{side}_bus"].isin(bus_ids)
            bus_vn = net.bus["vn_kv"].reindex(net.trafo.loc[ok, f"{side}_bus"]).to_numpy(float)
            tr_vn = pd.to_numeric(net.trafo.loc[ok, f"vn_{side}_kv"], errors="coerce").to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                off = np.abs(tr_vn - bus_vn) > 0.25 * bus_vn
            bad = net.trafo.index[ok][off]
            if len(bad):
                problems.append(
                    Problem(
                        "voltage_mismatch",
                        "warning",
                        "trafo",
                        _ids(bad),
                        f"{len(bad)} transformers' vn_{side}_kv is more than 25 % off their"
                        f" {side} bus's vn_kv",
                        f"vn_{side}_kv",
                    )
                )
    problems += _coordinate_problems(net)
    problems += _supply_problems(net)
    problems += _corridor_problems(net)
    return problems


# A 2-D LineString of lon/lat positions in either key order (the generator's compact text,
# the bundle's canonical text): checked without parsing each row.
_LON = r"-?(?:180(?:\.0+)?|1[0-7]\d(?:\.\d+)?|\d{1,2}(?:\.\d+)?)"
_LAT = r"-?(?:90(?:\.0+)?|[0-8]?\d(?:\.\d+)?)"
_POS = rf"\[{_LON}, ?{_LAT}\]"
_POSITIONS = rf"\[{_POS}(?:, ?{_POS})+\]"
_LINE_TEXT = re.compile(
    rf'\{{"type": ?"LineString", ?"coordinates": ?{_POSITIONS}\}}'
    rf'|\{{"coordinates": ?{_POSITIONS}, ?"type": ?"LineString"\}}'
)


def _corridor_problems(net: pp.pandapowerNet) -> list[Problem]:
    """Corridor rows the corridor graph would skip: an unknown kind, a geometry that is
    not a LineString of two or more lon/lat positions, a repeated id (all warnings: the
    network itself is fine, routes fall back where corridors are missing)."""
    table = net.get(CORRIDORS_TABLE) if hasattr(net, "get") else None
    if table is None:
        return []
    if not isinstance(table, pd.DataFrame) or not {"kind", "geometry"} <= set(table.columns):
        return [
            Problem(
                "corridor_table",
                "warning",
                "corridor",
                (),
                f"net[{CORRIDORS_TABLE!r}] must be a table with columns id, name, kind, geometry",
            )
        ]
    if table.empty:
        return []
    ids = table["id"].astype(str) if "id" in table.columns else pd.Series(table.index.astype(str))
    out: list[Problem] = []
    bad_kind = ~table["kind"].isin(CORRIDOR_KINDS).to_numpy()
    if bad_kind.any():
        out.append(
            Problem(
                "corridor_kind",
                "warning",
                "corridor",
                _ids(ids[bad_kind].to_numpy()),
                f"{int(bad_kind.sum())} corridors have a kind that is not one of"
                f" {', '.join(CORRIDOR_KINDS)}",
                "kind",
            )
        )
    geometry = table["geometry"]
    fast = geometry.astype(object).where(geometry.map(lambda g: isinstance(g, str)), None)
    ok = fast.str.fullmatch(_LINE_TEXT, na=False).to_numpy(dtype=bool)
    for k in np.flatnonzero(~ok).tolist():
        coords = line_coordinates(geometry.iat[k])
        ok[k] = coords is not None and len(coords) >= 2
    if not ok.all():
        out.append(
            Problem(
                "corridor_geometry",
                "warning",
                "corridor",
                _ids(ids[~ok].to_numpy()),
                f"{int((~ok).sum())} corridors have a geometry that is not a LineString of two"
                " or more lon/lat positions",
                "geometry",
            )
        )
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        out.append(
            Problem(
                "duplicate_id",
                "warning",
                "corridor",
                _ids(ids[repeated].unique()),
                f"{int(repeated.sum())} corridors share an id with another",
                "id",
            )
        )
    return out


def _coordinate_problems(net: pp.pandapowerNet) -> list[Problem]:
    lon, lat = bus_coordinates(net.bus)
    known = np.isfinite(lon) & np.isfinite(lat)
    out: list[Problem] = []
    bad = known & ((np.abs(lon) > 180) | (np.abs(lat) > 90) | ((lon == 0) & (lat == 0)))
    if bad.any():
        out.append(
            Problem(
                "bad_coordinates",
                "error",
                "bus",
                _ids(net.bus.index[bad]),
                f"{int(bad.sum())} buses have impossible coordinates (lon ∉ [-180, 180],"
                " lat ∉ [-90, 90], or 0/0)",
                "geo",
            )
        )
    if known.any() and not known.all():
        missing = net.bus.index[~known]
        out.append(
            Problem(
                "missing_coordinates",
                "warning",
                "bus",
                _ids(missing),
                f"{len(missing)} buses have no coordinates while others do",
                "geo",
            )
        )
    return out


def _supply_problems(net: pp.pandapowerNet) -> list[Problem]:
    """Buses that no source reaches in the normal switching state (islands)."""
    bus_pos = pd.Index(net.bus.index)
    if bus_pos.has_duplicates:
        return []
    n = len(bus_pos)
    src = source_positions(net, bus_pos)
    if not len(src):
        return [
            Problem(
                "no_source",
                "error",
                "ext_grid",
                (),
                "the network has no in-service external grid or slack generator",
            )
        ]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    sw = net.switch
    open_l = sw[(sw["et"] == "l") & ~sw["closed"].astype(bool)]
    open_lines = set(open_l["element"].tolist())
    open_t = set(sw.loc[(sw["et"] == "t") & ~sw["closed"].astype(bool), "element"].tolist())
    line = net.line
    keep = line["in_service"].to_numpy(bool) & ~line.index.isin(list(open_lines))
    rows.append(bus_pos.get_indexer(line["from_bus"].to_numpy()[keep]))
    cols.append(bus_pos.get_indexer(line["to_bus"].to_numpy()[keep]))
    tr = net.trafo
    keep = tr["in_service"].to_numpy(bool) & ~tr.index.isin(list(open_t))
    rows.append(bus_pos.get_indexer(tr["hv_bus"].to_numpy()[keep]))
    cols.append(bus_pos.get_indexer(tr["lv_bus"].to_numpy()[keep]))
    if "trafo3w" in net and len(net.trafo3w):
        t3 = net.trafo3w[net.trafo3w["in_service"].astype(bool)]
        for a, b in (("hv_bus", "mv_bus"), ("hv_bus", "lv_bus")):
            rows.append(bus_pos.get_indexer(t3[a].to_numpy()))
            cols.append(bus_pos.get_indexer(t3[b].to_numpy()))
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
    rows.append(bus_pos.get_indexer(bb["bus"].to_numpy()))
    cols.append(bus_pos.get_indexer(bb["element"].to_numpy()))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    ok = (r >= 0) & (c >= 0)
    graph = coo_matrix((np.ones(int(ok.sum())), (r[ok], c[ok])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    supplied = np.isin(label, label[src])
    in_service = net.bus["in_service"].to_numpy(bool)
    dead = np.flatnonzero(~supplied & in_service)
    out: list[Problem] = []
    if len(dead):
        groups = pd.Series(dead).groupby(label[dead])
        for _, members in groups:
            ids = net.bus.index[members.to_numpy()]
            out.append(
                Problem(
                    "island",
                    "warning",
                    "bus",
                    _ids(ids),
                    f"{len(ids)} in-service buses are not supplied from any source in the normal"
                    f" switching state (first: {ids[0]})",
                )
            )
    return out
