"""The LV density pass (grid_models._generator_lv): branch boxes where people live.

"Where people live" is sampled here from the net alone (its areas, buses and
transformers), independently of how the generator chose its box sites: a 50 m grid over
the city centre and every town; in the urban ring the grid points within 800 m of a
ring-main unit; in rural areas 25 points (centre, rings at 150 m and 300 m) around every
rural public transformer. Each point must lie, straight line, within the 0.38 kV supply
radius of its area class (rules file) of an LV branch box.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
import shapely
import yaml
from scipy.spatial import cKDTree
from shapely.geometry import shape

from grid_models import load_rules, model_from_net
from grid_models._generator import anyang_params, generate_network
from grid_models._geo import bus_coordinates

CLASSES = ("city_centre", "urban", "town", "rural")
TARGET = 0.95


def lv_radius_m() -> dict[str, float]:
    return {
        k: float(v) for k, v in load_rules().get("scheme.candidates.supply_radius_m.lv").items()
    }


@pytest.fixture(scope="module")
def net() -> pp.pandapowerNet:
    return generate_network(anyang_params())


@pytest.fixture(scope="module")
def sparse() -> pp.pandapowerNet:
    """The same network without the density pass."""
    return generate_network(dataclasses.replace(anyang_params(), lv_density=False))


def coverage(net: pp.pandapowerNet, step_m: float = 50.0) -> dict[str, tuple[int, float]]:
    """Per area class: (sample points, share within the LV radius of a branch box)."""
    radius = lv_radius_m()
    lat0 = float(net["gridcap_meta"]["params"]["centre_lat_deg"])
    kx, ky = 111_320.0 * math.cos(math.radians(lat0)), 110_574.0
    lon, lat = bus_coordinates(net.bus)
    bx, by = lon * kx, lat * ky
    areas = net["gridcap_areas"]
    polys = {
        k: [
            shapely.transform(shape(json.loads(g)), lambda c: c * [kx, ky])
            for g in areas.geometry[areas.kind == k]
        ]
        for k in CLASSES
    }

    def classify(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.full(len(x), "rural", dtype=object)
        for k in ("town", "urban", "city_centre"):
            for p in polys[k]:
                out[shapely.contains_xy(p, x, y)] = k
        return out

    def grid_in(poly: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = poly.bounds
        gx, gy = np.meshgrid(np.arange(x0, x1, step_m), np.arange(y0, y1, step_m))
        inside = shapely.contains_xy(poly, gx.ravel(), gy.ravel())
        return gx.ravel()[inside], gy.ravel()[inside]

    kind = net.bus.station_kind.to_numpy()
    pts = [grid_in(p) for p in polys["city_centre"] + polys["town"]]
    rmu = kind == "ring_main_unit"
    rmu_tree = cKDTree(np.column_stack((bx[rmu], by[rmu])))
    for p in polys["urban"]:
        x, y = grid_in(p)
        d, _ = rmu_tree.query(np.column_stack((x, y)))
        pts.append((x[d <= 800.0], y[d <= 800.0]))
    tr = net.trafo
    public = tr[(tr.role == "distribution") & (tr.ownership == "public")]
    pos = net.bus.index.get_indexer(public.hv_bus)
    tx, ty = bx[pos], by[pos]
    rural = classify(tx, ty) == "rural"
    tx, ty = tx[rural], ty[rural]
    pts.append((tx, ty))
    for r in (150.0, 300.0):
        for a in np.linspace(0.0, 2 * np.pi, 12, endpoint=False):
            pts.append((tx + r * math.cos(a), ty + r * math.sin(a)))
    x = np.concatenate([p[0] for p in pts])
    y = np.concatenate([p[1] for p in pts])
    cls = classify(x, y)
    box = kind == "lv_branch_box"
    d, _ = cKDTree(np.column_stack((bx[box], by[box]))).query(np.column_stack((x, y)))
    out = {}
    for k in CLASSES:
        here = cls == k
        out[k] = (int(here.sum()), float((d[here] <= radius[k]).mean()) if here.any() else 1.0)
    return out


@pytest.fixture(scope="module")
def shares(net: pp.pandapowerNet) -> dict[str, tuple[int, float]]:
    return coverage(net)


@pytest.mark.parametrize("area_class", CLASSES)
def test_where_people_live_is_within_the_lv_radius_of_a_box(
    shares: dict[str, tuple[int, float]], area_class: str
) -> None:
    # builtin:anyang, 50 m samples: city_centre 100 %, urban 98.4 %, town 99.7 %,
    # rural 99.8 % (without the pass: 20 %, 25 %, 20 %, 69 %)
    n, share = shares[area_class]
    assert n > 1000, f"too few sample points for {area_class}: {n}"
    assert share >= TARGET, f"{area_class}: {share:.3f} of {n} points within the LV radius"


def test_the_pass_is_what_brings_the_boxes(sparse: pp.pandapowerNet) -> None:
    before = coverage(sparse, step_m=100.0)
    assert before["city_centre"][1] < 0.5
    assert before["town"][1] < 0.5


def test_every_town_has_boxes(net: pp.pandapowerNet) -> None:
    areas = net["gridcap_areas"]
    lon, lat = bus_coordinates(net.bus)
    box = (net.bus.station_kind == "lv_branch_box").to_numpy()
    for row in areas[areas.kind == "town"].itertuples():
        poly = shape(json.loads(row.geometry))
        assert shapely.contains_xy(poly, lon[box], lat[box]).sum() >= 5, row.name


def _feeder_class_totals(net: pp.pandapowerNet) -> dict[tuple[str, str], tuple[float, float]]:
    """Peak load (p, q) per feeder and load class, from the derived model."""
    model = model_from_net(net)
    load = net.load
    out: dict[tuple[str, str], list[float]] = {}
    for f in model.feeders.values():
        here = load[load.bus.isin(f.buses)]
        for cls, grp in here.groupby("load_class"):
            acc = out.setdefault((f.id, str(cls)), [0.0, 0.0])
            acc[0] += float(grp.p_mw.sum())
            acc[1] += float(grp.q_mvar.sum())
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_feeder_peaks_are_kept_class_by_class(
    net: pp.pandapowerNet, sparse: pp.pandapowerNet
) -> None:
    """Load moves, it is not added: every feeder carries the same peak per load class with
    and without the pass (so its typical-day profile and loading are the ones sized)."""
    after, before = _feeder_class_totals(net), _feeder_class_totals(sparse)
    assert after.keys() == before.keys()
    assert len({fid for fid, _ in after}) >= 40
    for key, (p, q) in before.items():
        assert after[key][0] == pytest.approx(p, abs=1e-6), key
        assert after[key][1] == pytest.approx(q, abs=1e-6), key
    assert net.load.p_mw.sum() == pytest.approx(sparse.load.p_mw.sum(), abs=1e-6)
    assert (net.load.p_mw >= 0).all()


def test_the_pass_only_adds_elements(net: pp.pandapowerNet, sparse: pp.pandapowerNet) -> None:
    """The built network is kept as it was (same element ids); the pass appends."""
    for table in ("bus", "line", "trafo", "switch"):
        head = net[table].iloc[: len(sparse[table])]
        assert list(head.index) == list(sparse[table].index)
        assert head["name"].equals(sparse[table]["name"])
    old = sparse.trafo.index
    changed = net.trafo.loc[old, "std_type"] != sparse.trafo["std_type"]
    assert not changed.any()
    added = net.trafo.iloc[len(sparse.trafo) :]
    assert len(added) >= 100
    assert (added.role == "distribution").all() and (added.ownership == "public").all()
    assert added.name.str.endswith(("号箱变", "号公变")).all()


def test_new_transformers_are_joined_by_a_short_mv_line(
    net: pp.pandapowerNet, sparse: pp.pandapowerNet
) -> None:
    added = net.trafo.iloc[len(sparse.trafo) :]
    line = net.line
    feeding = line[line.to_bus.isin(added.hv_bus)]
    assert set(feeding.to_bus) == set(added.hv_bus)
    assert (feeding.length_km <= 1.5 * 1.15 + 1e-9).all()
    assert set(net.bus.vn_kv[feeding.from_bus]) == {10.0}
    # box-type transformers in the city, pole-mounted ones in towns and villages
    kinds = Counter(net.bus.station_kind[added.lv_bus])
    assert kinds["distribution_room"] >= 50 and kinds["pole"] >= 10


def test_moved_load_stays_within_ratings_and_voltage(
    net: pp.pandapowerNet, sparse: pp.pandapowerNet
) -> None:
    solved = pp.from_json_string(pp.to_json(net))
    pp.runpp(solved)
    dist = solved.trafo.role == "distribution"
    assert solved.res_trafo.loading_percent[dist].max() < 95.0
    assert solved.res_line.loading_percent.max() < 100.0
    main = solved.res_trafo.loading_percent[~dist]
    before = pp.from_json_string(pp.to_json(sparse))
    pp.runpp(before)
    assert main.max() <= before.res_trafo.loading_percent[before.trafo.role == "main"].max() + 1
    added = solved.bus.index[len(sparse.bus) :]
    lv = solved.res_bus.vm_pu[added][solved.bus.vn_kv[added] == 0.4]
    assert len(lv) > 1000
    assert lv.min() > 0.9  # 220 V −10 % (GB/T 12325) at every box and transformer added


def test_radii_come_from_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A utility's own rules file changes where boxes go: doubled radii, fewer boxes."""
    rules = load_rules()
    data = json.loads(json.dumps(rules.data))
    lv = data["scheme"]["candidates"]["supply_radius_m"]["lv"]
    for k in lv:
        lv[k] = 2 * float(lv[k])
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("GRIDCAP_RULES", str(path))
    wide = generate_network(anyang_params())
    assert wide["gridcap_meta"]["lv_supply_radius_m"] == {k: float(v) for k, v in lv.items()}
    monkeypatch.delenv("GRIDCAP_RULES")
    normal = generate_network(anyang_params())
    n_wide = int((wide.bus.station_kind == "lv_branch_box").sum())
    n_normal = int((normal.bus.station_kind == "lv_branch_box").sum())
    assert n_wide < 0.8 * n_normal
