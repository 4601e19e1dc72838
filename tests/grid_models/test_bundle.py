"""The network bundle: a folder of CSV / GeoJSON tables plus manifest.json."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from grid_models._bundle import FORMAT_NAME, FORMAT_VERSION, read_bundle, write_bundle
from grid_models._errors import BundleWriteError, NetworkLoadError

FORMATS = ("csv", "geojson")


# --------------------------------------------------------------------------- helpers


def _geometry(value: object) -> object:
    """A geo value as a comparable object (geometries are compared by meaning)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.loads(value) if isinstance(value, str) else value


def _tables(net: pp.pandapowerNet) -> dict[str, pd.DataFrame]:
    return {
        name: value
        for name, value in net.items()
        if isinstance(value, pd.DataFrame)
        and not name.startswith(("_", "res_"))
        and name != "controller"
        and len(value)
    }


def assert_nets_equal(net: pp.pandapowerNet, net2: pp.pandapowerNet) -> None:
    """Every non-empty table equal (dtypes, index, column order, values, None vs NaN).

    ``geo`` / ``geometry`` columns are compared as parsed GeoJSON: the bundle keeps the
    geometry but not the spelling of its JSON text.
    """
    tables, tables2 = _tables(net), _tables(net2)
    assert sorted(tables) == sorted(tables2)
    for name, frame in tables.items():
        frame2 = tables2[name]
        geometry = [c for c in ("geo", "geometry") if c in frame.columns]
        for column in geometry:
            assert [_geometry(v) for v in frame[column]] == [
                _geometry(v) for v in frame2[column]
            ], f"{name}.{column}"
            assert frame2[column].dtype == object
        pd.testing.assert_frame_equal(
            frame.drop(columns=geometry),
            frame2.drop(columns=geometry),
            check_dtype=True,
            check_exact=True,
            obj=name,
        )
        assert list(frame.columns) == list(frame2.columns), name
    for key in ("name", "f_hz", "sn_mva", "std_types"):
        assert net[key] == net2[key], key
        assert type(net[key]) is type(net2[key]), key
    if "profiles" in net:
        assert sorted(net.profiles) == sorted(net2.profiles)
        for key, frame in net.profiles.items():
            pd.testing.assert_frame_equal(frame, net2.profiles[key], check_exact=True)
    if "gridcap_meta" in net:
        assert net2.gridcap_meta == net.gridcap_meta


def assert_same_power_flow(net: pp.pandapowerNet, net2: pp.pandapowerNet) -> None:
    a, b = copy.deepcopy(net), copy.deepcopy(net2)
    pp.runpp(a)
    pp.runpp(b)
    for table in ("res_bus", "res_line", "res_trafo", "res_ext_grid", "res_load", "res_sgen"):
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=table)


def _via_pandapower_json(net: pp.pandapowerNet) -> pp.pandapowerNet:
    return pp.from_json_string(pp.to_json(net))


# --------------------------------------------------------------------------- networks


@pytest.fixture(scope="module")
def oberrhein() -> pp.pandapowerNet:
    net = _via_pandapower_json(pn.mv_oberrhein())
    for name in [k for k in net if k.startswith("res_")]:
        net[name] = net[name].iloc[0:0]
    return net


@pytest.fixture(scope="module")
def simbench_net() -> pp.pandapowerNet:
    simbench = pytest.importorskip("simbench")
    return _via_pandapower_json(simbench.get_simbench_net("1-MV-urban--0-sw"))


def _point(lon: float, lat: float) -> str:
    return json.dumps({"type": "Point", "coordinates": [lon, lat]})


