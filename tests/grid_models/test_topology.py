"""Derivation on hand-built networks whose answer is known by construction."""

from __future__ import annotations

import pandapower as pp
import pytest

from grid_models import model_from_net
from tests.grid_models._nets import NetBuilder


def modes(model):  # feeder name → wiring mode
    return {f.name: f.wiring_mode for f in model.feeders.values()}


def test_feeder_with_two_ties_is_two_ties_and_its_partners_single_tie():
    # Substation S1 feeds A; substation S2 feeds B and C. A's trunk end ties to B, A's
    # middle ties to C: A has two tie partners, B and C one each (all overhead).
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    (s2,) = nb.substation(1, lon=114.5)
    a = nb.feeder(s1, 6, name="A")
    b = nb.feeder(s2, 4, name="B")
    c = nb.feeder(s2, 4, name="C")
    nb.tie(a[-1], b[-1])
    nb.tie(a[2], c[-1])
    m = model_from_net(nb.net)
    assert modes(m) == {"A": "two_ties", "B": "single_tie", "C": "single_tie"}
    assert len(m.tie_switches) == 2
    assert all(t.between_substations for t in m.tie_switches.values())
    assert len(m.substations) == 2 and len(m.bus_sections) == 2


def test_three_ties_and_radial():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    (s2,) = nb.substation(1, lon=114.6)
    a = nb.feeder(s1, 6, name="A")
    others = [nb.feeder(s2, 3, name=n) for n in ("B", "C", "D")]
    nb.feeder(s1, 3, name="R")
    for k, o in enumerate(others):
        nb.tie(a[2 * k + 1], o[-1])
    m = model_from_net(nb.net)
    got = modes(m)
    assert got["A"] == "three_ties"
    assert got["R"] == "radial"
    assert not m.feeders[next(f for f in m.feeders if m.feeders[f].name == "R")].n1_secure


def test_cable_ring_between_two_sections_is_single_ring_with_a_bus_coupler():
    # One substation, two sections joined by an open coupler; feeders X (section 1) and
    # Y (section 2) are cables whose ends meet at a normally-open point: a single ring.
    nb = NetBuilder()
    s1, s2 = nb.substation(2)
    x = nb.feeder(s1, 4, cable=True, name="X")
    y = nb.feeder(s2, 4, cable=True, name="Y")
    nb.tie(x[-1], y[-1], cable=True)
    m = model_from_net(nb.net)
    assert modes(m) == {"X": "single_ring", "Y": "single_ring"}
    assert len(m.bus_couplers) == 1 and len(m.tie_switches) == 1
    assert not next(iter(m.tie_switches.values())).between_substations


def test_double_ring_runs_a_feeder_pair_through_shared_stations():
    # Pair (P1, P2) from sections 1 and 2 of S1 passes the same four double RMUs
    # (station R0..R3, one bus per feeder); pair (Q1, Q2) likewise from S2 (T0..T3).
    # P1–Q1 and P2–Q2 close at normally-open points: every feeder is a double ring.
    nb = NetBuilder()
    s1a, s1b = nb.substation(2)
    s2a, s2b = nb.substation(2, lon=114.5)
    p1 = nb.feeder(s1a, 4, cable=True, name="P1", station_prefix="R", lon=114.31)
    p2 = nb.feeder(s1b, 4, cable=True, name="P2", station_prefix="R", lon=114.31)
    q1 = nb.feeder(s2a, 4, cable=True, name="Q1", station_prefix="T", lon=114.41)
    q2 = nb.feeder(s2b, 4, cable=True, name="Q2", station_prefix="T", lon=114.41)
    nb.tie(p1[-1], q1[-1], cable=True)
    nb.tie(p2[-1], q2[-1], cable=True)
    m = model_from_net(nb.net)
    assert set(modes(m).values()) == {"double_ring"}


