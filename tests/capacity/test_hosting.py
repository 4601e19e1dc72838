"""AC hosting capacity: hand-worked cases, the reference against the fast engine, edge cases."""

from __future__ import annotations

import math

import pandapower as pp
import pytest

from capacity import (
    BaseCaseError,
    HostingCriteria,
    MissingRatingError,
    fast_hosting,
    reference_hosting,
)
from grid_models import load_network

PF1 = HostingCriteria(power_factor=1.0, generation=False)


def two_bus(r_ohm: float, max_i_ka: float) -> pp.pandapowerNet:
    """A 10 kV source, one line of resistance ``r_ohm`` (reactance 1 µΩ: pandapower
    divides by x; no charging), a bus."""
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 10.0)
    b1 = pp.create_bus(net, 10.0)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(
        net, b0, b1, 1.0, r_ohm_per_km=r_ohm, x_ohm_per_km=1e-6, c_nf_per_km=0.0, max_i_ka=max_i_ka
    )
    return net


@pytest.mark.parametrize("engine", [fast_hosting, reference_hosting])
def test_two_bus_thermal_limit_worked_by_hand(engine):
    # R = 0.5 Ω, I_max = 0.1 kA, cos φ = 1 (all quantities in phase):
    # U1 = U0 − √3·I·R = 10 − √3·0.1·0.5 = 9.91340 kV  (0.991 pu, inside 0.93–1.07)
    # P = √3·U1·I = √3 · 9.91340 · 0.1 = 1.71705 MW, limited by the line.
    (cap,) = engine(two_bus(0.5, 0.1), PF1, [1])
    assert cap.p_mw_max == pytest.approx(1.71705, abs=0.002)
    assert cap.limiting == "line:0"


@pytest.mark.parametrize("engine", [fast_hosting, reference_hosting])
def test_two_bus_voltage_limit_worked_by_hand(engine):
    # R = 5 Ω, I_max = 1 kA (not binding). With U1 at the limit 0.93 · 10 = 9.3 kV:
    # I = (U0 − U1)/(√3·R) = 0.7/(√3·5) = 0.0808 kA; P = √3·U1·I = U1·(U0 − U1)/R
    #   = 9.3 · 0.7 / 5 = 1.302 MW, limited by the voltage at bus 1.
    (cap,) = engine(two_bus(5.0, 1.0), PF1, [1])
    assert cap.p_mw_max == pytest.approx(1.302, abs=0.002)
    assert cap.limiting == "vm:1"


def test_fast_agrees_with_reference_on_simbench_sample():
    net = load_network("simbench:1-MV-semiurb--0-sw")
    crit = HostingCriteria(generation=False)
    fast = {c.bus: c for c in fast_hosting(net, crit)}
    sample = sorted(fast)[::12]
    for ref in reference_hosting(net, crit, sample, warm_start=True):
        tol = max(0.01 * ref.p_mw_max, 0.010)
        assert abs(fast[ref.bus].p_mw_max - ref.p_mw_max) <= tol, (ref, fast[ref.bus])


def test_parallel_transformers_and_search_cap():
    # SimBench rural has two main transformers on one 10 kV bus: a parallel path edge.
    net = load_network("simbench:1-MV-rural--0-sw")
    crit = HostingCriteria(generation=False, search_cap_mw=2.0)
    caps = fast_hosting(net, crit, [2, 8])
    assert caps[0].p_mw_max == pytest.approx(2.0) and caps[0].limiting == "none"


def test_taking_one_of_two_parallel_lines_out_never_raises_capacity():
    net = two_bus(0.5, 0.1)
    pp.create_line_from_parameters(
        net, 0, 1, 1.0, r_ohm_per_km=0.5, x_ohm_per_km=1e-6, c_nf_per_km=0.0, max_i_ka=0.1
    )
    both = fast_hosting(net, PF1, [1])[0].p_mw_max
    net.line.loc[1, "in_service"] = False
    one = fast_hosting(net, PF1, [1])[0].p_mw_max
    assert one < both
    # two equal circuits share the current: about twice the single-circuit capacity
    assert both == pytest.approx(2 * 1.71705, rel=0.02)


def test_islanded_bus_is_marked_not_computed():
    net = two_bus(0.5, 0.1)
    pp.create_bus(net, 10.0)  # bus 2, connected to nothing
    caps = {c.bus: c for c in fast_hosting(net, PF1)}
    assert caps[2].limiting == "island" and caps[2].p_mw_max == 0
    ref = reference_hosting(net, PF1, [2])
    assert ref[0].limiting == "island"


def test_base_case_that_does_not_converge_is_a_clear_error():
    net = two_bus(0.5, 0.1)
    pp.create_load(net, 1, p_mw=500.0)  # far beyond the line's transfer limit
    with pytest.raises(BaseCaseError, match="does not converge"):
        fast_hosting(net, PF1)


def test_missing_rating_is_a_clear_error():
    net = two_bus(0.5, math.nan)
    with pytest.raises(MissingRatingError, match="line:0"):
        fast_hosting(net, PF1)


def test_existing_overload_elsewhere_does_not_zero_the_network():
    # Line 0 feeds bus 1 (overloaded in the base case); line 1 feeds bus 2 from the source.
    net = two_bus(0.5, 0.1)
    b2 = pp.create_bus(net, 10.0)
    pp.create_line_from_parameters(
        net, 0, b2, 1.0, r_ohm_per_km=0.5, x_ohm_per_km=1e-6, c_nf_per_km=0.0, max_i_ka=0.1
    )
    pp.create_load(net, 1, p_mw=2.0)  # ≈ 116 % of line 0
    caps = {c.bus: c for c in fast_hosting(net, PF1)}
    assert caps[1].p_mw_max == 0 and caps[1].limiting == "line:0"  # may not get worse
    assert caps[2].p_mw_max == pytest.approx(1.71705, abs=0.002)
