"""Derive the utility's view of a network from any pandapower net's topology.

Substations are the groups of buses around main transformers (joined by bus-bus switches
or a shared ``station``); bus sections are their 10 kV buses joined by *closed* switches;
a feeder is everything its head line energises in the normal switching state; segments
are runs of lines not separated by a switch; tie switches are the normally-open points
whose two sides belong to different feeders. See docs/network-model.md.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grid_models._errors import Problem
from grid_models._geo import areas_from_table, bus_coordinates, classify_points
from grid_models._model import (
    BusSection,
    ConnectionPoint,
    ConnectionPointKind,
    DistributionTransformer,
    Feeder,
    GridModel,
    MainTransformer,
    Segment,
    Substation,
    TieSwitch,
    WiringMode,
)
from grid_models._rules import Rules, load_rules

if TYPE_CHECKING:
    import networkx as nx
    import pandapower as pp

_LINE, _TRAFO, _SWITCH, _HEAD = 0, 1, 2, 3
_STATION_KIND_TO_CP: dict[str, ConnectionPointKind] = {
    "substation": "substation_bay",
    "switching_station": "switching_station",
    "ring_main_unit": "ring_main_unit",
    "distribution_room": "ring_main_unit",
    "pole": "pole",
    "lv_branch_box": "lv_branch_box",
}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        parent = self.parent
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _column(df: pd.DataFrame, name: str, default: Any) -> np.ndarray:
    if name in df.columns:
        return df[name].to_numpy()
    return np.full(len(df), default, dtype=object)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


@dataclass
class _Arrays:
    """The net's tables as position-based numpy arrays (pandapower indices kept alongside)."""

    bus_index: np.ndarray
    vn_kv: np.ndarray
    bus_ok: np.ndarray
    station: np.ndarray
    station_kind: np.ndarray
    bays_total: np.ndarray
    line_index: np.ndarray
    line_from: np.ndarray
    line_to: np.ndarray
    line_ok: np.ndarray
    line_open_from: np.ndarray
    line_open_to: np.ndarray
    line_sw_from: np.ndarray
    line_sw_to: np.ndarray
    line_cable: np.ndarray
    line_len: np.ndarray
    line_imax: np.ndarray
    trafo_index: np.ndarray
    trafo_hv: np.ndarray
    trafo_lv: np.ndarray
    trafo_ok: np.ndarray
    trafo_role: np.ndarray
    bb_index: np.ndarray
    bb_a: np.ndarray
    bb_b: np.ndarray
    bb_closed: np.ndarray
    open_line_switch: dict[int, int]


def _arrays(net: pp.pandapowerNet, hv_min_kv: float, lv_max_kv: float) -> _Arrays:
    bus = net.bus
    bus_pos = pd.Index(bus.index)
    vn = bus["vn_kv"].to_numpy(float)
    bus_ok = bus["in_service"].to_numpy(bool) & np.isfinite(vn) & (vn > 0)

    line = net.line
    lf = bus_pos.get_indexer(line["from_bus"].to_numpy())
    lt = bus_pos.get_indexer(line["to_bus"].to_numpy())
    line_ok = line["in_service"].to_numpy(bool) & (lf >= 0) & (lt >= 0)
    line_ok[line_ok] &= bus_ok[lf[line_ok]] & bus_ok[lt[line_ok]]
    ltype = _column(line, "type", None)
    c_nf = line["c_nf_per_km"].to_numpy(float) if "c_nf_per_km" in line else np.zeros(len(line))
    line_cable = np.array(
        [
            str(t).startswith("cs")
            if isinstance(t, str)
            and t in ("cs", "ol")
            or (isinstance(t, str) and t.startswith(("cs", "ol")))
            else c > 100.0
            for t, c in zip(ltype, c_nf, strict=True)
        ],
        dtype=bool,
    )

    sw = net.switch
    sw_bus = bus_pos.get_indexer(sw["bus"].to_numpy())
    sw_et = sw["et"].to_numpy(str) if len(sw) else np.array([], dtype=str)
    sw_el = sw["element"].to_numpy()
    sw_closed = sw["closed"].to_numpy(bool)
    sw_index = sw.index.to_numpy()

    n_line = len(line)
    open_from = np.zeros(n_line, bool)
    open_to = np.zeros(n_line, bool)
    has_from = np.zeros(n_line, bool)
    has_to = np.zeros(n_line, bool)
    open_line_switch: dict[int, int] = {}
    is_l = sw_et == "l"
    if is_l.any():
        lpos = pd.Index(line.index).get_indexer(sw_el[is_l])
        sbus = sw_bus[is_l]
        closed = sw_closed[is_l]
        sidx = sw_index[is_l]
        for lp, b, c, s in zip(lpos, sbus, closed, sidx, strict=True):
            if lp < 0 or b < 0:
                continue
            if b == lf[lp]:
                has_from[lp] = True
                open_from[lp] |= not c
            elif b == lt[lp]:
                has_to[lp] = True
                open_to[lp] |= not c
            else:
                continue
            if not c:
                open_line_switch[int(lp)] = min(int(s), open_line_switch.get(int(lp), int(s)))

    trafo = net.trafo
    th = bus_pos.get_indexer(trafo["hv_bus"].to_numpy())
    tl = bus_pos.get_indexer(trafo["lv_bus"].to_numpy())
    t_ok = trafo["in_service"].to_numpy(bool) & (th >= 0) & (tl >= 0)
    t_ok[t_ok] &= bus_ok[th[t_ok]] & bus_ok[tl[t_ok]]
    is_t = sw_et == "t"
    if is_t.any():
        tpos = pd.Index(trafo.index).get_indexer(sw_el[is_t])
        for tp, c in zip(tpos, sw_closed[is_t], strict=True):
            if tp >= 0 and not c:
                t_ok[tp] = False
    roles = _column(trafo, "role", None)
    trafo_role = np.empty(len(trafo), dtype=object)
    for i in range(len(trafo)):
        given = _text(roles[i])
        if given in ("main", "distribution"):
            trafo_role[i] = given
        elif th[i] < 0 or tl[i] < 0:
            trafo_role[i] = "other"
        elif vn[th[i]] >= hv_min_kv and lv_max_kv < vn[tl[i]] < hv_min_kv:
            trafo_role[i] = "main"
        elif lv_max_kv < vn[th[i]] < hv_min_kv and vn[tl[i]] <= lv_max_kv:
            trafo_role[i] = "distribution"
        else:
            trafo_role[i] = "other"

    is_b = sw_et == "b"
    bb_a = sw_bus[is_b]
    bb_b = bus_pos.get_indexer(sw_el[is_b]) if is_b.any() else np.array([], dtype=int)
    bb_valid = (bb_a >= 0) & (bb_b >= 0)

    return _Arrays(
        bus_index=bus.index.to_numpy(),
        vn_kv=vn,
        bus_ok=bus_ok,
        station=np.array([_text(s) for s in _column(bus, "station", None)], dtype=object),
        station_kind=np.array([_text(s) for s in _column(bus, "station_kind", None)], dtype=object),
        bays_total=pd.to_numeric(
            pd.Series(_column(bus, "bays_total", np.nan)), errors="coerce"
        ).to_numpy(float),
        line_index=line.index.to_numpy(),
        line_from=lf,
        line_to=lt,
        line_ok=line_ok,
        line_open_from=open_from,
        line_open_to=open_to,
        line_sw_from=has_from,
        line_sw_to=has_to,
        line_cable=line_cable,
        line_len=line["length_km"].to_numpy(float),
        line_imax=line["max_i_ka"].to_numpy(float),
        trafo_index=trafo.index.to_numpy(),
        trafo_hv=th,
        trafo_lv=tl,
        trafo_ok=t_ok,
        trafo_role=trafo_role,
        bb_index=sw_index[is_b][bb_valid],
        bb_a=bb_a[bb_valid],
        bb_b=bb_b[bb_valid],
        bb_closed=sw_closed[is_b][bb_valid],
        open_line_switch=open_line_switch,
    )


