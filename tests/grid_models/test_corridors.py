"""The corridor layer (电力管廊通道): the generator's corridors, the graph, bundle, export."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString

from grid_models import (
    GridModel,
    NetworkLoadError,
    load_model,
    model_from_net,
    read_bundle,
    to_geojson,
    validate_net,
    write_bundle,
)
from grid_models._corridors import (
    BARRIER_KINDS,
    CORRIDOR_KINDS,
    TRAVERSABLE_KINDS,
    CorridorNetwork,
)
from grid_models._generator import GeneratorParams, anyang_params, generate_network
from grid_models._geo import bus_coordinates

from .test_bundle import assert_nets_equal

LATTICE_STREET = re.compile(r"^(c\d\d-st[uv]\d{3})-\d+$")


@pytest.fixture(scope="module")
def model() -> GridModel:
    return load_model("builtin:anyang")


@pytest.fixture(scope="module")
def graph(model: GridModel) -> CorridorNetwork:
    corridors = model.corridors
    assert corridors is not None
    return corridors


@pytest.fixture(scope="module")
def largest(graph: CorridorNetwork) -> np.ndarray:
    """Per node: is it in the largest connected component?"""
    _, label = connected_components(graph.matrix, directed=False)
    return np.asarray(label == np.bincount(label).argmax())


# --------------------------------------------------------------------------- the table


def test_table_shape_and_kinds(model: GridModel) -> None:
    table = model.net["gridcap_corridors"]
    assert list(table.columns) == ["id", "name", "kind", "geometry"]
    assert table.id.is_unique
    assert set(table.kind) == set(CORRIDOR_KINDS)
    for text in table.geometry.iloc[::50]:
        geom = json.loads(text)
        assert geom["type"] == "LineString" and len(geom["coordinates"]) >= 2
    assert validate_net(model.net) == []
    assert not model.problems


def test_anyang_has_its_river_railway_and_streets(model: GridModel) -> None:
    table = model.net["gridcap_corridors"]
    names = dict(zip(table.kind + ":" + table.name, table.id, strict=True))
    assert "river:洹河" in names and "railway:京广铁路" in names
    assert "main_road:文峰大道" in names
    # one name per lattice street, distinct within the city; Chinese road names
    streets = table[table.id.str.match(LATTICE_STREET)]
    line_of = streets.id.str.extract(LATTICE_STREET)[0]
    per_line = streets.groupby(line_of).name.nunique()
    assert (per_line == 1).all()
    first = streets.groupby(line_of).name.first()
    assert first.is_unique
    assert first.str.fullmatch(r"[\u4e00-\u9fff]+(路|街|大道)").all()
    highways = table[table.id.str.contains("-hw")]
    assert len(highways) >= 5 and highways.name.str.endswith("公路").all()


def test_every_line_is_a_corridor_between_its_buses(
    model: GridModel, graph: CorridorNetwork
) -> None:
    """An MV cable is a cable duct, an MV overhead line a road or rural road, an LV line a
    lane (or a duct where it has to cross a barrier): each between its buses' positions."""
    net = model.net
    lon, lat = bus_coordinates(net.bus)
    pos = pd.Index(net.bus.index)
    line = net.line
    a = pos.get_indexer(line.from_bus)
    b = pos.get_indexer(line.to_bus)
    node_a, da = graph.nearest_nodes(lon[a], lat[a])
    node_b, db = graph.nearest_nodes(lon[b], lat[b])
    assert da.max() < 0.05 and db.max() < 0.05  # bus positions are corridor vertices
    apart = node_a != node_b
    pairs = graph._edge_of_pair
    kinds = Counter()
    for i in np.flatnonzero(apart).tolist():
        u, v = int(node_a[i]), int(node_b[i])
        e = pairs.get((u, v) if u < v else (v, u))
        assert e is not None, f"line {line.index[i]} has no corridor edge"
        kinds[(line.type.iat[i], net.bus.vn_kv.iat[a[i]] < 1, graph.edge_kind[e])] += 1
    assert set(kinds) <= {
        ("cs", False, "cable_duct"),
        ("ol", False, "road"),
        ("ol", False, "rural_road"),
        ("cs", True, "lane"),
        ("ol", True, "lane"),
        ("cs", True, "cable_duct"),
        ("ol", True, "cable_duct"),
    }
    assert kinds[("cs", False, "cable_duct")] > 100
    assert kinds[("ol", False, "rural_road")] > 100
    assert kinds[("ol", False, "road")] > 20
    assert kinds[("cs", True, "lane")] + kinds[("ol", True, "lane")] > 1000
    # the hop from a cable-area transformer's RMU to its distribution room is a lane too
    dt = net.trafo[net.trafo.role == "distribution"]
    h, l_ = pos.get_indexer(dt.hv_bus), pos.get_indexer(dt.lv_bus)
    apart = (lon[h] != lon[l_]) | (lat[h] != lat[l_])
    assert apart.sum() > 100
    nh, _ = graph.nearest_nodes(lon[h][apart], lat[h][apart])
    nl, _ = graph.nearest_nodes(lon[l_][apart], lat[l_][apart])
    found = [
        pairs.get((min(u, v), max(u, v))) for u, v in zip(nh.tolist(), nl.tolist(), strict=True)
    ]
    assert all(e is not None for e in found)
    assert {graph.edge_kind[e] for e in found} <= {"lane", "cable_duct"}


