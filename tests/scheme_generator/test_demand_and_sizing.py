"""Maximum demand and conductor sizing, worked by hand from the rules file's numbers."""

from __future__ import annotations

import pytest

from grid_models import load_rules
from scheme_generator import InvalidApplicationError, parse_application
from scheme_generator._demand import demand_of
from scheme_generator._sizing import Sizer

BASE = {
    "customer_name": "某小区开发公司",
    "customer_type": "non_resident",
    "business": "new",
    "location": {"lon": 114.35, "lat": 36.10},
    "application_date": "2026-11-02",
}


def test_estate_demand_is_households_times_kw_times_coincidence():
    rules = load_rules()
    app = parse_application(
        BASE
        | {
            "category": "residential_estate",
            "industry": "residential",
            "capacity_kva": 2500,
            "households": 200,
            "household_floor_area_m2": 100,
        }
    )
    d = demand_of(app, rules)
    # 100 m² → 12 kW (≤ 140 m²); 200 households → 0.6 (≤ 300); 200 × 12 × 0.6 = 1440 kW;
    # at cos φ 0.95: 1440 / 0.95 = 1515.8 kVA
    assert d.basis == "estate_formula"
    assert (d.kw_per_household, d.coincidence) == (12.0, 0.6)
    assert d.demand_kva == pytest.approx(1515.79, abs=0.01)
    assert app.estate_metering == "one_meter_per_household"


def test_demand_factor_by_category_before_industry():
    rules = load_rules()
    ev = parse_application(
        BASE | {"category": "ev_charging", "industry": "commercial", "capacity_kva": 1000}
    )
    shop = parse_application(BASE | {"industry": "commercial", "capacity_kva": 1000})
    assert demand_of(ev, rules).demand_kva == pytest.approx(900.0)  # 0.9, the category's
    assert demand_of(shop, rules).demand_kva == pytest.approx(750.0)  # 0.75, commerce


def test_an_estate_without_households_is_refused_on_that_field():
    with pytest.raises(InvalidApplicationError) as err:
        parse_application(
            BASE
            | {"category": "residential_estate", "industry": "residential", "capacity_kva": 800}
        )
    assert [p.field for p in err.value.problems] == ["households"]


def test_sizing_by_current_season_switchgear_and_drop():
    rules = load_rules()
    mv = Sizer.of(rules, "mv", "cable", 10.0, 3)
    # 8000 kVA at 10 kV: 8000 / 17.32 = 461.9 A; cables are rated as nominal (factor 1.0):
    # YJV22-3x240 480 A is the smallest ≥ 461.9 A
    design = mv.design(8000, 500, 7.0, 1)
    assert design is not None
    assert (design.conductor, design.circuits) == ("YJV22-3x240", 1)
    assert design.current_a == pytest.approx(461.9, abs=0.1)
    # 12 000 kVA: 692.8 A > min(640 A, 630 A switchgear) → two circuits of 346.4 A → 3x150
    two = mv.design(12000, 500, 7.0, 4)
    assert two is not None and (two.conductor, two.circuits) == ("YJV22-3x150", 2)
    assert mv.design(12000, 500, 7.0, 1) is None  # a pole or RMU gives one circuit only
    # over 15 km the drop decides: 3000 kVA, P 2.85 MW, Q 0.937 Mvar; with 3x400 (R 0.047,
    # X 0.090 Ω/km) the drop is (2.85 × 0.705 + 0.937 × 1.35) / 100 = 3.27 % — within 3.5 %
    # only from 3x400: 3x300 gives (2.85 × 0.9015 + 0.937 × 1.38) / 100 = 3.86 %
    far = mv.design(3000, 15000, 3.5, 1)
    assert far is not None and far.conductor == "YJV22-3x400"
    assert far.drop_percent == pytest.approx(3.27, abs=0.01)


def test_single_phase_drop_counts_the_return_conductor():
    rules = load_rules()
    lv = Sizer.of(rules, "lv", "overhead", 0.22, 1)
    # 8 kVA at 220 V: 36.4 A; JKLYJ-1-4x120 over 100 m: R = 2 × 0.253 × 0.1 = 0.0506 Ω,
    # X = 2 × 0.300 × 0.1 = 0.06 Ω; P 7.6 kW, Q 2.498 kvar:
    # (0.0076 × 0.0506 + 0.002498 × 0.06) / 0.22² = 1.104 %
    design = lv.design(8, 100, 7.0, 1)
    assert design is not None and design.current_a == pytest.approx(36.36, abs=0.01)
    assert design.drop_percent == pytest.approx(1.104, abs=0.002)