def network_version(net: pp.pandapowerNet) -> str:
    """A short content hash of the electrical tables: changes whenever the network does."""
    digest = hashlib.sha256()
    for table in ("bus", "line", "trafo", "trafo3w", "switch", "load", "sgen", "gen", "ext_grid"):
        df = net.get(table)
        if df is None or len(df) == 0:
            continue
        cols = sorted(c for c in df.columns if c != "geo" and df[c].dtype != object)
        # Rounded so that a pandapower JSON round trip (which drops the last float bits)
        # keeps the version.
        numeric = df[cols].astype(float).round(9)
        digest.update(table.encode())
        digest.update(pd.util.hash_pandas_object(numeric, index=True).to_numpy().tobytes())
        for c in ("name", "std_type", "station", "et", "type"):
            if c in df.columns:
                digest.update(
                    pd.util.hash_pandas_object(df[c].astype(str), index=False).to_numpy().tobytes()
                )
    _hash_corridors(digest, net.get("gridcap_corridors"))
    return digest.hexdigest()[:12]


def _hash_corridors(digest: Any, table: object) -> None:
    """Corridors decide routes, so they are part of the version: kind, id and vertices
    (rounded as the graph joins them, so a bundle round trip keeps the version)."""
    from grid_models._corridors import _parse_lines

    if not isinstance(table, pd.DataFrame) or table.empty:
        return
    digest.update(b"gridcap_corridors")
    lines = _parse_lines(table["geometry"].tolist())
    for cid, kind, coords in zip(
        table["id"].astype(str), table["kind"].astype(str), lines, strict=True
    ):
        digest.update(f"{cid}|{kind}|".encode())
        if coords is not None:
            digest.update(np.round(coords, 7).tobytes())


def source_positions(net: pp.pandapowerNet, bus_pos: pd.Index) -> np.ndarray:
    """Positions (in the bus table) of in-service external grids and slack generators."""
    found: list[np.ndarray] = []
    for table in ("ext_grid", "gen"):
        if table in net and len(net[table]):
            df = net[table]
            ok = df["in_service"].to_numpy(bool)
            if table == "gen":
                ok &= _column(df, "slack", False).astype(bool)
            found.append(bus_pos.get_indexer(df["bus"].to_numpy()[ok]))
    arr = np.concatenate(found) if found else np.array([], dtype=int)
    return arr[arr >= 0]