# --------------------------------------------------------------------------- the graph


def test_one_connected_network(graph: CorridorNetwork, largest: np.ndarray) -> None:
    # builtin:anyang: 6 000 nodes, 8 000 edges, one component
    assert graph.n_nodes > 3000 and graph.n_edges > 4000
    assert largest.mean() >= 0.95
    assert not graph.problems


def test_substations_and_connection_points_are_on_the_network(
    model: GridModel, graph: CorridorNetwork, largest: np.ndarray
) -> None:
    subs = list(model.substations.values())
    node, dist = graph.nearest_nodes([s.lon_deg for s in subs], [s.lat_deg for s in subs])
    assert dist.max() <= 50.0
    assert largest[node].all()
    cps = list(model.connection_points.values())
    node, dist = graph.nearest_nodes([c.lon_deg for c in cps], [c.lat_deg for c in cps])
    assert len(cps) > 1000
    assert dist.max() <= 50.0
    assert largest[node].all()


def test_routes_from_a_substation_reach_its_connection_points(
    model: GridModel, graph: CorridorNetwork
) -> None:
    sub = next(iter(model.substations.values()))
    start, _ = graph.nearest_nodes(sub.lon_deg, sub.lat_deg)
    dist, pred = graph.shortest_from(int(start[0]), 50_000.0)
    cps = [c for c in model.connection_points.values() if c.substation_id == sub.id]
    node, _ = graph.nearest_nodes([c.lon_deg for c in cps], [c.lat_deg for c in cps])
    assert np.isfinite(dist[node]).all()
    far = int(node[np.argmax(dist[node])])
    path = graph.path_nodes(pred, far)
    assert path[0] == int(start[0]) and path[-1] == far
    assert sum(graph.edge_length_m[e] for e in graph.path_edges(path)) == pytest.approx(dist[far])


def test_crossings_of_both_kinds(graph: CorridorNetwork) -> None:
    crossing = Counter(zip(graph.edge_kind, graph.edge_crossing, strict=True))
    assert sum(n for (_, c), n in crossing.items() if c == "river") >= 10
    assert sum(n for (_, c), n in crossing.items() if c == "railway") >= 3
    assert crossing[("main_road", "river")] >= 2  # bridges
    assert crossing[("main_road", "railway")] >= 1
    assert crossing[("cable_duct", "river")] >= 1  # cables under the river (pipe jacking)
    assert {b.kind for b in graph.barriers} == set(BARRIER_KINDS)


def test_no_lane_crosses_a_barrier(graph: CorridorNetwork) -> None:
    lane = graph.edge_kind == "lane"
    assert lane.sum() > 1000
    assert (graph.edge_crossing[lane] == "").all()


def test_about_one_in_three_minor_streets_crosses_the_river(
    model: GridModel, graph: CorridorNetwork
) -> None:
    """A lattice street meets the river when the line through all its parts does; it
    crosses when one of its edges is a crossing (the others stop at the bank)."""
    table = model.net["gridcap_corridors"]
    rivers = [
        LineString(np.column_stack((b.lon, b.lat))) for b in graph.barriers if b.kind == "river"
    ]
    minor = table[table.id.str.match(LATTICE_STREET) & (table.kind == "road")]
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for cid, geom in zip(minor.id, minor.geometry, strict=True):
        parts[LATTICE_STREET.match(cid).group(1)].append(  # type: ignore[union-attr]
            np.asarray(json.loads(geom)["coordinates"])
        )
    crossing = {
        LATTICE_STREET.match(c).group(1)  # type: ignore[union-attr]
        for c, k in zip(graph.edge_corridor, graph.edge_crossing, strict=True)
        if k == "river" and LATTICE_STREET.match(c)
    }
    meets = crosses = 0
    for line, pieces in parts.items():
        pts = np.concatenate(pieces)
        d = pts - pts.mean(axis=0)
        along = d @ np.linalg.svd(d, full_matrices=False)[2][0]
        full = LineString(pts[np.argsort(along)])
        if any(full.crosses(r) for r in rivers):
            meets += 1
            crosses += line in crossing
    assert meets >= 10
    assert 0.2 <= crosses / meets <= 0.5, (crosses, meets)


