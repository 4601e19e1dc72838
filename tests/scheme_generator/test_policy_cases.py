"""The case library: one case per rule of the seed, expected fields worked out by hand.

Each ``tests/data/policy/<case>.json`` holds the seed clause it checks, an application,
whether a supporting project is needed, and the expected scheme fields.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from grid_models import load_rules
from scheme_generator import calendar_from_rules, decide, parse_application
from scheme_generator._demand import demand_of
from scheme_generator._terms import metering, receiving, tariff, temporary_terms

CASES = sorted((Path(__file__).resolve().parents[1] / "data" / "policy").glob("*.json"))


def scheme_fields(case: dict) -> dict:
    rules = load_rules()
    app = parse_application(case["application"])
    decision = decide(app, rules=rules)
    limit = decision.time_limit_workdays(case["supporting_project"], rules)
    cal = calendar_from_rules(rules.get("scheme.workday_overrides"))
    fields = {
        "customer_class": decision.customer_class,
        "small_micro": decision.small_micro,
        "small_micro_exclusion": decision.small_micro_exclusion,
        "supply_voltage_kv": decision.supply_voltage_kv,
        "phases": decision.phases,
        "dedicated_line": decision.dedicated_line,
        "steps": list(decision.steps),
        "inspections": list(decision.inspections),
        "time_limit_workdays": limit,
        "due_date": cal.add_workdays(app.application_date, limit).isoformat(),
        "investment_boundary": decision.investment_boundary,
        "external_works_payer": decision.external_works_payer,
        "materials": list(decision.materials),
        "deferred_materials": list(decision.deferred_materials),
        "fees": list(decision.fees),
        "outage_plan": decision.outage_plan,
        "sources_required": decision.sources_required,
        "sources_from_different_substations": decision.sources_from_different_substations,
        "validity_months": decision.validity_months,
        "questions": list(decision.questions),
    }
    # the terms of supply, from the same functions the scheme uses
    demand = demand_of(app, rules).demand_kva
    installation = receiving(app, decision.hv, rules)
    size = float(installation["total_kva"]) if installation else app.capacity_kva
    fields["receiving_installation"] = installation
    fields["metering"] = metering(
        app, decision.supply_voltage_kv, decision.phases, demand, installation, rules
    )
    fields["tariff"] = tariff(app, decision.hv, size, rules)
    fields["temporary"] = temporary_terms(app, demand, rules)
    fields["demand_kva"] = round(demand, 1)
    return fields


def pick(fields: dict, dotted: str):
    """``a.b.0.c``: a field, then keys and list positions."""
    node = fields
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_library_covers_every_rule_family():
    names = {p.stem for p in CASES}
    for prefix in (
        "hv_general",
        "hv_proactive",
        "hv_red_line_new",
        "hv_red_line_proactive",
        "hv_increase_no_external_works",
        "lv_general",
        "lv_resident",
        "lv_small_micro",
        "lv_small_micro_proactive",
    ):
        assert prefix in names
    assert sum(n.startswith("small_micro_excludes_") for n in names) >= 8
    assert sum(n.startswith("important_") for n in names) == 4
    assert sum(n.startswith("materials_") for n in names) >= 7
    assert sum(n.startswith(("boundary_", "time_")) for n in names) >= 10


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path):
    case = json.loads(path.read_text("utf-8"))
    assert case["clause"], "every case cites the seed clause it checks"
    got = scheme_fields(case)
    for field, expected in case["expected"].items():
        assert pick(got, field) == expected, f"{path.stem}: {field} ({case['clause']})"


def test_due_date_beyond_the_calendar_data_warns():
    cal = calendar_from_rules({})
    due = cal.add_workdays(dt.date(2026, 12, 28), 5)
    assert due == dt.date(2027, 1, 4)  # Mon–Fri assumed for 2027, and said so
    assert any("2027" in w for w in cal.warnings)


def test_override_table_wins():
    cal = calendar_from_rules({"2027-01-01": False, "2027-01-04": False})
    assert cal.add_workdays(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 5)