def derive_model(
    net: pp.pandapowerNet,
    *,
    model_id: str | None = None,
    version: str | None = None,
    rules: Rules | None = None,
    problems: list[Problem] | None = None,
) -> GridModel:
    """Derive substations, feeders, segments, ties, transformers and connection points.

    ``problems`` found earlier (e.g. by table validation) are kept and derivation adds its
    own; derivation never raises on a strange network, it reports what it could not place.
    """
    rules = rules or load_rules()
    hv_min = float(rules.get("network_defaults.voltage_levels.hv_min_kv"))
    lv_max = float(rules.get("network_defaults.voltage_levels.lv_max_kv"))
    default_bays: dict[str, int] = dict(rules.get("network_defaults.bays_total"))
    share_needed = float(rules.get("network_defaults.double_ring_shared_share"))
    found: list[Problem] = list(problems or [])
    meta = net.get("gridcap_meta") if isinstance(net.get("gridcap_meta"), dict) else {}
    model_id = model_id or str(meta.get("id") or net.name or "network")
    version = version or network_version(net)

    a = _arrays(net, hv_min, lv_max)
    n = len(a.bus_index)
    bus_pos = pd.Index(net.bus.index)
    bidx = a.bus_index
    names = [_text(x) for x in _column(net.bus, "name", None)]
    lon, lat = bus_coordinates(net.bus)
    is_mv = a.bus_ok & (a.vn_kv > lv_max) & (a.vn_kv < hv_min)
    is_lv = a.bus_ok & (a.vn_kv <= lv_max)

    # ---------------------------------------------------------------- substations
    uf = _UnionFind(n)
    for x, y in zip(a.bb_a, a.bb_b, strict=True):
        uf.union(int(x), int(y))
    main_t = np.flatnonzero((a.trafo_role == "main") & (a.trafo_hv >= 0) & (a.trafo_lv >= 0))
    for t in main_t.tolist():
        uf.union(int(a.trafo_hv[t]), int(a.trafo_lv[t]))
    first_of_station: dict[str, int] = {}
    for p in range(n):
        st = a.station[p]
        if st is not None:
            if st in first_of_station:
                uf.union(p, first_of_station[st])
            else:
                first_of_station[st] = p
    src = source_positions(net, bus_pos)
    roots: dict[int, list[int]] = defaultdict(list)
    for t in main_t.tolist():
        roots[uf.find(int(a.trafo_lv[t]))].append(int(t))
    if not len(main_t):
        # A network fed directly at MV: each source bus is a (virtual) substation.
        for s in src.tolist():
            if is_mv[s]:
                roots.setdefault(uf.find(int(s)), [])
    comp_members: dict[int, list[int]] = defaultdict(list)
    root_of = np.array([uf.find(p) for p in range(n)])
    for p in np.flatnonzero(np.isin(root_of, list(roots))).tolist():
        comp_members[int(root_of[p])].append(int(p))
    in_station = np.zeros(n, bool)
    for members in comp_members.values():
        in_station[members] = True

    # bus sections: MV station buses joined by closed bus-bus switches
    uf2 = _UnionFind(n)
    for x, y, c in zip(a.bb_a, a.bb_b, a.bb_closed, strict=True):
        if c:
            uf2.union(int(x), int(y))
    substations: dict[str, Substation] = {}
    main_transformers: dict[str, MainTransformer] = {}
    sections_raw: list[tuple[str, str, list[int]]] = []
    section_of_pos: dict[int, str] = {}
    substation_of_section: dict[str, str] = {}
    for root in sorted(comp_members, key=lambda r: int(bidx[comp_members[r][0]])):
        members = sorted(comp_members[root], key=lambda p: int(bidx[p]))
        stations = {a.station[p] for p in members}
        sub_station = next(iter(stations)) if len(stations) == 1 else None
        sub_id = f"sub:{sub_station}" if sub_station else f"sub:{int(bidx[members[0]])}"
        sub_name = _substation_name(net, members, sub_station, names)
        groups: dict[int, list[int]] = defaultdict(list)
        for p in members:
            if is_mv[p]:
                groups[uf2.find(p)].append(p)
        sec_ids: list[str] = []
        for k, grp in enumerate(sorted(groups.values(), key=lambda g: int(bidx[min(g)])), 1):
            grp.sort(key=lambda p: int(bidx[p]))
            sec_id = f"bs:{int(bidx[grp[0]])}"
            sec_ids.append(sec_id)
            own_name = names[grp[0]] if len(grp) == 1 else None
            sections_raw.append((sec_id, own_name or f"{sub_name} 10kV {k}段母线", grp))
            substation_of_section[sec_id] = sub_id
            for p in grp:
                section_of_pos[p] = sec_id
        mt_ids = []
        for t in sorted(roots[root], key=lambda t: int(a.trafo_index[t])):
            mt_id = f"mt:{int(a.trafo_index[t])}"
            mt_ids.append(mt_id)
            main_transformers[mt_id] = MainTransformer(
                id=mt_id,
                trafo=int(a.trafo_index[t]),
                name=_text(net.trafo["name"].iat[t]) or mt_id,
                substation_id=sub_id,
                bus_section_id=section_of_pos.get(int(a.trafo_lv[t])),
                sn_mva=float(net.trafo["sn_mva"].iat[t]),
                hv_bus=int(bidx[a.trafo_hv[t]]),
                lv_bus=int(bidx[a.trafo_lv[t]]),
            )
        with np.errstate(all="ignore"):
            sub_lon = (
                float(np.nanmean(lon[members])) if np.isfinite(lon[members]).any() else math.nan
            )
            sub_lat = (
                float(np.nanmean(lat[members])) if np.isfinite(lat[members]).any() else math.nan
            )
        substations[sub_id] = Substation(
            id=sub_id,
            name=sub_name,
            buses=tuple(int(bidx[p]) for p in members),
            main_transformer_ids=tuple(mt_ids),
            bus_section_ids=tuple(sec_ids),
            lon_deg=sub_lon,
            lat_deg=sub_lat,
        )

    # ---------------------------------------------------------------- normal-state graph
    line_closed = a.line_ok & ~a.line_open_from & ~a.line_open_to
    heads: list[int] = []
    for lp in np.flatnonzero(line_closed).tolist():
        f, t = int(a.line_from[lp]), int(a.line_to[lp])
        fs, ts = f in section_of_pos, t in section_of_pos
        if fs and not in_station[t] or ts and not in_station[f]:
            heads.append(int(lp))
        elif (
            fs
            and ts
            and substation_of_section[section_of_pos[f]] != substation_of_section[section_of_pos[t]]
        ):
            found.append(
                Problem(
                    "substations_paralleled",
                    "warning",
                    "line",
                    (int(a.line_index[lp]),),
                    "this closed line joins the 10 kV buses of two substations directly",
                )
            )
    heads.sort(key=lambda lp: int(a.line_index[lp]))
    eu: list[int] = []
    ev: list[int] = []
    ek: list[int] = []
    ei: list[int] = []

    def add(u: int, v: int, kind: int, idx: int) -> None:
        if in_station[u] or in_station[v]:
            return
        eu.extend((u, v))
        ev.extend((v, u))
        ek.extend((kind, kind))
        ei.extend((idx, idx))

    for lp in np.flatnonzero(line_closed).tolist():
        add(int(a.line_from[lp]), int(a.line_to[lp]), _LINE, int(lp))
    for tp in np.flatnonzero(a.trafo_ok & (a.trafo_role != "main")).tolist():
        add(int(a.trafo_hv[tp]), int(a.trafo_lv[tp]), _TRAFO, int(tp))
    for k in np.flatnonzero(a.bb_closed).tolist():
        add(int(a.bb_a[k]), int(a.bb_b[k]), _SWITCH, int(k))
    order = np.argsort(np.asarray(eu, dtype=np.int64), kind="stable")
    eu_arr = np.asarray(eu, dtype=np.int64)[order]
    indptr = np.searchsorted(eu_arr, np.arange(n + 1)).tolist()
    nbr = np.asarray(ev, dtype=np.int64)[order].tolist()
    kinds = np.asarray(ek, dtype=np.int64)[order].tolist()
    eids = np.asarray(ei, dtype=np.int64)[order].tolist()

    # ---------------------------------------------------------------- feeders (BFS per head)
    feeder_of = [-1] * n
    parent = [-1] * n
    pred_kind = [-1] * n
    pred_idx = [-1] * n
    depth = [0] * n
    bfs_order: list[int] = []
    feeder_heads: list[int] = []
    feeder_section: list[str] = []
    loop_lines: dict[int, set[int]] = defaultdict(set)
    for lp in heads:
        f, t = int(a.line_from[lp]), int(a.line_to[lp])
        sec_pos, far = (f, t) if f in section_of_pos else (t, f)
        fid = len(feeder_heads)
        if feeder_of[far] != -1:
            other = feeder_of[far]
            found.append(
                Problem(
                    "closed_loop",
                    "warning",
                    "line",
                    (int(a.line_index[lp]), int(a.line_index[feeder_heads[other]])),
                    f"feeder heads {int(a.line_index[lp])} and "
                    f"{int(a.line_index[feeder_heads[other]])}"
                    " energise the same buses: two feeders run in parallel (a loop that should be"
                    " open)",
                )
            )
            continue
        feeder_heads.append(lp)
        feeder_section.append(section_of_pos[sec_pos])
        feeder_of[far] = fid
        parent[far] = sec_pos
        pred_kind[far] = _HEAD
        pred_idx[far] = lp
        depth[far] = 1
        queue = [far]
        head = 0
        while head < len(queue):
            u = queue[head]
            head += 1
            bfs_order.append(u)
            for k in range(indptr[u], indptr[u + 1]):
                w = nbr[k]
                if feeder_of[w] == -1:
                    feeder_of[w] = fid
                    parent[w] = u
                    pred_kind[w] = kinds[k]
                    pred_idx[w] = eids[k]
                    depth[w] = depth[u] + 1
                    queue.append(w)
                elif kinds[k] == _LINE and not (
                    (pred_kind[u] == _LINE and pred_idx[u] == eids[k])
                    or (pred_kind[w] == _LINE and pred_idx[w] == eids[k])
                ):
                    loop_lines[feeder_of[w]].add(eids[k])
    for fid, loop in loop_lines.items():
        found.append(
            Problem(
                "closed_loop",
                "warning",
                "line",
                tuple(sorted(int(a.line_index[x]) for x in loop)),
                f"feeder {int(a.line_index[feeder_heads[fid]])} has a closed loop in its normal "
                "state; radial operation needs one of these lines opened",
            )
        )
    feeder_ids = [f"fd:{int(a.line_index[lp])}" for lp in feeder_heads]

    # line → feeder: the feeder of any energised, closed end
    n_line = len(a.line_index)
    line_feeder = np.full(n_line, -1)
    fo = np.asarray(feeder_of)
    for lp in np.flatnonzero(a.line_ok).tolist():
        f, t = int(a.line_from[lp]), int(a.line_to[lp])
        if not a.line_open_from[lp] and fo[f] >= 0:
            line_feeder[lp] = fo[f]
        elif not a.line_open_to[lp] and fo[t] >= 0:
            line_feeder[lp] = fo[t]
    for fid, lp in enumerate(feeder_heads):
        line_feeder[lp] = fid

    # ---------------------------------------------------------------- segments
    mv_line = (
        (line_feeder >= 0) & is_mv[np.maximum(a.line_from, 0)] & is_mv[np.maximum(a.line_to, 0)]
    )
    seg_lines = np.flatnonzero(mv_line)
    ends_bus: list[np.ndarray] = []
    ends_line: list[np.ndarray] = []
    for bus_arr, sw_arr, open_arr in (
        (a.line_from, a.line_sw_from, a.line_open_from),
        (a.line_to, a.line_sw_to, a.line_open_to),
    ):
        free = seg_lines[~sw_arr[seg_lines] & ~open_arr[seg_lines]]
        free = free[~in_station[bus_arr[free]]]
        ends_bus.append(bus_arr[free])
        ends_line.append(free)
    eb = np.concatenate(ends_bus)
    el = np.concatenate(ends_line)
    ordr = np.argsort(eb, kind="stable")
    eb, el = eb[ordr], el[ordr]
    _, first = np.unique(eb, return_index=True)
    grp_first = np.repeat(first, np.diff(np.append(first, len(eb))))
    rows = el
    cols = el[grp_first]
    adj = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_line, n_line))
    _, seg_label = connected_components(adj, directed=False)
    seg_of_line: dict[int, str] = {}
    seg_members: dict[int, list[int]] = defaultdict(list)
    for lp in seg_lines.tolist():
        seg_members[int(seg_label[lp])].append(int(lp))
    for lps in seg_members.values():
        sid = f"seg:{min(int(a.line_index[x]) for x in lps)}"
        for x in lps:
            seg_of_line[x] = sid

    up_seg: list[str | None] = [None] * n
    dt_of: list[int] = [-1] * n
    for u in bfs_order:
        pk, idx, p = pred_kind[u], pred_idx[u], parent[u]
        if pk in (_LINE, _HEAD) and idx in seg_of_line:
            up_seg[u] = seg_of_line[idx]
        elif p >= 0 and not in_station[p]:
            up_seg[u] = up_seg[p]
        if pk == _TRAFO and a.trafo_role[idx] == "distribution":
            dt_of[u] = idx
        elif p >= 0 and is_lv[u] and not in_station[p]:
            dt_of[u] = dt_of[p]
    seg_parent: dict[str, str | None] = {}
    seg_entry_depth: dict[str, int] = {}
    for u in bfs_order:
        if pred_kind[u] in (_LINE, _HEAD) and pred_idx[u] in seg_of_line:
            sid = seg_of_line[pred_idx[u]]
            if sid not in seg_entry_depth or depth[u] < seg_entry_depth[sid]:
                seg_entry_depth[sid] = depth[u]
                p = parent[u]
                up = up_seg[p] if p >= 0 and not in_station[p] else None
                seg_parent[sid] = up if up != sid else None

    segments: dict[str, Segment] = {}
    seg_by_feeder: dict[int, list[str]] = defaultdict(list)
    for lps in seg_members.values():
        lps.sort(key=lambda x: int(a.line_index[x]))
        sid = seg_of_line[lps[0]]
        fid = int(line_feeder[lps[0]])
        buses = sorted(
            {int(bidx[b]) for x in lps for b in (a.line_from[x], a.line_to[x]) if not in_station[b]}
        )
        segments[sid] = Segment(
            id=sid,
            feeder_id=feeder_ids[fid],
            lines=tuple(int(a.line_index[x]) for x in lps),
            buses=tuple(buses),
            parent_segment_id=seg_parent.get(sid),
            length_km=float(np.nansum(a.line_len[lps])),
            min_max_i_ka=float(np.nanmin(a.line_imax[lps])) if len(lps) else math.nan,
        )
        seg_by_feeder[fid].append(sid)

    # ---------------------------------------------------------------- ties
    def owner(p: int) -> str | None:
        if p < 0:
            return None
        if fo[p] >= 0:
            return feeder_ids[fo[p]]
        return section_of_pos.get(p)

    feeder_sub = {fid: substation_of_section[feeder_section[k]] for k, fid in enumerate(feeder_ids)}

    def substation_of(side: str) -> str:
        if side.startswith("bs:"):
            return substation_of_section[side]
        return feeder_sub[side]

    tie_candidates: list[tuple[str, int | None, int | None, int, int]] = []
    for lp, sidx in a.open_line_switch.items():
        if (
            a.line_from[lp] >= 0
            and a.line_to[lp] >= 0
            and (a.bus_ok[a.line_from[lp]] and a.bus_ok[a.line_to[lp]])
        ):
            tie_candidates.append(
                (
                    f"tie:{sidx}",
                    sidx,
                    int(a.line_index[lp]),
                    int(a.line_from[lp]),
                    int(a.line_to[lp]),
                )
            )
    line_in = net.line["in_service"].to_numpy(bool)
    for lp in np.flatnonzero(~line_in).tolist():
        f, t = int(a.line_from[lp]), int(a.line_to[lp])
        if f >= 0 and t >= 0 and lp not in a.open_line_switch and is_mv[f] and is_mv[t]:
            tie_candidates.append(
                (f"tie:line{int(a.line_index[lp])}", None, int(a.line_index[lp]), f, t)
            )
    for k in np.flatnonzero(~a.bb_closed).tolist():
        tie_candidates.append(
            (f"tie:{int(a.bb_index[k])}", int(a.bb_index[k]), None, int(a.bb_a[k]), int(a.bb_b[k]))
        )
    tie_switches: dict[str, TieSwitch] = {}
    bus_couplers: dict[str, TieSwitch] = {}
    partners: dict[str, set[str]] = defaultdict(set)
    ties_of: dict[str, list[str]] = defaultdict(list)
    for tid, sidx_o, lidx, pa, pb in tie_candidates:
        if not (is_mv[pa] and is_mv[pb]):
            continue
        sa, sb = owner(pa), owner(pb)
        if sa is None and sb is None:
            continue
        kind: Literal["feeder_tie", "bus_coupler", "within_feeder", "dead_end"]
        between = False
        if sa is None or sb is None:
            kind = "dead_end"
            found.append(
                Problem(
                    "dead_end_tie",
                    "warning",
                    "switch" if sidx_o is not None else "line",
                    _element_ids(sidx_o, lidx),
                    "this normally-open point has a de-energised side: the loop it should close"
                    " leads nowhere",
                )
            )
        elif sa == sb:
            kind = "within_feeder"
        elif sa.startswith("bs:") and sb.startswith("bs:"):
            between = substation_of(sa) != substation_of(sb)
            kind = "feeder_tie" if between else "bus_coupler"
        else:
            kind = "feeder_tie"
            between = substation_of(sa) != substation_of(sb)
        tie = TieSwitch(
            id=tid,
            switch=sidx_o,
            line=lidx,
            bus_a=int(bidx[pa]),
            bus_b=int(bidx[pb]),
            side_a=sa,
            side_b=sb,
            kind=kind,
            between_substations=between,
        )
        if kind == "bus_coupler":
            bus_couplers[tid] = tie
        elif kind == "feeder_tie":
            tie_switches[tid] = tie
            assert sa is not None and sb is not None
            for x, y in ((sa, sb), (sb, sa)):
                if x.startswith("fd:"):
                    partners[x].add(y)
                    ties_of[x].append(tid)
        elif kind == "within_feeder":
            assert sa is not None
            found.append(
                Problem(
                    "open_loop_within_feeder",
                    "warning",
                    "switch" if sidx_o is not None else "line",
                    (sidx_o if sidx_o is not None else lidx,),  # type: ignore[arg-type]
                    f"this normally-open point has feeder {sa} on both sides: it gives no transfer",
                )
            )

    # ---------------------------------------------------------------- feeders
    fo_arr = fo
    feeder_lines: dict[int, list[int]] = defaultdict(list)
    for lp in np.flatnonzero(line_feeder >= 0).tolist():
        feeder_lines[int(line_feeder[lp])].append(int(lp))
    feeder_buses: dict[int, list[int]] = defaultdict(list)
    for p in np.flatnonzero(fo_arr >= 0).tolist():
        feeder_buses[int(fo_arr[p])].append(int(p))
    station_key = a.station.copy()
    if not any(s is not None for s in station_key):
        station_key = np.array(
            [
                f"{x:.5f},{y:.5f}" if math.isfinite(x) and math.isfinite(y) else None
                for x, y in zip(lon, lat, strict=True)
            ],
            dtype=object,
        )
    feeders_at_station: dict[str, set[int]] = defaultdict(set)
    for p in np.flatnonzero((fo_arr >= 0) & is_mv).tolist():
        if station_key[p] is not None:
            feeders_at_station[station_key[p]].add(int(fo_arr[p]))
    feeders: dict[str, Feeder] = {}
    for fid, lp in enumerate(feeder_heads):
        fid_s = feeder_ids[fid]
        lps = feeder_lines[fid]
        mv_lps = [x for x in lps if mv_line[x]]
        cable_len = float(np.nansum(a.line_len[[x for x in mv_lps if a.line_cable[x]]]))
        total_len = float(np.nansum(a.line_len[mv_lps])) if mv_lps else 0.0
        conductor: Literal["cable", "overhead"] = (
            "cable" if total_len > 0 and cable_len > 0.5 * total_len else "overhead"
        )
        k = len(partners[fid_s])
        mode: WiringMode
        if k == 0:
            mode = "radial"
        elif conductor == "cable":
            mode = "single_ring" if k == 1 else ("two_ties" if k == 2 else "three_ties")
            mv_stations = {
                station_key[p] for p in feeder_buses[fid] if is_mv[p] and station_key[p] is not None
            }
            if mv_stations:
                shared = Counter(o for s in mv_stations for o in feeders_at_station[s] if o != fid)
                best = max(shared.values()) if shared else 0
                # A double ring runs a feeder pair through several double RMUs together.
                if best >= 2 and best >= share_needed * len(mv_stations):
                    mode = "double_ring"
        else:
            mode = "single_tie" if k == 1 else ("two_ties" if k == 2 else "three_ties")
        sec_pos = a.line_from[lp] if a.line_from[lp] in section_of_pos else a.line_to[lp]
        feeders[fid_s] = Feeder(
            id=fid_s,
            name=_text(net.line["name"].iat[lp]) or f"feeder {int(a.line_index[lp])}",
            substation_id=substation_of_section[feeder_section[fid]],
            bus_section_id=feeder_section[fid],
            head_line=int(a.line_index[lp]),
            head_bus=int(bidx[sec_pos]),
            wiring_mode=mode,
            conductor=conductor,
            tie_ids=tuple(sorted(ties_of[fid_s])),
            tie_partner_ids=tuple(sorted(partners[fid_s])),
            buses=tuple(sorted(int(bidx[p]) for p in feeder_buses[fid])),
            lines=tuple(sorted(int(a.line_index[x]) for x in lps)),
            segment_ids=tuple(sorted(seg_by_feeder[fid])),
            length_km=total_len,
            head_max_i_ka=float(a.line_imax[lp]),
        )

    names_seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fdr in feeders.values():
        names_seen[(fdr.substation_id, fdr.name)].append(fdr.head_line)
    for (sub_id, fname), head_lines in names_seen.items():
        if len(head_lines) > 1:
            found.append(
                Problem(
                    "duplicate_name",
                    "warning",
                    "line",
                    tuple(head_lines),
                    f"{len(head_lines)} feeders of {sub_id} are all named {fname!r}",
                    "name",
                )
            )

    # ---------------------------------------------------------------- bus sections
    lines_at: Counter[int] = Counter()
    for lp in np.flatnonzero(a.line_ok).tolist():
        lines_at[int(a.line_from[lp])] += 1
        lines_at[int(a.line_to[lp])] += 1
    trafos_at: Counter[int] = Counter()
    for tp in np.flatnonzero(a.trafo_ok & (a.trafo_role != "main")).tolist():
        trafos_at[int(a.trafo_hv[tp])] += 1
    feeders_of_section: dict[str, list[str]] = defaultdict(list)
    for fid_s, fdr in feeders.items():
        feeders_of_section[fdr.bus_section_id].append(fid_s)
    bus_sections: dict[str, BusSection] = {}
    for sec_id, sec_name, grp in sections_raw:
        given = a.bays_total[grp]
        total: int | None = (
            int(np.nansum(given))
            if np.isfinite(given).any()
            else int(default_bays["substation_bay"])
        )
        used = sum(lines_at[p] for p in grp)
        bus_sections[sec_id] = BusSection(
            id=sec_id,
            name=sec_name,
            substation_id=substation_of_section[sec_id],
            buses=tuple(int(bidx[p]) for p in grp),
            main_transformer_ids=tuple(
                m.id for m in main_transformers.values() if m.bus_section_id == sec_id
            ),
            feeder_ids=tuple(sorted(feeders_of_section[sec_id])),
            bays_total=total,
            bays_free=max(total - used, 0) if total is not None else None,
        )

    # ---------------------------------------------------------------- distribution transformers
    ownership_col = _column(net.trafo, "ownership", None)
    std_col = _column(net.trafo, "std_type", None)
    lv_lines_at: Counter[int] = Counter()
    for lp in np.flatnonzero(a.line_ok).tolist():
        if is_lv[a.line_from[lp]]:
            lv_lines_at[int(a.line_from[lp])] += 1
            lv_lines_at[int(a.line_to[lp])] += 1
    distribution_transformers: dict[str, DistributionTransformer] = {}
    dist_t = np.flatnonzero(a.trafo_role == "distribution")
    for tp in dist_t.tolist():
        if a.trafo_hv[tp] < 0 or a.trafo_lv[tp] < 0:
            continue
        hv, lv = int(a.trafo_hv[tp]), int(a.trafo_lv[tp])
        own = _text(ownership_col[tp])
        if own not in ("public", "customer"):
            own = "public" if lv_lines_at[lv] > 0 else "customer"
        dt_id = f"dt:{int(a.trafo_index[tp])}"
        distribution_transformers[dt_id] = DistributionTransformer(
            id=dt_id,
            trafo=int(a.trafo_index[tp]),
            name=_text(net.trafo["name"].iat[tp]) or dt_id,
            sn_kva=float(net.trafo["sn_mva"].iat[tp]) * 1000.0,
            ownership=own,  # type: ignore[arg-type]
            hv_bus=int(bidx[hv]),
            lv_bus=int(bidx[lv]),
            feeder_id=feeder_ids[fo[hv]] if fo[hv] >= 0 else None,
            segment_id=up_seg[hv],
            std_type=_text(std_col[tp]),
        )

    # ---------------------------------------------------------------- connection points
    areas, area_msgs = areas_from_table(net.get("gridcap_areas"))
    for msg in area_msgs:
        found.append(Problem("bad_area", "warning", "area", (), msg))
    switching_station = _switching_station_buses(a, in_station, n)
    cable_at = np.zeros(n, bool)
    cab = np.flatnonzero(a.line_cable & a.line_ok)
    cable_at[a.line_from[cab]] = True
    cable_at[a.line_to[cab]] = True
    cp_rows: list[tuple[int, ConnectionPointKind, int | None, int | None]] = []
    for sec_id, _, grp in sections_raw:
        sec = bus_sections[sec_id]
        main_bus = max(grp, key=lambda p: (lines_at[p], -int(bidx[p])))
        cp_rows.append((main_bus, "substation_bay", sec.bays_total, sec.bays_free))
    for p in np.flatnonzero((fo_arr >= 0) & (is_mv | is_lv)).tolist():
        p = int(p)
        sk = a.station_kind[p]
        cp_kind: ConnectionPointKind | None
        if sk is not None:
            if sk == "customer":
                continue
            cp_kind = _STATION_KIND_TO_CP.get(sk)
            if cp_kind is None or (cp_kind == "lv_branch_box") != bool(is_lv[p]):
                continue
        elif is_lv[p]:
            cp_kind = "lv_branch_box" if lv_lines_at[p] >= 2 else None
        elif switching_station[p]:
            cp_kind = "switching_station"
        else:
            cp_kind = "ring_main_unit" if cable_at[p] else "pole"
        if cp_kind is None:
            continue
        given_bays = a.bays_total[p]
        if math.isfinite(given_bays):
            total_b: int | None = int(given_bays)
        elif sk is None and cp_kind != "pole":
            total_b = int(default_bays[cp_kind])
        else:
            total_b = None
        used_b = lines_at[p] + trafos_at[p]
        cp_rows.append(
            (p, cp_kind, total_b, max(total_b - used_b, 0) if total_b is not None else None)
        )
    cp_pos = np.array([r[0] for r in cp_rows], dtype=int)
    cp_class = classify_points(areas, lon[cp_pos], lat[cp_pos]).tolist()
    connection_points: dict[str, ConnectionPoint] = {}
    for (p, cp_kind, total_b, free_b), cls in zip(cp_rows, cp_class, strict=True):
        b = int(bidx[p])
        cp_sec = section_of_pos.get(p)
        feeder_id = feeder_ids[fo[p]] if fo[p] >= 0 else None
        dt_pos = dt_of[p]
        cp_id = f"cp:{b}"
        connection_points[cp_id] = ConnectionPoint(
            id=cp_id,
            bus=b,
            kind=cp_kind,
            name=names[p] or cp_id,
            station=a.station[p],
            vn_kv=float(a.vn_kv[p]),
            lon_deg=float(lon[p]),
            lat_deg=float(lat[p]),
            bays_total=total_b,
            bays_free=free_b,
            substation_id=substation_of_section[cp_sec]
            if cp_sec
            else (feeder_sub[feeder_id] if feeder_id else None),
            bus_section_id=cp_sec or (feeders[feeder_id].bus_section_id if feeder_id else None),
            feeder_id=feeder_id,
            segment_id=up_seg[p],
            distribution_transformer_id=(
                f"dt:{int(a.trafo_index[dt_pos])}" if dt_pos >= 0 and is_lv[p] else None
            ),
            area_class=str(cls),  # type: ignore[arg-type]
        )

    return GridModel(
        net=net,
        id=model_id,
        version=version,
        substations=substations,
        main_transformers=main_transformers,
        bus_sections=bus_sections,
        feeders=feeders,
        segments=segments,
        tie_switches=tie_switches,
        bus_couplers=bus_couplers,
        distribution_transformers=distribution_transformers,
        connection_points=connection_points,
        areas=areas,
        problems=found,
        bus_feeder={int(bidx[p]): feeder_ids[fo[p]] for p in np.flatnonzero(fo_arr >= 0)},
        bus_segment={int(bidx[p]): s for p, s in enumerate(up_seg) if s is not None},
        bus_section_of_bus={int(bidx[p]): s for p, s in section_of_pos.items()},
        lv_bus_transformer={
            int(bidx[p]): f"dt:{int(a.trafo_index[t])}"
            for p, t in enumerate(dt_of)
            if t >= 0 and is_lv[p]
        },
        mv_buses=tuple(int(b) for b in bidx[is_mv]),
        lv_buses=tuple(int(b) for b in bidx[is_lv]),
    )