def test_main_roads_join_city_and_towns(graph: CorridorNetwork) -> None:
    main = graph.edge_kind == "main_road"
    assert graph.edge_length_m[main].sum() > 100_000  # ≈ 5 town roads of 10–20 km and more


# --------------------------------------------------------------------------- presets


def test_every_city_gets_corridors() -> None:
    params = dataclasses.replace(
        anyang_params(), name="two", n_cities=2, substations_per_city=3, city_names=()
    )
    net = generate_network(params)
    table = net["gridcap_corridors"]
    kinds = Counter(table.kind)
    assert kinds["river"] == kinds["railway"] == 2
    assert table.id.str.startswith("c02-st").any()
    graph = CorridorNetwork.from_table(table)
    _, label = connected_components(graph.matrix, directed=False)
    assert np.bincount(label).max() >= 0.95 * graph.n_nodes


def test_corridors_follow_the_seed() -> None:
    a = generate_network(anyang_params())["gridcap_corridors"]
    b = generate_network(dataclasses.replace(anyang_params(), seed=11))["gridcap_corridors"]
    assert not a.geometry.equals(b.geometry)


def test_small_configurations_get_corridors() -> None:
    base = anyang_params()
    for changes in ({"substations_per_city": 1}, {"towns_per_city": 0}):
        params = GeneratorParams(**{**dataclasses.asdict(base), **changes})
        model = model_from_net(generate_network(params))
        graph = model.corridors
        assert graph is not None and graph.n_edges > 100
        _, label = connected_components(graph.matrix, directed=False)
        largest = label == np.bincount(label).argmax()
        cps = list(model.connection_points.values())
        node, dist = graph.nearest_nodes([c.lon_deg for c in cps], [c.lat_deg for c in cps])
        assert dist.max() <= 50.0 and largest[node].all()


# --------------------------------------------------------------------------- bundle, export


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_bundle_round_trip_keeps_corridors(model: GridModel, tmp_path: Path, fmt: str) -> None:
    net = pp.from_json_string(pp.to_json(model.net))
    folder = write_bundle(net, tmp_path / "anyang", fmt)  # type: ignore[arg-type]
    assert (folder / "corridors.geojson").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["tables"]["gridcap_corridors"]
    assert (entry["file"], entry["format"]) == ("corridors.geojson", "geojson")
    collection = json.loads((folder / "corridors.geojson").read_text(encoding="utf-8"))
    assert {f["geometry"]["type"] for f in collection["features"]} == {"LineString"}
    net2 = read_bundle(folder)
    assert_nets_equal(net, net2)
    again = model_from_net(net2).corridors
    assert again is not None
    before = model.corridors
    assert before is not None
    assert (again.n_nodes, again.n_edges) == (before.n_nodes, before.n_edges)
    assert Counter(again.edge_crossing) == Counter(before.edge_crossing)
    assert model_from_net(net2).version == model_from_net(net).version


def test_the_version_follows_the_corridors(model: GridModel) -> None:
    """Routes depend on corridors, so a moved road is a new network version."""
    net = copy.deepcopy(model.net)
    table = net["gridcap_corridors"].copy()
    row = 0
    geom = json.loads(table.at[row, "geometry"])
    geom["coordinates"][0][0] += 0.001
    table.at[row, "geometry"] = json.dumps(geom)
    net["gridcap_corridors"] = table
    assert model_from_net(net).version != model.version


def test_a_bad_corridor_in_a_bundle_is_a_load_problem(model: GridModel, tmp_path: Path) -> None:
    folder = write_bundle(model.net, tmp_path / "b", "csv")
    path = folder / "corridors.geojson"
    collection = json.loads(path.read_text(encoding="utf-8"))
    collection["features"][3]["geometry"] = {"type": "Point", "coordinates": [114.3, 36.1]}
    path.write_text(json.dumps(collection), encoding="utf-8")
    with pytest.raises(NetworkLoadError) as err:
        read_bundle(folder)
    problems = err.value.problems
    assert [(p.code, p.element) for p in problems] == [("bad_geometry", "gridcap_corridors")]