def small_net() -> pp.pandapowerNet:
    """A 110/10 kV net with every gridcap extra: columns, areas, profiles and meta."""
    net = pp.create_empty_network(name='小网 small, "quoted"', f_hz=50.0, sn_mva=1.0)
    hv = pp.create_bus(net, 110.0, name="HV", geo=_point(114.30, 36.10))
    lv = [
        pp.create_bus(net, 10.0, name=f"MV {i}", geo=_point(114.30 + i / 100, 36.1))
        for i in range(4)
    ]
    far = pp.create_bus(net, 10.0, name="no coordinates")
    net.bus["station"] = ["S1", "S1", "RMU-1", "RMU-1", "pole 7", None]
    net.bus["station_kind"] = [
        "substation",
        "substation",
        "ring_main_unit",
        "ring_main_unit",
        "pole",
        None,
    ]
    net.bus["bays_total"] = [np.nan, 12.0, 6.0, 6.0, np.nan, np.nan]
    net.bus["voltLvl"] = pd.Series([3, 5, 5, 5, 5, 5], dtype=object)  # ints in an object column
    net.bus["note"] = ["", "a,b", 'say "hi"\nnext line', "变电站", None, np.nan]  # mixed nulls
    net.bus["flag"] = pd.array([True, None, False, True, True, False], dtype="boolean")
    net.bus["count"] = pd.array([1, 2, None, 4, 5, 6], dtype="Int64")
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, lv[0], "25 MVA 110/10 kV", name="T1")
    net.trafo["role"] = ["main"]
    net.trafo["ownership"] = ["public"]
    for i in range(3):
        line = [[114.30 + i / 100, 36.1], [114.31 + i / 100, 36.1]]
        pp.create_line(
            net,
            lv[i],
            lv[i + 1],
            0.8,
            "NA2XS2Y 1x185 RM/25 12/20 kV",
            geodata=line,
            name=f"L{i}",
        )
    pp.create_line_from_parameters(net, lv[3], far, 0.5, 0.2, 0.1, 200.0, 0.3, type="ol")
    pp.create_switch(net, lv[0], 0, "l", closed=True, type="CB")
    pp.create_switch(net, lv[1], lv[2], "b", closed=False)
    pp.create_switch(net, hv, 0, "t")
    pp.create_load(net, lv[1], 0.4, 0.1, name="L1")
    pp.create_load(net, lv[2], 0.3, 0.05, name="L2")
    pp.create_sgen(net, lv[3], 0.2, name="PV")
    net.load["load_class"] = ["residential", "industrial"]
    square = [[[114.2, 36.0], [114.4, 36.0], [114.4, 36.2], [114.2, 36.2], [114.2, 36.0]]]
    net["gridcap_areas"] = pd.DataFrame(
        {
            "id": ["centre", "park"],
            "name": ["城区", "Park"],
            "kind": ["city_centre", "provincial_park"],
            "geometry": [
                json.dumps({"type": "Polygon", "coordinates": square}),
                json.dumps({"type": "MultiPolygon", "coordinates": [square]}),
            ],
        }
    )
    steps = np.arange(96)
    net["gridcap_profiles"] = pd.DataFrame(
        {
            "summer/residential": 0.5 + 0.5 * np.sin(steps / 96 * 2 * np.pi) ** 2,
            "winter/industrial": np.linspace(0.2, 1.0, 96),
        }
    )
    net["gridcap_meta"] = {"id": "small", "version": 3, "params": {"seed": 7, "k": [1, 2.5]}}
    return net


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_mv_oberrhein_round_trip(oberrhein: pp.pandapowerNet, tmp_path: Path, fmt: str) -> None:
    folder = write_bundle(oberrhein, tmp_path / "bundle", fmt)  # type: ignore[arg-type]
    assert folder == tmp_path / "bundle"
    net2 = read_bundle(folder)
    assert_nets_equal(oberrhein, net2)
    assert_same_power_flow(oberrhein, net2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_simbench_round_trip(simbench_net: pp.pandapowerNet, tmp_path: Path, fmt: str) -> None:
    net2 = read_bundle(write_bundle(simbench_net, tmp_path, fmt))  # type: ignore[arg-type]
    assert_nets_equal(simbench_net, net2)
    for table in ("substation", "measurement", "loadcases"):
        assert len(net2[table]) == len(simbench_net[table]) > 0
    assert sorted(net2.profiles) == ["load", "powerplants", "renewables", "storage"]
    assert_same_power_flow(simbench_net, net2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_small_net_with_gridcap_extras_round_trips(tmp_path: Path, fmt: str) -> None:
    net = small_net()
    folder = write_bundle(net, tmp_path / "a" / "b", fmt)  # type: ignore[arg-type]
    net2 = read_bundle(folder)
    assert_nets_equal(net, net2)
    assert net2.bus["note"].iloc[0] == ""  # an empty string is not a missing value
    assert net2.bus["note"].iloc[4] is None
    assert isinstance(net2.bus["voltLvl"].iloc[0], int)
    assert net2.gridcap_meta == {"id": "small", "version": 3, "params": {"seed": 7, "k": [1, 2.5]}}
    assert (folder / "areas.geojson").is_file()
    assert (folder / "profiles.csv").is_file()
    assert_same_power_flow(net, net2)


def test_layout_manifest_and_units(tmp_path: Path) -> None:
    folder = write_bundle(small_net(), tmp_path, "csv")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT_NAME == "gridcap-bundle"
    assert manifest["format_version"] == FORMAT_VERSION == 1
    assert manifest["name"] == '小网 small, "quoted"'
    assert manifest["meta"]["id"] == "small"
    assert manifest["std_types"] == "std_types.json"
    tables = manifest["tables"]
    assert tables["bus"]["file"] == "bus.csv"
    assert tables["bus"]["format"] == "csv"
    assert tables["bus"]["rows"] == 6
    assert tables["bus"]["columns"]["in_service"] == "bool"
    assert tables["bus"]["columns"]["geo"] == "geojson:none"  # a missing geo is None
    assert tables["bus"]["units"] == {"vn_kv": "kV", "lon_deg": "degree", "lat_deg": "degree"}
    assert tables["line"]["units"]["r_ohm_per_km"] == "Ω/km"
    assert tables["line"]["units"]["c_nf_per_km"] == "nF/km"
    assert tables["line"]["units"]["g_us_per_km"] == "µS/km"
    assert tables["line"]["units"]["max_i_ka"] == "kA"
    assert tables["trafo"]["units"]["vk_percent"] == "%"
    assert tables["trafo"]["units"]["pfe_kw"] == "kW"
    assert tables["trafo"]["units"]["shift_degree"] == "degree"
    assert tables["gridcap_areas"]["file"] == "areas.geojson"
    assert tables["gridcap_areas"]["format"] == "geojson"
    assert tables["gridcap_profiles"]["file"] == "profiles.csv"

    header = (folder / "bus.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[0] == "index"
    assert "geo" not in header
    assert header[header.index("lon_deg") + 1] == "lat_deg"
    bus = pd.read_csv(folder / "bus.csv")
    assert bus.loc[1, "lon_deg"] == 114.3 and bus.loc[1, "lat_deg"] == 36.1
    assert np.isnan(bus.loc[5, "lon_deg"])
    line = pd.read_csv(folder / "line.csv")
    assert json.loads(line.loc[0, "geo"])["type"] == "LineString"
    assert np.isnan(line.loc[3, "geo"])

    areas = json.loads((folder / "areas.geojson").read_text(encoding="utf-8"))
    assert areas["type"] == "FeatureCollection"
    assert [f["geometry"]["type"] for f in areas["features"]] == ["Polygon", "MultiPolygon"]
    assert areas["features"][0]["properties"] == {
        "index": 0,
        "id": "centre",
        "name": "城区",
        "kind": "city_centre",
    }
    assert len(pd.read_csv(folder / "profiles.csv")) == 96


def test_geojson_tables_are_feature_collections(tmp_path: Path) -> None:
    folder = write_bundle(small_net(), tmp_path, "geojson")
    bus = json.loads((folder / "bus.geojson").read_text(encoding="utf-8"))
    first = bus["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [114.3, 36.1]}
    assert first["properties"]["index"] == 0
    assert first["properties"]["vn_kv"] == 110.0
    assert "geo" not in first["properties"]
    assert bus["features"][5]["geometry"] is None
    load = json.loads((folder / "load.geojson").read_text(encoding="utf-8"))
    assert load["features"][0]["geometry"] is None
    assert load["features"][0]["properties"]["load_class"] == "residential"


def test_bus_geo_as_list_tuple_or_dict_is_written_as_point(tmp_path: Path) -> None:
    net = pp.create_empty_network()
    for _ in range(4):
        pp.create_bus(net, 10.0)
    net.bus["geo"] = pd.Series(
        [[114.1, 36.1], (114.2, 36.2), {"type": "Point", "coordinates": [114.3, 36.3]}, None],
        dtype=object,
    )
    for fmt in FORMATS:
        net2 = read_bundle(write_bundle(net, tmp_path / fmt, fmt))  # type: ignore[arg-type]
        assert [_geometry(g) for g in net2.bus.geo] == [
            {"coordinates": [114.1, 36.1], "type": "Point"},
            {"coordinates": [114.2, 36.2], "type": "Point"},
            {"coordinates": [114.3, 36.3], "type": "Point"},
            None,
        ]


def test_csv_files_are_stable_through_pandapower_json(tmp_path: Path) -> None:
    # Start from pandapower JSON, as the bundle is not what limits this: pandapower's JSON
    # keeps 15 significant digits and turns NaN into None in an object column with both.
    net = _via_pandapower_json(small_net())
    first = write_bundle(net, tmp_path / "first", "csv")
    again = _via_pandapower_json(read_bundle(first))
    second = write_bundle(again, tmp_path / "second", "csv")
    files = sorted(p.relative_to(first) for p in first.rglob("*.csv"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.csv"))
    assert len(files) >= 8
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_simbench_csv_files_are_stable_through_pandapower_json(
    simbench_net: pp.pandapowerNet, tmp_path: Path
) -> None:
    first = write_bundle(simbench_net, tmp_path / "first", "csv")
    second = write_bundle(_via_pandapower_json(read_bundle(first)), tmp_path / "second", "csv")
    for path in first.rglob("*.csv"):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path.name


def test_writer_rejects_bad_input(tmp_path: Path) -> None:
    net = small_net()
    with pytest.raises(BundleWriteError, match="fmt"):
        write_bundle(net, tmp_path, "xlsx")  # type: ignore[arg-type]
    net.bus.loc[0, "geo"] = json.dumps({"type": "LineString", "coordinates": [[1, 2], [3, 4]]})
    with pytest.raises(BundleWriteError, match="not a Point"):
        write_bundle(net, tmp_path, "csv")


# --------------------------------------------------------------------------- hand-written


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _manifest(folder: Path, tables: dict[str, Any], **extra: Any) -> None:
    manifest = {"format": "gridcap-bundle", "format_version": 1, "tables": tables, **extra}
    _write(folder, "manifest.json", json.dumps(manifest))


def test_minimal_hand_written_bundle_gets_pandapower_dtypes_and_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "bus.csv",
        "index,vn_kv,lon_deg,lat_deg,station,bays_total\n"
        "0,110,114.3,36.1,S1,\n1,10,114.3,36.1,S1,12\n2,10,114.31,36.1,,\n",
    )
    _write(
        tmp_path,
        "trafo.csv",
        "index,hv_bus,lv_bus,sn_mva,vn_hv_kv,vn_lv_kv,vk_percent,vkr_percent,pfe_kw,i0_percent\n"
        "0,0,1,40,110,10.5,10.5,0.3,30,0.05\n",
    )
    _write(
        tmp_path,
        "line.csv",
        "index,from_bus,to_bus,length_km,r_ohm_per_km,x_ohm_per_km,c_nf_per_km,max_i_ka\n"
        "0,1,2,1.5,0.16,0.12,270,0.36\n",
    )
    _write(tmp_path, "ext_grid.csv", "index,bus\n0,0\n")
    _write(tmp_path, "load.csv", "index,bus,p_mw,in_service\n0,2,1.2,true\n")
    _write(tmp_path, "switch.csv", "index,bus,element,et,closed\n0,1,0,l,True\n")
    _manifest(
        tmp_path,
        {t: {"file": f"{t}.csv"} for t in ("bus", "trafo", "line", "ext_grid", "load", "switch")},
    )
    net = read_bundle(tmp_path)
    empty = pp.create_empty_network()
    for table in ("bus", "trafo", "line", "ext_grid", "load", "switch"):
        for column, dtype in empty[table].dtypes.items():
            assert net[table][column].dtype == dtype, f"{table}.{column}"
    assert net.bus.in_service.tolist() == [True, True, True]
    assert net.line.parallel.tolist() == [1]
    assert net.load.q_mvar.tolist() == [0.0]
    assert net.bus.station.iloc[:2].tolist() == ["S1", "S1"]
    assert pd.isna(net.bus.station.iloc[2])
    assert net.bus.bays_total.dtype == np.float64
    assert _geometry(net.bus.geo.iloc[2]) == {"coordinates": [114.31, 36.1], "type": "Point"}
    pp.runpp(net)
    assert net.converged
    assert 0.95 < net.res_bus.vm_pu.iloc[2] < 1.05


def test_hand_written_geojson_table(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [114.3, 36.1]},
            "properties": {"index": 5, "vn_kv": 10, "name": "A", "bays_total": 4},
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"index": 7, "vn_kv": 10.0, "name": None},
        },
    ]
    _write(tmp_path, "bus.geojson", json.dumps({"type": "FeatureCollection", "features": features}))
    _manifest(tmp_path, {"bus": {"file": "bus.geojson"}})
    net = read_bundle(tmp_path)
    assert net.bus.index.tolist() == [5, 7]
    assert net.bus.vn_kv.dtype == np.float64
    assert net.bus.in_service.tolist() == [True, True]
    assert _geometry(net.bus.geo.loc[5]) == {"coordinates": [114.3, 36.1], "type": "Point"}
    assert net.bus.name.loc[7] is None


# --------------------------------------------------------------------------- validation


def _codes(error: NetworkLoadError) -> set[str]:
    return {p.code for p in error.problems}


def _load_error(folder: Path) -> NetworkLoadError:
    with pytest.raises(NetworkLoadError) as info:
        read_bundle(folder)
    error = info.value
    assert error.spec == str(folder)
    assert error.problems
    for problem in error.problems:
        assert problem.severity == "error"
        assert problem.message.endswith(".")
    return error


def _edit_csv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False, lineterminator="\n")


def test_broken_bundle_reports_every_problem_at_once(tmp_path: Path) -> None:
    folder = write_bundle(small_net(), tmp_path, "csv")

    def bus_edit(bus: pd.DataFrame) -> pd.DataFrame:
        bus.loc[3, "lat_deg"] = "123.5"  # bus 3: impossible latitude
        return pd.concat([bus, bus.iloc[[0]]])  # bus 0 twice

    def load_edit(load: pd.DataFrame) -> pd.DataFrame:
        load.loc[0, "p_mw"] = "lots"  # load 0: not a number
        load.loc[1, "bus"] = "999"  # load 1: no such bus
        return load

    def switch_edit(switch: pd.DataFrame) -> pd.DataFrame:
        switch.loc[1, "et"] = "x"
        switch.loc[0, "element"] = "42"  # no line 42
        return switch

    _edit_csv(folder / "bus.csv", bus_edit)
    _edit_csv(folder / "line.csv", lambda line: line.drop(columns="length_km"))
    _edit_csv(folder / "load.csv", load_edit)
    _edit_csv(folder / "switch.csv", switch_edit)
    (folder / "trafo.csv").unlink()

    error = _load_error(folder)
    codes = _codes(error)
    for code in (
        "missing_column",
        "duplicate_id",
        "unknown_bus",
        "not_a_number",
        "bad_coordinates",
        "missing_file",
        "bad_value",
        "unknown_element",
    ):
        assert code in codes, code
    by_code = {p.code: p for p in error.problems}
    assert len([p for p in error.problems if p.code == "unknown_bus"]) == 1
    assert by_code["missing_column"].element == "line"
    assert by_code["missing_column"].field == "length_km"
    assert "line.csv" in by_code["missing_column"].message
    assert by_code["duplicate_id"].element == "bus"
    assert by_code["duplicate_id"].ids == (0, 0)
    assert by_code["not_a_number"].element == "load"
    assert by_code["not_a_number"].field == "p_mw"
    assert by_code["not_a_number"].ids == (0,)
    assert "load.csv" in by_code["not_a_number"].message
    assert "p_mw" in by_code["not_a_number"].message
    assert by_code["unknown_bus"].ids == (1,)
    assert by_code["unknown_bus"].field == "bus"
    assert by_code["bad_coordinates"].field == "lat_deg"
    assert by_code["bad_coordinates"].ids == (3,)
    assert by_code["missing_file"].element == "trafo"
    assert "trafo.csv" in by_code["missing_file"].message
    assert by_code["bad_value"].field == "et"
    assert by_code["unknown_element"].ids == (0,)
    text = str(error)
    assert "[duplicate_id]" in text and "[missing_file]" in text
    assert "row_count" in codes  # bus.csv has one row more than the manifest says


def test_broken_geojson_bundle_reports_problems(tmp_path: Path) -> None:
    folder = write_bundle(small_net(), tmp_path, "geojson")
    bus = json.loads((folder / "bus.geojson").read_text(encoding="utf-8"))
    bus["features"][1]["geometry"]["coordinates"] = [200.0, 36.1]
    bus["features"][2]["properties"]["vn_kv"] = "ten"
    bus["features"][3]["geometry"] = {"type": "Point", "coordinates": "nowhere"}
    (folder / "bus.geojson").write_text(json.dumps(bus), encoding="utf-8")
    load = json.loads((folder / "load.geojson").read_text(encoding="utf-8"))
    del load["features"][1]["properties"]["index"]
    (folder / "load.geojson").write_text(json.dumps(load), encoding="utf-8")
    (folder / "line.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    error = _load_error(folder)
    problems = {(p.code, p.element, p.field): p for p in error.problems}
    assert problems["bad_coordinates", "bus", "geo"].ids == (1,)
    assert problems["not_a_number", "bus", "vn_kv"].ids == (2,)
    assert problems["bad_geometry", "bus", "geo"].ids == (3,)
    assert problems["not_a_number", "load", "index"].ids == (2,)  # a row number
    assert "row 2" in problems["not_a_number", "load", "index"].message
    assert problems["bad_file", "line", None].message.startswith("line.geojson: ")


def test_missing_index_column_and_unknown_references(tmp_path: Path) -> None:
    folder = write_bundle(small_net(), tmp_path, "csv")
    _edit_csv(folder / "load.csv", lambda load: load.drop(columns="index"))
    _edit_csv(folder / "bus.csv", lambda bus: bus[bus["index"] != "2"])
    error = _load_error(folder)
    missing = [p for p in error.problems if p.code == "missing_column"]
    assert [(p.element, p.field) for p in missing] == [("load", "index")]
    unknown = {(p.element, p.field): p.ids for p in error.problems if p.code == "unknown_bus"}
    # line 0 ends and line 1 starts at bus 2, switch 1 and load 0 (row 1) sit on it
    assert unknown == {
        ("line", "to_bus"): (0,),
        ("line", "from_bus"): (1,),
        ("switch", "bus"): (1,),
        ("load", "bus"): (1,),
    }
    assert "row_count" in _codes(error)


@pytest.mark.parametrize(
    ("breakage", "code"),
    [
        (lambda f: (f / "manifest.json").unlink(), "missing_manifest"),
        (lambda f: (f / "manifest.json").write_text("{not json", "utf-8"), "bad_manifest"),
        (lambda f: (f / "manifest.json").write_text("[1, 2]", "utf-8"), "bad_manifest"),
        (lambda f: _patch_manifest(f, format="other-format"), "bad_format"),
        (lambda f: _patch_manifest(f, format_version=2), "bad_format"),
        (lambda f: _patch_manifest(f, tables=[]), "bad_manifest"),
        (lambda f: _patch_table(f, "bus", file="../bus.csv"), "bad_manifest"),
        (lambda f: _patch_table(f, "bus", format="xlsx"), "bad_manifest"),
        (lambda f: _patch_table(f, "bus", columns={"vn_kv": "decimal"}), "bad_manifest"),
        (lambda f: (f / "bus.csv").write_bytes(b"\xff\xfe\x00garbage"), "bad_file"),
        (lambda f: (f / "bus.csv").write_text('index,vn_kv\n0,"10\n', "utf-8"), "bad_file"),
        (lambda f: (f / "bus.csv").write_text("", "utf-8"), "bad_file"),
        (lambda f: (f / "bus.csv").write_text("index,vn_kv,vn_kv\n0,1,1\n", "utf-8"), "bad_file"),
        (lambda f: (f / "std_types.json").write_text("{", "utf-8"), "bad_file"),
        (lambda f: (f / "std_types.json").unlink(), "missing_file"),
        (lambda f: shutil.rmtree(f), "missing_manifest"),
    ],
)
def test_each_kind_of_breakage_gives_network_load_error(
    tmp_path: Path, breakage: Callable[[Path], object], code: str
) -> None:
    folder = write_bundle(small_net(), tmp_path / "bundle", "csv")
    breakage(folder)
    assert code in _codes(_load_error(folder))


def _patch_manifest(folder: Path, **changes: Any) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _patch_table(folder: Path, table: str, **changes: Any) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"][table].update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupted_files_only_ever_raise_network_load_error(tmp_path: Path, fmt: str) -> None:
    """Truncate or garble every file in turn: the reader must never raise anything else."""
    source = write_bundle(small_net(), tmp_path / "source", fmt)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    for case, name in enumerate(files * 3):
        folder = tmp_path / f"case{case}"
        shutil.copytree(source, folder)
        data = bytearray((folder / name).read_bytes())
        if case % 3 == 0:
            data = data[: int(rng.integers(0, len(data)))]
        elif case % 3 == 1:
            for position in rng.integers(0, len(data), size=5):
                data[position] = int(rng.integers(32, 127))
        else:
            data = data.replace(b"1", b"-1").replace(b"true", b"7").replace(b"True", b"x")
        (folder / name).write_bytes(bytes(data))
        try:
            read_bundle(folder)
        except NetworkLoadError as error:
            assert error.problems
        shutil.rmtree(folder)