def _substation_name(
    net: pp.pandapowerNet, members: list[int], station: str | None, names: list[str | None]
) -> str:
    if "substation" in net.bus.columns:
        vals = {_text(v) for v in net.bus["substation"].to_numpy()[members]} - {None}
        if len(vals) == 1:
            return str(next(iter(vals)))
    # Bus names such as "文峰变 110kV母线", "文峰变 10kVⅠ段母线" share the station's name.
    known = [n for n in (names[p] for p in members) if n]
    if len(known) >= 2:
        prefix = os.path.commonprefix(known)
        prefix = prefix[: prefix.rfind(" ")].strip(" -_") if " " in prefix else ""
        if len(prefix) >= 2 and prefix.lower() not in ("bus", "node"):
            return prefix
    return station or f"substation at bus {int(net.bus.index[members[0]])}"


def _element_ids(switch: int | None, line: int | None) -> tuple[int, ...]:
    return (switch,) if switch is not None else ((line,) if line is not None else ())


def _switching_station_buses(a: _Arrays, in_station: np.ndarray, n: int) -> np.ndarray:
    """MV buses outside substations joined to another bus by a bus-bus switch (开关站)."""
    out = np.zeros(n, bool)
    for x, y in zip(a.bb_a, a.bb_b, strict=True):
        if not in_station[x] and not in_station[y]:
            out[x] = out[y] = True
    return out


