"""Rule-based capacity: worked by hand on small networks, and its invariants."""

from __future__ import annotations

import math

import pandapower as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity import Reservation, UnknownElementError, rule_capacity
from grid_models import model_from_net
from tests.grid_models._nets import NetBuilder

SQRT3 = math.sqrt(3)


def network():
    """S1 (2 × 63 MVA) feeds A (6 spans, JKLYJ-240) and R (radial, 2 spans); S2 feeds B, C.
    A ties to B and C (two ties). Each feeder bus carries 0.2 MW + 0.066 Mvar."""
    nb = NetBuilder()
    s1a, s1b = nb.substation(2)
    (s2,) = nb.substation(1, lon=114.6)
    a = nb.feeder(s1a, 6, name="A")
    r = nb.feeder(s1b, 2, name="R")
    b = nb.feeder(s2, 3, name="B")
    c = nb.feeder(s2, 3, name="C")
    tie_b = nb.tie(a[-1], b[-1])
    tie_c = nb.tie(a[2], c[-1])
    lv = nb.bus(0.4, 114.31, 36.101)
    pp.create_transformer(nb.net, a[1], lv, "S13-M-400/10")
    box = nb.bus(0.4, 114.311, 36.101)  # an LV branch box: two LV cables meet there
    end = nb.bus(0.4, 114.312, 36.101)
    pp.create_line(nb.net, lv, box, 0.05, "YJV22-0.6/1-4x150")
    pp.create_line(nb.net, box, end, 0.05, "YJV22-0.6/1-4x150")
    pp.create_load(nb.net, end, 0.25, 0.08)
    return nb.net, {"a": a, "r": r, "b": b, "c": c, "lv": box, "ties": (tie_b, tie_c)}


def feeder(rc, model, name):
    fid = next(f.id for f in model.feeders.values() if f.name == name)
    return rc.elements[fid]


def test_limits_and_c1_worked_by_hand():
    net, parts = network()
    model = model_from_net(net)
    rc = rule_capacity(model)
    a = feeder(rc, model, "A")
    # A: two ties → λ = 0.667; JKLYJ-240 550 A at 10 kV: √3·10·0.55 = 9526 kVA; limit 6354 kVA.
    assert a.rating_kva == pytest.approx(SQRT3 * 10 * 0.55 * 1000, rel=1e-6)
    assert a.limit_kva == pytest.approx(9526.3 * 0.667, rel=1e-3)
    # load: 6 × (0.2 + j0.066) MVA + the 400 kVA transformer's 0.25 + j0.08:
    # P = 1.45 MW, Q = 0.476 Mvar, |S| = 1526.1 kVA (no profile: the load table is the peak).
    assert a.peak_kva == pytest.approx(math.hypot(1450, 476), rel=1e-4)
    assert a.c1_kva == pytest.approx(a.limit_kva - a.peak_kva, rel=1e-9)
    r = feeder(rc, model, "R")
    assert r.load_rate_limit == 1.0 and not r.n1_secure  # radial: 100 %, flagged
    # S1 has two units: λ = 1.3 · 1/2 = 0.65 of 63 MVA = 40 950 kVA
    mt = rc.by_kind("main_transformer")[0]
    assert mt.load_rate_limit == pytest.approx(0.65) and mt.limit_kva == pytest.approx(40950)
    dt = rc.by_kind("distribution_transformer")[0]
    # 400 kVA × 0.8 = 320 kVA; load |0.25 + j0.08| = 262.5 kVA → C1 = 57.5 kVA
    assert dt.limit_kva == pytest.approx(320) and dt.c1_kva == pytest.approx(57.51, abs=0.01)


def test_point_never_offers_more_than_upstream_and_reservations_count_along_the_path():
    net, parts = network()
    model = model_from_net(net)
    before = rule_capacity(model)
    far = f"cp:{parts['a'][-1]}"
    lv = f"cp:{parts['lv']}"
    for cp_id in model.connection_points:
        if cp_id not in before.elements:
            continue
        path = [e for e in before.path_of[cp_id][1:] if e in before.elements]
        assert (
            before.elements[cp_id].openable_kva
            <= min(before.elements[e].c2_kva for e in path) + 1e-9
        )
    # the LV point is bounded by its 400 kVA transformer (57.5 kVA left)
    assert before.elements[lv].openable_kva == pytest.approx(57.51, abs=0.01)
    after = rule_capacity(model, [Reservation(far, 500.0, "A-1")])
    fa = feeder(after, model, "A")
    assert fa.inflight_kva == 500 and fa.c2_kva == pytest.approx(fa.c1_kva - 500)
    near = f"cp:{parts['a'][0]}"
    assert after.elements[near].openable_kva == pytest.approx(
        before.elements[near].openable_kva - 500
    )
    # the reserved point itself loses exactly the reservation (counted once)
    assert after.elements[far].openable_kva == pytest.approx(
        before.elements[far].openable_kva - 500
    )
    # feeder R is on the other section: untouched
    assert feeder(after, model, "R").c2_kva == feeder(before, model, "R").c2_kva


def test_lights():
    net, parts = network()
    model = model_from_net(net)
    far = f"cp:{parts['a'][-1]}"
    a = feeder(rule_capacity(model), model, "A")
    yellow = rule_capacity(model, [Reservation(far, a.c1_kva + 10)])
    assert feeder(yellow, model, "A").light == "yellow"
    net.load["p_mw"] *= 5  # A: 7.6 MVA peak against a 6.35 MVA limit
    red = rule_capacity(model_from_net(net))
    assert feeder(red, model, "A").light == "red"
    # every point supplied through A is red too
    assert red.elements[far].light == "red"


def test_unknown_reservation_point_is_an_error():
    net, _ = network()
    with pytest.raises(UnknownElementError, match="cp:9999"):
        rule_capacity(model_from_net(net), [Reservation("cp:9999", 10)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(0, 2000)), max_size=6),
    st.tuples(st.integers(0, 50), st.floats(1, 2000)),
)
def test_more_inflight_never_increases_c2(reservations, extra):
    net, _ = NETWORK
    model = MODEL
    points = sorted(model.connection_points)
    base = [Reservation(points[i % len(points)], kva) for i, kva in reservations]
    more = [*base, Reservation(points[extra[0] % len(points)], extra[1])]
    a = rule_capacity(model, base)
    b = rule_capacity(model, more)
    for eid, e in b.elements.items():
        assert e.c2_kva <= a.elements[eid].c2_kva + 1e-6
        assert e.openable_kva <= a.elements[eid].openable_kva + 1e-6


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1))
def test_taking_a_tie_out_never_increases_any_capacity(which):
    net, parts = network()
    before = rule_capacity(model_from_net(net))
    switch = parts["ties"][which]
    line = int(net.switch.at[switch, "element"])
    net.line.loc[line, "in_service"] = False
    net.switch.loc[switch, "closed"] = True  # the tie line itself is gone
    after = rule_capacity(model_from_net(net))
    for eid, e in after.elements.items():
        if eid in before.elements:
            assert e.c1_kva <= before.elements[eid].c1_kva + 1e-6, eid


NETWORK = network()
MODEL = model_from_net(NETWORK[0])
