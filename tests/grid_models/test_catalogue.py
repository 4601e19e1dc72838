"""The equipment catalogue: every type usable in pandapower, numbers where domain.md puts them."""

from __future__ import annotations

import math

import pandapower as pp
import pytest

from grid_models import CatalogueError, load_catalogue, register_std_types


def test_catalogue_has_the_chinese_types_the_issue_names():
    cat = load_catalogue()
    for size in (70, 95, 120, 150, 185, 240):
        assert f"JKLYJ-{size}" in cat.line_types and f"LGJ-{size}" in cat.line_types
    for size in (70, 95, 120, 150, 185, 240, 300, 400):
        assert f"YJV22-3x{size}" in cat.line_types
    assert any(t.vn_kv == 0.4 for t in cat.line_types.values())
    dist = [t for t in cat.transformer_types.values() if t.role == "distribution"]
    assert {t.insulation for t in dist} == {"oil", "dry"}
    assert min(t.sn_kva for t in dist) == 100 and max(t.sn_kva for t in dist) == 2500
    main = sorted(t.sn_kva for t in cat.transformer_types.values() if t.role == "main")
    assert main == [31500, 40000, 50000, 63000]
    assert all(t.source for t in (*cat.line_types.values(), *cat.transformer_types.values()))


def test_ratings_match_domain_notes():
    cat = load_catalogue()
    # domain.md §4: JKLYJ-240 ≈ 550 A; YJV22-3×300 ≈ 550–600 A; ≈ 9.5–10.4 MVA at 10 kV.
    assert cat.line_type("JKLYJ-240").max_i_ka == pytest.approx(0.550)
    assert 0.550 <= cat.line_type("YJV22-3x300").max_i_ka <= 0.600
    mva = math.sqrt(3) * 10 * cat.line_type("JKLYJ-240").max_i_ka
    assert 9.5 <= mva <= 10.4
    # resistance falls and rating rises with cross-section
    jk = [cat.line_type(f"JKLYJ-{s}") for s in (70, 95, 120, 150, 185, 240)]
    assert all(a.r_ohm_per_km > b.r_ohm_per_km for a, b in zip(jk, jk[1:], strict=False))
    assert all(a.max_i_ka < b.max_i_ka for a, b in zip(jk, jk[1:], strict=False))


def test_std_types_drive_a_power_flow_that_matches_hand_arithmetic():
    # 400 kVA S13 transformer: vkr = Pk/S = 4.52 kW / 400 kVA = 1.13 %.
    cat = load_catalogue()
    assert cat.transformer_type("S13-M-400/10").vkr_percent == pytest.approx(1.13)
    net = pp.create_empty_network()
    register_std_types(net)
    b0, b1 = pp.create_bus(net, 10), pp.create_bus(net, 10)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line(net, b0, b1, 1.0, "JKLYJ-240")
    pp.create_load(net, b1, p_mw=1.0, q_mvar=0.0)
    pp.runpp(net)
    # I ≈ P/(√3·U) = 1 MW / (√3 · 10 kV) ≈ 57.7 A; loading ≈ 57.7/550 ≈ 10.5 %
    assert net.res_line.loading_percent.iat[0] == pytest.approx(10.5, abs=0.3)
    # ΔU ≈ P·R/U² = 1 · 0.125 / 100 ≈ 0.125 % (cos φ = 1)
    assert 1 - net.res_bus.vm_pu.iat[1] == pytest.approx(0.00125, abs=0.0002)


def test_unknown_type_is_a_catalogue_error():
    with pytest.raises(CatalogueError, match="not in the catalogue"):
        load_catalogue().line_type("JKLYJ-999")
    assert load_catalogue().distribution_transformer_for(350).name == "S13-M-400/10"