def normal_state_graph(net: pp.pandapowerNet) -> nx.MultiGraph:
    """A networkx MultiGraph of the normal switching state (buses as nodes)."""
    import networkx as nx

    rules = load_rules()
    a = _arrays(
        net,
        float(rules.get("network_defaults.voltage_levels.hv_min_kv")),
        float(rules.get("network_defaults.voltage_levels.lv_max_kv")),
    )
    g = nx.MultiGraph()
    g.add_nodes_from(int(b) for b in a.bus_index[a.bus_ok])
    bidx = a.bus_index
    for lp in np.flatnonzero(a.line_ok & ~a.line_open_from & ~a.line_open_to).tolist():
        g.add_edge(
            int(bidx[a.line_from[lp]]),
            int(bidx[a.line_to[lp]]),
            element="line",
            index=int(a.line_index[lp]),
            length_km=float(a.line_len[lp]),
        )
    for tp in np.flatnonzero(a.trafo_ok).tolist():
        g.add_edge(
            int(bidx[a.trafo_hv[tp]]),
            int(bidx[a.trafo_lv[tp]]),
            element="trafo",
            index=int(a.trafo_index[tp]),
        )
    for k in np.flatnonzero(a.bb_closed).tolist():
        g.add_edge(
            int(bidx[a.bb_a[k]]), int(bidx[a.bb_b[k]]), element="switch", index=int(a.bb_index[k])
        )
    return g
