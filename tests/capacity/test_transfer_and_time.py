"""N-1 transfer through ties, AC capacity over time, connection-point capacity."""

from __future__ import annotations

import pytest

from capacity import (
    HostingCriteria,
    ac_capacity_over_time,
    connection_point_capacity,
    fast_hosting,
    n1_transfer,
    summarise,
)
from grid_models import load_model, model_from_net
from tests.grid_models._nets import NetBuilder

CRIT = HostingCriteria(generation=False)


def tied_pair(load_mw: float):
    # A: 6 spans with a pole switch before spans 2 and 4 (head segment = spans 0–1);
    # B: 3 spans from another substation; a normally-open tie joins their ends.
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    (s2,) = nb.substation(1, lon=114.6)
    a = nb.feeder(s1, 6, switch_every=2, name="A", load_mw=load_mw)
    b = nb.feeder(s2, 3, name="B", load_mw=load_mw)
    nb.tie(a[-1], b[-1])
    return model_from_net(nb.net)


def result(model, name):
    return next(t for t in n1_transfer(model, CRIT) if t.name == name)


def test_light_feeder_transfers_through_its_tie():
    # After A's bay is lost, B carries its own 0.6 MW plus all of A's 1.2 MW (+0.33 Mvar
    # per MW): ≈ 1.9 MVA on a 9.5 MVA JKLYJ-240: well inside limits.
    a = result(tied_pair(0.2), "A")
    assert a.transferable and a.best_tie_id is not None
    assert a.margin_kva > 5000
    assert a.ties[0].max_loading_percent < 25


def test_heavy_feeder_cannot_transfer():
    # 1.8 MW per bus: B would carry 5.4 + 10.8 MW ≈ 17 MVA > 9.5 MVA.
    a = result(tied_pair(1.8), "A")
    assert not a.transferable and a.margin_kva < 0
    assert a.ties[0].limiting.startswith(("line:", "vm"))


def test_radial_feeder_has_nothing_to_try():
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    nb.feeder(s1, 3, name="R")
    r = result(model_from_net(nb.net), "R")
    assert r.ties == () and not r.transferable


def test_time_series_capacity_is_the_minimum_over_critical_times():
    model = load_model("builtin:anyang")
    buses = list(model.mv_buses)[::60]
    over_time = {c.bus: c for c in ac_capacity_over_time(model, CRIT, buses)}
    peak_table = {c.bus: c for c in fast_hosting(model.net, CRIT, buses)}
    for b in buses:
        assert over_time[b].at  # says when it binds
        # the load table holds each load's annual peak; at any real time step the grid
        # is no more loaded than that, so capacity over time is never below it
        assert over_time[b].p_mw_max >= peak_table[b].p_mw_max - 0.01


def test_connection_point_capacity_is_min_of_rules_and_ac():
    model = tied_pair(0.2)
    points = connection_point_capacity(model, CRIT)
    assert points
    for p in points:
        assert p.openable_kva == pytest.approx(min(p.rules_kva, p.ac_kva))
        assert p.openable_mw == pytest.approx(p.openable_kva * CRIT.power_factor / 1000)
    summary = summarise(points, "substation")
    assert sum(s["elements"] for s in summary) == len(points)
