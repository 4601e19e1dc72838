"""Tests for the seeded 10 kV network generator (grid_models._generator)."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from typing import Any

import networkx as nx
import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from shapely.geometry import Point, shape

from grid_models._catalogue import load_catalogue
from grid_models._errors import GeneratorParameterError
from grid_models._generator import (
    PRESETS,
    GeneratorParams,
    anyang_params,
    generate_network,
)
from grid_models._geo import areas_from_table, bus_coordinates, classify_points
from grid_models._rules import load_rules

STATION_KINDS = {
    "substation",
    "switching_station",
    "ring_main_unit",
    "distribution_room",
    "pole",
    "lv_branch_box",
    "customer",
}
LOAD_CLASSES = {"residential", "commercial", "industrial", "agriculture", "public_service"}


@pytest.fixture(scope="module")
def net() -> pp.pandapowerNet:
    return generate_network(anyang_params())


@pytest.fixture(scope="module")
def solved(net: pp.pandapowerNet) -> pp.pandapowerNet:
    solved = pp.from_json_string(pp.to_json(net))
    pp.runpp(solved)
    return solved


def lv_radius_m() -> dict[str, float]:
    """The 0.38 kV supply radius per area class from the rules in force (m)."""
    return dict(load_rules().get("scheme.candidates.supply_radius_m.lv"))


def _area_class(net: pp.pandapowerNet, buses: pd.Series | pd.Index) -> np.ndarray:
    """The area class where each of ``buses`` stands (from the net's own areas)."""
    areas, _ = areas_from_table(net["gridcap_areas"])
    lon, lat = bus_coordinates(net.bus)
    pos = net.bus.index.get_indexer(np.asarray(buses))
    return np.asarray(classify_points(areas, lon[pos], lat[pos]))


def _section_buses(net: pp.pandapowerNet) -> pd.Index:
    bus = net.bus
    return bus.index[(bus.station_kind == "substation") & (bus.vn_kv == 10.0)]


def _feeders(net: pp.pandapowerNet) -> pd.DataFrame:
    """Feeders derived from the net itself: the buses reached from each head line over
    closed switches (not through a substation), their summed loads and tie count."""
    sections = set(_section_buses(net))
    hv = set(net.bus.index[net.bus.vn_kv >= 35.0])
    sw = net.switch
    open_lines = set(sw.element[(sw.et == "l") & ~sw.closed])
    g = nx.Graph()
    g.add_nodes_from(net.bus.index)
    for i, f, t in zip(net.line.index, net.line.from_bus, net.line.to_bus, strict=True):
        if i not in open_lines:
            g.add_edge(f, t)
    g.add_edges_from(zip(net.trafo.hv_bus, net.trafo.lv_bus, strict=True))
    g.remove_nodes_from(sections | hv)
    comp: dict[int, int] = {}
    for k, nodes in enumerate(nx.connected_components(g)):
        comp.update(dict.fromkeys(nodes, k))
    loads = net.load.groupby(net.load.bus.map(comp))[["p_mw", "q_mvar"]].sum()
    ties: dict[int, int] = {}
    partner_subs: dict[int, set[str]] = {}
    station = net.bus.station
    for i in open_lines:
        a, b = comp[net.line.from_bus[i]], comp[net.line.to_bus[i]]
        if a != b:
            ties[a] = ties.get(a, 0) + 1
            ties[b] = ties.get(b, 0) + 1
    heads = net.line[net.line.from_bus.isin(sections)]
    head_of = {comp[t]: station[f] for f, t in zip(heads.from_bus, heads.to_bus, strict=True)}
    for i in open_lines:
        a, b = comp[net.line.from_bus[i]], comp[net.line.to_bus[i]]
        if a in head_of and b in head_of:
            partner_subs.setdefault(a, set()).add(head_of[b])
            partner_subs.setdefault(b, set()).add(head_of[a])
    rows = []
    for i, row in heads.iterrows():
        c = comp[row.to_bus]
        p, q = loads.loc[c] if c in loads.index else (0.0, 0.0)
        s_th = math.sqrt(3) * 10.0 * row.max_i_ka
        rows.append(
            {
                "line": i,
                "type": row["type"],
                "substation": station[row.from_bus],
                "s_mva": math.hypot(p, q),
                "loading": math.hypot(p, q) / s_th,
                "ties": ties.get(c, 0),
                "cross_sub_tie": bool(partner_subs.get(c, set()) - {station[row.from_bus]}),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- determinism


def test_same_params_give_identical_json(net: pp.pandapowerNet) -> None:
    again = generate_network(anyang_params())
    assert pp.to_json(again) == pp.to_json(net)


def test_different_seed_gives_different_net(net: pp.pandapowerNet) -> None:
    other = generate_network(dataclasses.replace(anyang_params(), seed=7))
    assert pp.to_json(other) != pp.to_json(net)


def test_district_generation_is_fast() -> None:
    generate_network(anyang_params())  # warm caches (catalogue, imports)
    t0 = time.perf_counter()
    generate_network(anyang_params())
    assert time.perf_counter() - t0 < 2.0


# ----------------------------------------------------------------------------- content


def test_anyang_counts(net: pp.pandapowerNet) -> None:
    bus, trafo = net.bus, net.trafo
    subs = bus.station[bus.station_kind == "substation"].unique()
    assert len(subs) >= 3
    assert len(net.ext_grid) == len(subs)
    assert (net.ext_grid.vm_pu == 1.0).all()
    heads = net.line[net.line.from_bus.isin(_section_buses(net))]
    assert len(heads) >= 40
    assert (trafo.role == "distribution").sum() >= 600
    main = trafo[trafo.role == "main"]
    assert main.groupby(bus.station.reindex(main.hv_bus).values).size().between(2, 3).all()
    assert set(main.std_type) <= {f"SZ13-{k}/110" for k in (31500, 40000, 50000, 63000)}


def test_meta_and_profiles(net: pp.pandapowerNet) -> None:
    meta = net["gridcap_meta"]
    assert meta["id"] == "anyang"
    assert meta["generator"] == "gridcap"
    assert meta["seed"] == anyang_params().seed
    assert meta["params"]["n_cities"] == 1
    json.dumps(meta)  # plain JSON values only
    prof = net["gridcap_profiles"]
    assert prof.shape == (96, 10)
    assert list(prof.index) == list(range(96))
    for cls in LOAD_CLASSES:
        both = prof[[f"summer/{cls}", f"winter/{cls}"]]
        assert both.to_numpy().max() == pytest.approx(1.0)
        assert (both.to_numpy() > 0).all()
    res = prof["summer/residential"]
    assert 17 * 4 <= int(res.idxmax()) <= 22 * 4  # evening peak
    assert int(prof["summer/commercial"].idxmax()) in range(9 * 4, 18 * 4)


def test_areas(net: pp.pandapowerNet) -> None:
    areas = net["gridcap_areas"]
    assert list(areas.columns) == ["id", "name", "kind", "geometry"]
    kinds = areas.kind.value_counts()
    for k in ("city_centre", "urban", "town", "rural"):
        assert kinds.get(k, 0) >= 1
    assert kinds["provincial_park"] == 1
    assert kinds["urban_planning_area"] == 1
    assert kinds["town"] >= 3
    polys = {r.id: shape(json.loads(r.geometry)) for r in areas.itertuples()}
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polys.values())
    by_kind = {r.kind: polys[r.id] for r in areas.itertuples()}
    centre, urban = by_kind["city_centre"], by_kind["urban"]
    assert urban.contains(centre)
    assert by_kind["urban_planning_area"].contains(urban)
    assert by_kind["provincial_park"].intersects(urban)
    rural = by_kind["rural"]
    assert all(rural.contains(p) for k, p in polys.items() if k != "rural")
    # the city centre is about 2–3 km in radius: area π r² ≈ 12–30 km² (1° ≈ 111 × 90 km)
    km2 = centre.area * 110.6 * 111.3 * math.cos(math.radians(36.1))
    assert 10.0 < km2 < 35.0


def test_geography(net: pp.pandapowerNet) -> None:
    coords = np.array([json.loads(g)["coordinates"] for g in net.bus.geo])
    assert all(json.loads(g)["type"] == "Point" for g in net.bus.geo[:50])
    lon, lat = coords[:, 0], coords[:, 1]
    dx = (lon - 114.35) * 111.32 * math.cos(math.radians(36.10))
    dy = (lat - 36.10) * 110.57
    assert np.hypot(dx, dy).max() < 50.0
    # substations are at least a couple of km apart
    subs = net.bus[net.bus.station_kind == "substation"].drop_duplicates("station")
    sc = np.array([json.loads(g)["coordinates"] for g in subs.geo])
    xy = np.column_stack(((sc[:, 0] - 114.35) * 90.0, (sc[:, 1] - 36.10) * 110.57))
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    assert d[np.triu_indices(len(xy), 1)].min() > 1.5
    # substation area classes: some in the centre/urban area, some outside
    areas = net["gridcap_areas"]
    centre_urban = [
        shape(json.loads(g)) for g in areas.geometry[areas.kind.isin(["city_centre", "urban"])]
    ]
    inside = [any(p.contains(Point(x, y)) for p in centre_urban) for x, y in sc]
    assert any(inside) and not all(inside)


def test_column_conventions(net: pp.pandapowerNet) -> None:
    cat = load_catalogue()
    bus = net.bus
    assert set(bus.station_kind) <= STATION_KINDS
    assert bus.station.notna().all() and bus.name.notna().all()
    assert bus.bays_total.dtype == np.float64
    for table, cols in {
        "bus": ["name", "type", "geo", "station", "station_kind"],
        "line": ["name", "std_type", "type"],
        "trafo": ["name", "std_type", "role", "ownership", "vector_group"],
        "switch": ["et", "type", "name"],
        "load": ["name", "load_class"],
    }.items():
        for c in cols:
            assert net[table][c].dtype == object, (table, c)
    line = net.line
    assert (line.length_km >= 0.01).all()
    assert set(line.std_type) <= set(cat.line_types)
    for std, lt in ((s, cat.line_type(s)) for s in line.std_type.unique()):
        rows = line[line.std_type == std]
        assert (rows.max_i_ka == lt.max_i_ka).all() and (rows.r_ohm_per_km == lt.r_ohm_per_km).all()
        assert (rows.type == lt.pandapower_type).all()
    trafo = net.trafo
    assert set(trafo.std_type) <= set(cat.transformer_types)
    assert set(trafo.role) == {"main", "distribution"}
    assert set(trafo.ownership) == {"public", "customer"}
    assert (trafo.ownership[trafo.role == "main"] == "public").all()
    for std in trafo.std_type.unique():
        tt = cat.transformer_type(std)
        assert (trafo.sn_mva[trafo.std_type == std] == tt.sn_mva).all()
    assert set(net.load.load_class) == LOAD_CLASSES
    pf = net.load.p_mw / np.hypot(net.load.p_mw, net.load.q_mvar)
    assert pf.between(0.899, 0.951).all()


def test_substation_structure(net: pp.pandapowerNet) -> None:
    bus, sw = net.bus, net.switch
    sections = bus.loc[_section_buses(net)]
    assert sections.bays_total.between(12, 16).all()
    couplers = sw[sw.et == "b"]
    assert len(couplers) >= len(sections) - sections.station.nunique()
    assert (~couplers.closed).all() and (couplers.type == "CB").all()
    assert couplers.name.str.contains("母联").all()
    heads = net.line[net.line.from_bus.isin(sections.index)]
    head_sw = sw[(sw.et == "l") & sw.element.isin(heads.index) & sw.bus.isin(sections.index)]
    assert len(head_sw) == len(heads)
    assert (head_sw.closed & (head_sw.type == "CB")).all()
    # every section has several feeders and free bays
    per_section = heads.groupby("from_bus").size()
    assert per_section.min() >= 3
    used = per_section + net.trafo.lv_bus.value_counts().reindex(per_section.index)
    assert (sections.bays_total.reindex(per_section.index) - used > 0).all()


def test_cable_and_overhead_structure(net: pp.pandapowerNet) -> None:
    bus, line, trafo, sw = net.bus, net.line, net.trafo, net.switch
    rmu = bus[bus.station_kind == "ring_main_unit"]
    assert len(rmu) > 20
    assert rmu.bays_total.between(4, 6).all()
    used = (
        line.from_bus.value_counts().add(line.to_bus.value_counts(), fill_value=0)
        + trafo.hv_bus.value_counts().reindex(rmu.index, fill_value=0)
    ).reindex(rmu.index, fill_value=0)
    free = rmu.bays_total - used
    assert (free >= 0).all()
    assert (free > 0).mean() > 0.3
    # double RMUs: two buses of one station
    assert (rmu.station.value_counts() == 2).sum() >= 3
    # distribution transformers at RMUs switched by a closed 't' switch
    at_rmu = trafo[trafo.hv_bus.isin(rmu.index)]
    t_sw = sw[(sw.et == "t") & sw.element.isin(at_rmu.index)]
    assert len(t_sw) == len(at_rmu) and t_sw.closed.all()
    # conductors: cable feeders leave urban substations, overhead ones rural/town ones
    heads = line[line.from_bus.isin(_section_buses(net))]
    assert set(heads.std_type[heads.type == "cs"]) <= {"YJV22-3x300", "YJV22-3x400"}
    assert set(heads.std_type[heads.type == "ol"]) <= {
        "JKLYJ-240",
        "JKLYJ-185",
        "LGJ-240",
        "LGJ-185",
    }
    assert (heads.type == "cs").sum() >= 10 and (heads.type == "ol").sum() >= 10
    # overhead: poles without a bay limit, sectionalising pole switches, branches
    poles = bus[(bus.station_kind == "pole") & (bus.vn_kv == 10.0)]
    assert len(poles) > 200
    assert poles.bays_total.isna().all()
    assert ((sw.et == "l") & (sw.type == "LBS") & sw.name.str.contains("分段")).sum() >= 20
    assert line.std_type.isin(["JKLYJ-70", "JKLYJ-95", "JKLYJ-120"]).sum() >= 20
    # every tie is one open switch on a tie line
    ties = sw[(sw.et == "l") & ~sw.closed]
    assert len(ties) >= 20
    assert ties.name.str.contains("联络开关").all()
    assert ties.element.is_unique


def test_distribution_transformers_and_lv(net: pp.pandapowerNet) -> None:
    bus, trafo, load = net.bus, net.trafo, net.load
    dt = trafo[trafo.role == "distribution"]
    lv = bus.loc[dt.lv_bus]
    assert (lv.vn_kv == 0.4).all()
    assert (lv.station.values == bus.station.reindex(dt.lv_bus).values).all()
    dry = dt.std_type.str.startswith("SCB13")
    assert dry.any() and (~dry).any()
    assert (bus.station_kind.reindex(dt.lv_bus[dry]) != "pole").all()
    on_pole = bus.station_kind.reindex(dt.lv_bus).values == "pole"
    assert on_pole.sum() >= 200
    assert dt.sn_mva[on_pole].between(0.1, 0.4).all()  # town / rural transformers are small
    assert dt.sn_mva[dry & (dt.ownership == "public")].between(0.4, 1.25).all()
    assert 0.1 < (dt.ownership == "customer").mean() < 0.6
    # public transformers carry residential / commercial / public-service loads
    load_trafo = load.bus.map(pd.Series(dt.index, index=dt.lv_bus))
    pub = load[load_trafo.isin(dt.index[dt.ownership == "public"])]
    assert set(pub.load_class) <= {"residential", "commercial", "public_service"}
    # LV networks: LV lines from transformer LV buses to LV branch boxes with loads; after
    # the density pass most public transformers have one; an LV line is at most 250 m (as
    # built) or 1.5 × the LV supply radius of the place its box stands in (density pass)
    boxes = bus[bus.station_kind == "lv_branch_box"]
    assert boxes.bays_total.between(4, 8).all()
    lv_lines = net.line[net.line.to_bus.isin(boxes.index)]
    assert lv_lines.from_bus.isin(dt.lv_bus).all()
    radius_km = pd.Series(lv_radius_m()) / 1000.0
    box_class = pd.Series(_area_class(net, lv_lines.to_bus), index=lv_lines.index)
    assert (lv_lines.length_km >= 0.03).all()
    reach = np.maximum(0.25, 1.5 * radius_km.reindex(box_class).to_numpy())
    assert (lv_lines.length_km <= reach + 1e-9).all()
    n_lv_nets = lv_lines.from_bus.nunique()
    n_public = (dt.ownership == "public").sum()
    assert 0.6 < n_lv_nets / n_public <= 1.0
    assert boxes.index.isin(load.bus).mean() > 0.8
    # a box takes part of its transformer's (public) load, class and all
    assert set(load.load_class[load.bus.isin(boxes.index)]) <= {
        "residential",
        "commercial",
        "public_service",
    }


# ----------------------------------------------------------------------------- power flow


def test_power_flow_converges_within_limits(solved: pp.pandapowerNet) -> None:
    assert solved.converged
    mv = solved.res_bus.vm_pu[solved.bus.vn_kv == 10.0]
    assert mv.between(0.93, 1.07).all()
    assert solved.res_line.loading_percent.max() < 100.0
    loading = solved.res_trafo.loading_percent
    assert loading[solved.trafo.role == "distribution"].max() < 95.0
    main = loading[solved.trafo.role == "main"]
    assert main.max() < 100.0
    assert main.between(35.0, 85.0).mean() >= 0.75


def test_feeder_loading_distribution(net: pp.pandapowerNet) -> None:
    fd = _feeders(net)
    assert len(fd) >= 40
    in_band = fd.loading.between(0.30, 0.80)
    assert in_band.mean() >= 0.60
    assert fd.loading.max() < 0.9
    limit = np.where(fd.ties == 0, 1.0, fd.ties / (fd.ties + 1))
    over = fd.loading > limit
    assert 0.03 <= over.mean() <= 0.15
    assert ((fd.ties == 1) & (fd.loading > 0.5)).sum() >= 2
    # wiring modes: rings / single ties dominate, some radial, some with 2–3 ties
    assert set(fd.ties) <= {0, 1, 2, 3}
    assert (fd.ties == 0).sum() >= 1
    assert (fd.ties >= 2).sum() >= 2
    assert (fd.ties[fd.type == "cs"] <= 1).all()
    # ties across substations exist, for cable and for overhead feeders
    assert fd.cross_sub_tie[fd.type == "cs"].any()
    assert fd.cross_sub_tie[fd.type == "ol"].any()


# ----------------------------------------------------------------------------- params


def test_presets() -> None:
    assert set(PRESETS) >= {"district", "city", "province"}
    district = PRESETS["district"]
    assert district.n_cities * district.substations_per_city == 4
    city = PRESETS["city"]
    assert 30 <= city.n_cities * city.substations_per_city <= 60
    province = PRESETS["province"]
    assert province.n_cities * province.substations_per_city >= 300
    a = anyang_params()
    assert a.name == "anyang"
    assert (a.centre_lon_deg, a.centre_lat_deg) == pytest.approx((114.35, 36.10))


def test_params_json_dict() -> None:
    d = anyang_params().to_json_dict()
    assert d["feeders_per_section"] == list(anyang_params().feeders_per_section)
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("name", "", "name"),
        ("seed", -1, "seed"),
        ("seed", 1.5, "seed"),
        ("seed", True, "seed"),
        ("centre_lon_deg", 200.0, "centre_lon_deg"),
        ("centre_lat_deg", float("nan"), "centre_lat_deg"),
        ("n_cities", 0, "n_cities"),
        ("substations_per_city", 0, "substations_per_city"),
        ("substations_per_city", 201, "substations_per_city"),
        ("towns_per_city", -1, "towns_per_city"),
        ("city_names", ("安阳", "安阳"), "city_names"),
        ("urban_substation_share", 1.5, "urban_substation_share"),
        ("feeders_per_section", (5, 3), "feeders_per_section"),
        ("feeders_per_section", (2.5, 3), "feeders_per_section"),
        ("feeders_per_section", (1, 2, 3), "feeders_per_section"),
        ("main_transformer_loading", (0.5, 1.5), "main_transformer_loading"),
        ("overhead_tie_weights", (0.0, 0.0, 0.0, 0.0), "overhead_tie_weights"),
        ("overhead_tie_weights", (1.0, -1.0, 1.0, 1.0), "overhead_tie_weights"),
        ("lv_network_share", -0.1, "lv_network_share"),
        ("feeder_loading", (0.5, 0.52), "feeder_loading"),
        ("feeder_loading", (0.3, 0.95), "feeder_loading"),
        ("over_n1_share", 0.9, "over_n1_share"),
        ("dt_utilisation", (0.0, 0.8), "dt_utilisation"),
        ("lv_density", 1, "lv_density"),
    ],
)
def test_invalid_params_raise(field: str, value: Any, needle: str) -> None:
    with pytest.raises(GeneratorParameterError, match=needle):
        dataclasses.replace(anyang_params(), **{field: value})


def test_too_many_substations_rejected() -> None:
    with pytest.raises(GeneratorParameterError, match="substations_per_city"):
        dataclasses.replace(anyang_params(), n_cities=100, substations_per_city=100)


def test_generate_network_rejects_other_types() -> None:
    with pytest.raises(GeneratorParameterError):
        generate_network({"seed": 1})  # type: ignore[arg-type]


def test_small_and_odd_configurations_generate() -> None:
    """One substation, no towns, all-overhead or all-cable cities still build and solve."""
    base = anyang_params()
    for changes in (
        {"substations_per_city": 1},
        {"towns_per_city": 0, "substations_per_city": 3},
        {"urban_substation_share": 0.0, "substations_per_city": 2},
        {"urban_substation_share": 1.0, "substations_per_city": 3, "n_cities": 2},
    ):
        params = GeneratorParams(**{**dataclasses.asdict(base), **changes})
        small = generate_network(params)
        assert len(small.ext_grid) == params.n_cities * params.substations_per_city
        pp.runpp(small)
        assert small.converged
        assert small.res_bus.vm_pu[small.bus.vn_kv == 10.0].between(0.93, 1.07).all()
