"""Every network spec of the contract loads, and the embedded Anyang district is what it says."""

from __future__ import annotations

import pandapower as pp
import pytest

from grid_models import (
    AREA_CLASSES,
    UnknownNetworkSpecError,
    builtin_names,
    load_model,
    load_network,
    write_bundle,
)


@pytest.fixture(scope="module")
def anyang():
    return load_model("builtin:anyang")


def test_anyang_meets_the_district_brief(anyang):
    s = anyang.summary()
    assert s["id"] == "anyang"
    assert s["substations"] >= 3 and s["feeders"] >= 40
    assert s["distribution_transformers"] >= 600
    assert s["area_classes_present"] == list(AREA_CLASSES)
    assert s["areas"]["provincial_park"] == 1 and s["areas"]["urban_planning_area"] == 1
    assert not [p for p in s["problems"] if p["severity"] == "error"]
    modes = {m for m, n in s["wiring_modes"].items() if n}
    assert {"radial", "single_tie", "two_ties", "single_ring", "double_ring"} <= modes
    assert s["tie_switches_between_substations"] > 0
    # the centre of Anyang is city centre; a point 60 km out is rural
    assert anyang.area_class_at(114.35, 36.10) == "city_centre"
    assert anyang.area_class_at(115.0, 36.6) == "rural"


def test_anyang_base_case_converges_with_voltages_in_band(anyang):
    net = anyang.net
    pp.runpp(net)
    mv = list(anyang.mv_buses)
    vm = net.res_bus.vm_pu.loc[mv]
    assert vm.between(0.93, 1.07).all()
    assert net.res_line.loading_percent.max() < 100


def test_builtin_copies_are_independent():
    a = load_network("builtin:anyang")
    a.load["p_mw"] *= 2
    b = load_network("builtin:anyang")
    assert b.load["p_mw"].sum() == pytest.approx(a.load["p_mw"].sum() / 2)
    assert "anyang" in builtin_names()


def test_every_spec_kind_loads(tmp_path, anyang):
    path = tmp_path / "anyang.json"
    pp.to_json(anyang.net, str(path))
    from_json = load_model(str(path))
    bundle = write_bundle(anyang.net, tmp_path / "bundle")
    from_bundle = load_model(str(bundle))
    for m in (from_json, from_bundle):
        assert len(m.feeders) == len(anyang.feeders)
        assert m.feeders_by_wiring_mode() == anyang.feeders_by_wiring_mode()
        assert m.version == anyang.version
    assert len(load_model("pandapower:mv_oberrhein").feeders) == 4


@pytest.mark.parametrize(
    "spec",
    ["builtin:atlantis", "nosuch:thing", "/no/such/file.json", "pandapower:create_empty_network_x"],
)
def test_unknown_specs_raise_a_domain_error(spec):
    with pytest.raises(UnknownNetworkSpecError):
        load_network(spec)
