"""The capacity advisor (容量测算), worked by hand from the rules file's ``advisor`` numbers.

Rules used below (grid_models/data/rules.yaml): demand factors lighting 0.9, motors 0.75,
air_conditioning 0.75, heating 0.85, ev_charger 0.9; coincidence 0.9; power factor 0.9;
transformer target loading 0.85; supply voltage ≤ 10 kW 220 V, ≤ 100 kW 380 V (small-micro
160 kW), ≤ 10 000 kVA 10 kV, ≤ 40 000 kVA 35 kV; dedicated line from 8 000 kVA; standard
transformer sizes (terms.receiving) 30, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500,
630, 800, 1000, 1250, 1600, 2000, 2500 kVA, one unit at most 1600 kVA.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grid_models import Rules, load_rules
from scheme_generator import LOAD_CLASSES, InvalidApplicationError, advise_capacity


def load(kind: str, kw: Any, count: Any = 1) -> dict[str, Any]:
    return {"kind": kind, "kw": kw, "count": count}


def fields(err: pytest.ExceptionInfo[InvalidApplicationError]) -> list[str]:
    return [p.field for p in err.value.problems]


# ---------------------------------------------------------------- hand-worked cases


def test_a_small_shop_is_single_phase():
    # lighting 5 × 2 kW = 10 kW × 0.9 = 9 kW; × coincidence 0.9 = 8.1 kW; ÷ 0.9 = 9 kVA.
    # Applied: 8.1 → 9 kW ≤ 10 kW → 220 V single phase, no transformer.
    a = advise_capacity([load("lighting", 2, 5)])
    assert a.installed_kw == pytest.approx(10.0)
    assert a.demand_kw == pytest.approx(8.1)
    assert a.demand_kva == pytest.approx(9.0)
    assert (a.applied_capacity, a.applied_capacity_unit) == (9.0, "kW")
    assert (a.supply_voltage_kv, a.phases, a.transformers) == (0.22, 1, None)


def test_a_workshop_at_380_v():
    # lighting 20 kW × 0.9 = 18; motors 2 × 15 = 30 kW × 0.75 = 22.5;
    # air conditioning 3 × 10 = 30 kW × 0.75 = 22.5. Installed 80 kW.
    # 18 + 22.5 + 22.5 = 63 kW × 0.9 = 56.7 kW; ÷ 0.9 = 63 kVA.
    # Applied 57 kW (56.7 up to a whole kW) ≤ 100 kW → 380 V three phase.
    a = advise_capacity(
        [load("lighting", 20), load("motors", 15, 2), load("air_conditioning", 10, 3)]
    )
    assert a.installed_kw == pytest.approx(80.0)
    assert [(c.kind, c.demand_kw) for c in a.by_class] == [
        ("lighting", pytest.approx(18.0)),
        ("motors", pytest.approx(22.5)),
        ("air_conditioning", pytest.approx(22.5)),
    ]
    assert a.coincidence_factor == 0.9
    assert a.demand_kw == pytest.approx(56.7)
    assert a.demand_kva == pytest.approx(63.0)
    assert (a.applied_capacity, a.applied_capacity_unit) == (57.0, "kW")
    assert (a.supply_voltage_kv, a.phases, a.transformers) == (0.38, 3, None)
    assert "照明 20 kW × 需要系数 0.9 = 18 kW" in a.reasoning
    assert any("建议申请容量 57 kW" in s for s in a.reasoning)


def test_a_factory_on_one_630_kva_transformer():
    # motors 8 × 55 = 440 kW × 0.75 = 330; lighting 60 × 0.9 = 54;
    # air conditioning 2 × 100 = 200 × 0.75 = 150. 534 kW × 0.9 = 480.6 kW; ÷ 0.9 = 534 kVA.
    # 481 kW > 100 kW → 10 kV. 534 ÷ 0.85 = 628.2 kVA ≤ 2500 → one unit: 630 kVA,
    # loading 534 / 630 = 84.8 %. Applied = transformer total = 630 kVA.
    a = advise_capacity(
        [load("motors", 55, 8), load("lighting", 60), load("air_conditioning", 100, 2)]
    )
    assert a.demand_kw == pytest.approx(480.6)
    assert a.demand_kva == pytest.approx(534.0)
    assert (a.supply_voltage_kv, a.phases) == (10.0, 3)
    assert a.transformers is not None
    assert (a.transformers.count, a.transformers.sn_kva) == (1, 630.0)
    assert a.transformers.types == ("S13-M-630/10", "SCB13-630/10")
    assert a.transformers.loading_percent == pytest.approx(84.76, abs=0.01)
    assert (a.applied_capacity, a.applied_capacity_unit) == (630.0, "kVA")


def test_a_demand_beyond_the_largest_unit_takes_two_equal_transformers():
    # motors 15 × 200 = 3000 kW × 0.75 = 2250; lighting 300 × 0.9 = 270.
    # 2520 kW × 0.9 = 2268 kW; ÷ 0.9 = 2520 kVA > 1600 × 0.85 = 1360 → 1.85 → two units;
    # 2520 ÷ 2 ÷ 0.85 = 1482.4 kVA each → 1600 kVA. Applied 2 × 1600 = 3200 kVA,
    # loading 2520 / 3200 = 78.75 %.
    a = advise_capacity([load("motors", 200, 15), load("lighting", 300)])
    assert a.demand_kva == pytest.approx(2520.0)
    assert a.transformers is not None
    assert (a.transformers.count, a.transformers.sn_kva) == (2, 1600.0)
    assert a.transformers.loading_percent == pytest.approx(78.75)
    assert (a.applied_capacity, a.supply_voltage_kv) == (3200.0, 10.0)


def test_seven_kw_chargers_seventeen_at_lv_eighteen_at_10_kv():
    # 17 × 7 = 119 kW × 0.9 × 0.9 = 96.39 kW → 97 kW ≤ 100 → 380 V.
    # 18 × 7 = 126 kW × 0.9 × 0.9 = 102.06 kW → 103 kW > 100 → 10 kV; 102.06 ÷ 0.9 = 113.4
    # kVA ÷ 0.85 = 133.4 kVA → 160 kVA. 103 kW ≤ 160:
    # the small-micro note is given.
    lv = advise_capacity([load("ev_charger", 7, 17)])
    assert (lv.applied_capacity, lv.supply_voltage_kv) == (97.0, 0.38)
    hv = advise_capacity([load("ev_charger", 7, 18)])
    assert hv.demand_kw == pytest.approx(102.06)
    assert (hv.applied_capacity, hv.applied_capacity_unit, hv.supply_voltage_kv) == (
        160.0,
        "kVA",
        10.0,
    )
    assert any("小微企业" in s for s in hv.reasoning)
    assert not any("小微企业" in s for s in lv.reasoning)


def test_a_whole_kw_demand_is_not_rounded_up_by_float_noise():
    # lighting 109 × 0.9 = 98.1; heating 14 × 0.85 = 11.9; 110 × 0.9 = 99 kW exactly
    # (in floating point 99.00000000000001): applied 99 kW, not 100.
    a = advise_capacity([load("lighting", 109), load("heating", 14)])
    assert a.applied_capacity == 99.0


def test_eight_mva_on_10_kv_is_a_dedicated_line():
    # motors 9 × 1000 = 9000 kW × 0.75 × 0.9 = 6075 kW; ÷ 0.9 = 6750 kVA.
    # 6750 ÷ 1360 = 4.96 → 5 units; 6750 ÷ 5 ÷ 0.85 = 1588.2 → 1600 kVA; 8000 kVA ≤ 10 000
    # → 10 kV, and ≥ 8000 kVA → the dedicated-line note.
    a = advise_capacity([load("motors", 1000, 9)])
    assert a.transformers is not None
    assert (a.transformers.count, a.transformers.sn_kva) == (5, 1600.0)
    assert (a.applied_capacity, a.supply_voltage_kv) == (8000.0, 10.0)
    assert any("专线" in s for s in a.reasoning)


def test_above_10_mva_the_advice_is_35_kv_without_standard_units():
    # motors 13 × 1000 = 13 000 kW × 0.75 × 0.9 = 8775 kW; ÷ 0.9 = 9750 kVA.
    # At 10 kV: 9750 ÷ 1360 = 7.2 → 8 units; 9750 ÷ 8 ÷ 0.85 = 1433.8 → 1600 kVA; 12 800 kVA
    # > 10 000 → 35 kV; to design for: 9750 ÷ 0.85 = 11 470.6 → 11 471 kVA ≤ 40 000.
    a = advise_capacity([load("motors", 1000, 13)])
    assert (a.supply_voltage_kv, a.transformers) == (35.0, None)
    assert (a.applied_capacity, a.applied_capacity_unit) == (11471.0, "kVA")


def test_beyond_110_kv_is_refused_on_the_list():
    # 3000 × 100 000 kW × 0.675 = 202 500 000 kW: no supply voltage of these rules serves it
    with pytest.raises(InvalidApplicationError) as err:
        advise_capacity([load("motors", 100_000, 3000)])
    assert fields(err) == ["loads"]


def test_the_numbers_are_the_rules_files():
    # coincidence 0.8 instead of 0.9: 63 kW × 0.8 = 50.4 kW → 51 kW
    base = load_rules()
    data = copy.deepcopy(base.data)
    data["advisor"]["coincidence_factor"] = 0.8
    rules = Rules(version="test", source="test", data=data)
    a = advise_capacity(
        [load("lighting", 20), load("motors", 15, 2), load("air_conditioning", 10, 3)],
        rules=rules,
    )
    assert (a.demand_kw, a.applied_capacity, a.rules_version) == (pytest.approx(50.4), 51.0, "test")


def test_to_dict_is_plain_json():
    # motors 440 × 0.75 = 330; lighting 60 × 0.9 = 54; 384 × 0.9 = 345.6 kW; ÷ 0.9 = 384 kVA;
    # ÷ 0.85 = 451.8 kVA → 500 kVA
    d = advise_capacity([load("motors", 55, 8), load("lighting", 60)]).to_dict()
    assert set(d) >= {
        "installed_kw",
        "demand_kw",
        "demand_kva",
        "power_factor",
        "coincidence_factor",
        "applied_capacity",
        "applied_capacity_unit",
        "supply_voltage_kv",
        "transformers",
        "reasoning",
    }
    assert d["transformers"]["types"] == ["S13-M-500/10", "SCB13-500/10"]
    assert all(isinstance(s, str) and s for s in d["reasoning"])


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "loads, field",
    [
        ([], "loads"),
        ("lighting", "loads"),
        (None, "loads"),
        ([load("lighting", 1)] * 201, "loads"),
        (["lighting"], "loads[0]"),
        ([load("toaster", 1)], "loads[0].kind"),
        ([{"kw": 1}], "loads[0].kind"),
        ([load("lighting", 0)], "loads[0].kw"),
        ([load("lighting", -3)], "loads[0].kw"),
        ([load("lighting", math.nan)], "loads[0].kw"),
        ([load("lighting", math.inf)], "loads[0].kw"),
        ([load("lighting", "20")], "loads[0].kw"),
        ([load("lighting", True)], "loads[0].kw"),
        ([load("lighting", 100_001)], "loads[0].kw"),
        ([load("lighting", 2, 0)], "loads[0].count"),
        ([load("lighting", 2, 1.5)], "loads[0].count"),
        ([load("lighting", 2, True)], "loads[0].count"),
        ([{"kind": "lighting", "kw": 2, "count": "3"}], "loads[0].count"),
        ([{"kind": "lighting", "kw": 2, "colour": "red"}], "loads[0].colour"),
    ],
)
def test_an_invalid_list_names_the_field(loads, field):
    with pytest.raises(InvalidApplicationError) as err:
        advise_capacity(loads)
    assert fields(err) == [field]


def test_every_problem_is_reported_at_once():
    loads = [load("lighting", 20), load("toaster", -1, 0), load("motors", math.nan)]
    with pytest.raises(InvalidApplicationError) as err:
        advise_capacity(loads)
    assert fields(err) == ["loads[1].kind", "loads[1].kw", "loads[1].count", "loads[2].kw"]


def test_count_defaults_to_one():
    assert advise_capacity([{"kind": "lighting", "kw": 20}]).installed_kw == 20.0


# ---------------------------------------------------------------- invariants

# at most 9 × 20 × 500 kW = 90 MW installed: within what 110 kV serves
LOAD = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(LOAD_CLASSES),
        "kw": st.floats(0.1, 500, allow_nan=False),
        "count": st.integers(1, 20),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LOAD, min_size=1, max_size=8), LOAD)
def test_adding_a_load_never_lowers_the_advice(loads, extra):
    before = advise_capacity(loads)
    after = advise_capacity([*loads, extra])
    assert after.demand_kw >= before.demand_kw
    assert after.applied_capacity >= before.applied_capacity
    assert after.supply_voltage_kv >= before.supply_voltage_kv


@settings(max_examples=200, deadline=None)
@given(st.lists(LOAD, min_size=1, max_size=8))
def test_the_transformers_carry_the_demand_at_the_target_loading(loads):
    a = advise_capacity(loads)
    if a.transformers is None:
        assert a.applied_capacity_unit == "kW" or a.supply_voltage_kv > 10
        return
    t = a.transformers
    assert t.count * t.sn_kva * 0.85 >= a.demand_kva - 1e-6
    assert a.applied_capacity == t.count * t.sn_kva
    # one unit whenever the largest (2500 kVA) carries the demand at 85 %
    assert t.count == 1 or a.demand_kva > 1600 * 0.85
