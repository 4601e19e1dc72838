"""Invalid applications name every bad field and the reason."""

from __future__ import annotations

import pytest

from scheme_generator import InvalidApplicationError, parse_application

GOOD = {
    "customer_name": "安阳市某某餐饮有限公司",
    "customer_type": "non_resident",
    "business": "new",
    "location": {"lon": 114.35, "lat": 36.10},
    "capacity_kva": 120,
    "application_date": "2026-03-02",
}


def test_contract_example_parses_with_defaults():
    app = parse_application(GOOD)
    assert app.category == "general" and app.objective == "cheapest" and app.phases == 3
    assert app.in_provincial_park is None and app.application_date.isoformat() == "2026-03-02"


def test_every_problem_is_listed_with_its_field():
    bad = {
        **GOOD,
        "capacity_kva": -5,
        "industry": "mining",
        "application_date": "02/03/2026",
        "location": {"lon": 114.35, "lat": 136.1},
        "proactive": "yes",
        "colour": "red",
    }
    with pytest.raises(InvalidApplicationError) as err:
        parse_application(bad)
    fields = {p.field: p.reason for p in err.value.problems}
    assert set(fields) == {
        "capacity_kva",
        "industry",
        "application_date",
        "location.lat",
        "proactive",
        "colour",
    }
    assert "from 0.1" in fields["capacity_kva"] and "mining" in fields["industry"]


def test_missing_required_fields():
    with pytest.raises(InvalidApplicationError) as err:
        parse_application({"customer_type": "resident"})
    missing = {p.field for p in err.value.problems}
    assert {"customer_name", "business", "location", "capacity_kva", "application_date"} <= missing


def test_single_phase_only_up_to_10_kw():
    with pytest.raises(InvalidApplicationError, match="phases"):
        parse_application({**GOOD, "phases": 1, "capacity_kva": 30})


def test_to_dict_round_trips_in_the_contract_shape():
    app = parse_application(GOOD)
    again = parse_application(app.to_dict())
    assert again == app and app.to_dict()["location"] == {"lon": 114.35, "lat": 36.10}