def test_segments_are_runs_between_switches_and_supply_path_climbs_them():
    # Trunk of 6 spans with a pole switch before spans 2 and 4 (k % 2 == 0, k ≥ 1):
    # segments {span0, span1}, {span2, span3}, {span4, span5}.
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    buses = nb.feeder(s1, 6, switch_every=2, name="F")
    m = model_from_net(nb.net)
    feeder = next(iter(m.feeders.values()))
    assert len(feeder.segment_ids) == 3
    path = m.supply_path(f"cp:{buses[-1]}")
    segs = [p for p in path if p.startswith("seg:")]
    assert len(segs) == 3  # the last bus is fed through all three segments
    assert path[0] == f"cp:{buses[-1]}"
    assert path[-4:] == (
        feeder.id,
        feeder.bus_section_id,
        *m.bus_sections[feeder.bus_section_id].main_transformer_ids,
        feeder.substation_id,
    )
    first = m.segments[segs[-1]]
    assert first.parent_segment_id is None and len(first.lines) == 2


def test_closed_loop_and_dead_end_tie_are_reported():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    a = nb.feeder(s1, 4, name="A")
    line = pp.create_line(nb.net, a[0], a[3], 0.5, "JKLYJ-240")  # closes a loop inside A
    dead = nb.bus(10, 114.9, 36.1)
    nb.tie(a[-1], dead)
    m = model_from_net(nb.net)
    codes = {p.code for p in m.problems}
    assert "closed_loop" in codes and "dead_end_tie" in codes and "island" in codes
    loop = next(p for p in m.problems if p.code == "closed_loop")
    assert line in loop.ids or any(i in loop.ids for i in nb.net.line.index)


def test_distribution_transformers_and_lv_connection_points():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    a = nb.feeder(s1, 2, name="A")
    lv = nb.bus(0.4, 114.31, 36.101)
    t = pp.create_transformer(nb.net, a[1], lv, "S13-M-400/10")
    box1 = nb.bus(0.4, 114.311, 36.101)
    box2 = nb.bus(0.4, 114.312, 36.101)
    pp.create_line(nb.net, lv, box1, 0.1, "YJV22-0.6/1-4x150")
    pp.create_line(nb.net, box1, box2, 0.1, "YJV22-0.6/1-4x150")
    lv2 = nb.bus(0.4, 114.32, 36.101)
    pp.create_transformer(nb.net, a[0], lv2, "S13-M-200/10")
    pp.create_load(nb.net, lv2, 0.1)
    m = model_from_net(nb.net)
    dts = {d.trafo: d for d in m.distribution_transformers.values()}
    assert dts[t].ownership == "public" and dts[t].sn_kva == pytest.approx(400)
    assert [d.ownership for d in dts.values()].count("customer") == 1
    path = m.supply_path(f"cp:{box1}")
    assert path[1] == f"dt:{t}" and m.connection_points[f"cp:{box1}"].kind == "lv_branch_box"


def test_broken_network_reports_every_problem_without_raising():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    a = nb.feeder(s1, 3, name="A")
    net = nb.net
    net.line.loc[0, "length_km"] = 0.0
    net.line.loc[1, "max_i_ka"] = float("nan")
    net.bus.loc[a[0], "geo"] = '{"type":"Point","coordinates":[200.0, 36.1]}'
    net.load.loc[0, "bus"] = 999  # a bus that does not exist
    net.trafo.loc[0, "sn_mva"] = 0.0
    m = model_from_net(net)
    codes = {p.code for p in m.problems}
    assert {"zero_length", "missing_rating", "bad_coordinates", "unknown_bus"} <= codes
    rating = [p for p in m.problems if p.code == "missing_rating"]
    assert {p.element for p in rating} == {"line", "trafo"}


def test_two_feeders_with_one_name_are_flagged():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    nb.feeder(s1, 2, name="文峰01线")
    nb.feeder(s1, 2, name="文峰01线")
    m = model_from_net(nb.net)
    dup = [p for p in m.problems if p.code == "duplicate_name"]
    assert len(dup) == 1 and len(dup[0].ids) == 2


def test_connection_points_name_their_own_substation():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    (s2,) = nb.substation(1, lon=114.6)
    a = nb.feeder(s1, 2, name="A")
    b = nb.feeder(s2, 2, name="B")
    m = model_from_net(nb.net)
    subs = {m.connection_points[f"cp:{x}"].substation_id for x in (a[0], b[0])}
    assert len(subs) == 2
    for cp in m.connection_points.values():
        if cp.feeder_id:
            assert cp.substation_id == m.feeders[cp.feeder_id].substation_id