def test_malformed_corridor_rows_are_problems_not_crashes(model: GridModel) -> None:
    net = copy.deepcopy(model.net)
    table = net["gridcap_corridors"]
    bad_kind, bad_geom, no_geom, short = table.id.iloc[[10, 11, 12, 13]]
    table.loc[10, "kind"] = "motorway"
    table.loc[11, "geometry"] = '{"type": "Point", "coordinates": [114.3, 36.1]}'
    table.loc[12, "geometry"] = None
    table.loc[13, "geometry"] = '{"type":"LineString","coordinates":[[114.3,36.1]]}'
    found = {p.code: p for p in validate_net(net)}
    assert found["corridor_kind"].ids == (bad_kind,)
    assert set(found["corridor_geometry"].ids) == {bad_geom, no_geom, short}
    assert all(p.severity == "warning" for p in found.values())
    graph = model_from_net(net).corridors
    assert graph is not None
    assert {p.code for p in graph.problems} == {"corridor_kind", "corridor_geometry"}
    assert len(graph.problems) == 4
    assert graph.n_edges > 0.95 * (model.corridors.n_edges if model.corridors else 0)


def test_a_broken_corridor_table_is_one_problem() -> None:
    net = pp.create_empty_network()
    pp.create_ext_grid(net, pp.create_bus(net, 10.0))
    net["gridcap_corridors"] = pd.DataFrame({"id": ["a"], "geometry": ["x"]})
    assert [p.code for p in validate_net(net)] == ["corridor_table"]


def test_export_includes_corridors(model: GridModel) -> None:
    collection = to_geojson(model)
    feats = [f for f in collection["features"] if f["properties"].get("layer") == "corridor"]
    table = model.net["gridcap_corridors"]
    assert len(feats) == len(table)
    kinds = Counter(f["properties"]["kind"] for f in feats)
    assert kinds == Counter(table.kind)
    road = next(f for f in feats if f["properties"]["kind"] == "road")
    assert road["geometry"]["type"] == "LineString"
    assert road["properties"]["id"].startswith("corridor:")
    json.dumps(collection, allow_nan=False)
    only = to_geojson(model, kinds=("substation",))
    assert {f["properties"]["kind"] for f in only["features"]} == {"substation"}


def test_kinds_are_traversable_or_barriers() -> None:
    assert set(TRAVERSABLE_KINDS) | set(BARRIER_KINDS) == set(CORRIDOR_KINDS)
    assert not set(TRAVERSABLE_KINDS) & set(BARRIER_KINDS)


def test_a_hand_built_table() -> None:
    """Two roads meeting at a shared vertex, a lane, a river across the first road.

    Nodes in the order the table first reaches them: (114.30, 36.10) 0, (114.31, 36.10) 1,
    (114.32, 36.10) 2, (114.31, 36.11) 3, (114.33, 36.10) 4. Haversine on a 6 371 km
    sphere: 1° of arc is 111 195 m, so 0.01° of longitude at 36.1° N is 111 195 ×
    cos 36.1° × 0.01 = 111 195 × 0.80799 × 0.01 ≈ 898.4 m, 0.01° of latitude ≈ 1 112.0 m."""

    def line(*pts: tuple[float, float]) -> str:
        return json.dumps({"type": "LineString", "coordinates": [list(p) for p in pts]})

    table = pd.DataFrame(
        {
            "id": ["a", "b", "c", "r", "bad"],
            "name": ["人民路", "解放路", "", "洹河", "x"],
            "kind": ["road", "road", "lane", "river", "motorway"],
            "geometry": [
                line((114.30, 36.10), (114.31, 36.10), (114.32, 36.10)),
                line((114.31, 36.10), (114.31, 36.11)),
                line((114.32, 36.10), (114.33, 36.10)),
                line((114.305, 36.09), (114.305, 36.12)),
                line((114.30, 36.10), (114.30, 36.20)),
            ],
        }
    )
    graph = CorridorNetwork.from_table(table)
    assert graph.n_nodes == 5 and graph.n_edges == 4
    assert list(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True)) == [
        (0, 1),
        (1, 2),
        (1, 3),
        (2, 4),
    ]
    assert list(graph.edge_kind) == ["road", "road", "road", "lane"]
    assert list(graph.edge_crossing) == ["river", "", "", ""]
    assert list(graph.edge_corridor) == ["a", "a", "b", "c"]
    assert graph.edge_length_m[0] == pytest.approx(898.4, abs=1.0)
    assert graph.edge_length_m[2] == pytest.approx(1112.0, abs=1.0)
    assert [(p.code, p.ids) for p in graph.problems] == [("corridor_kind", ("bad",))]
    assert graph.names["r"] == "洹河" and len(graph.barriers) == 1
    dist, _ = graph.shortest_from(0, 10_000.0)
    assert dist[4] == pytest.approx(3 * 898.4, abs=3.0)
