"""The published rules and the scheme generator agree for every business type."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api._app import create_app
from scheme_generator import BUSINESS_TYPES, generate_scheme, parse_application
from tests.scheme_generator.test_scheme import context


def test_rules_endpoint_matches_generated_schemes(tmp_path):
    ctx = context()
    with TestClient(create_app(ctx.model, database_url=f"sqlite:///{tmp_path / 'r.db'}")) as client:
        published = client.get("/api/v1/rules").json()
    assert published["rules_version"] == ctx.rules.version
    by_type = {b["business_type"]: b for b in published["business_types"]}
    assert set(by_type) == set(BUSINESS_TYPES)
    # the second round's business types are published too (issue 13)
    assert {
        "small_micro_hv",
        "temporary",
        "estate_one_meter_per_household",
        "estate_master_meter",
    } <= set(by_type)
    assert "voluntary_hv_proof" in [m["code"] for m in by_type["small_micro_hv"]["materials"]]
    assert published["temporary_supply"]["use_period_months"] == 6
    assert published["fees"]["high_reliability_fee"]["cny_per_kva"]["10"]["cable"] > 0
    site = next(p for p in ctx.points.values() if p.kind == "ring_main_unit")
    for code, (_, _, fields) in BUSINESS_TYPES.items():
        raw = {
            "customer_name": "示例",
            "business": "new",
            "application_date": "2026-03-02",
            "customer_type": "non_resident",
            "industry": "commercial",
            "ownership": "private",
            "in_provincial_park": False,
            "in_urban_planning_area": False,
            "location": {"lon": site.lon_deg + 0.0005, "lat": site.lat_deg},
            **fields,
        }
        scheme = generate_scheme(ctx, parse_application(raw))
        rule = by_type[code]
        assert [s["code"] for s in rule["steps"]] == scheme["steps"], code
        assert [m["code"] for m in rule["materials"]] == scheme["materials"], code
        assert rule["investment_boundary"]["code"] == scheme["investment_boundary"], code
        limits = rule["time_limit_workdays"]
        expected = (
            limits["with_supporting_project"]
            if scheme["constrained"]
            else limits["without_supporting_project"]
        )
        assert scheme["time_limit_workdays"] == expected, code
        assert all(s["zh"] and s["en"] for s in rule["steps"])


def test_capacity_publication_by_region_with_versions(tmp_path):
    ctx = context()
    with TestClient(create_app(ctx.model, database_url=f"sqlite:///{tmp_path / 'p.db'}")) as client:
        pub = client.get("/api/v1/capacity/publication").json()
    assert pub["network"]["version"] == ctx.model.version and pub["rules_version"]
    assert pub["published_on"]
    assert {r["substation"] for r in pub["by_substation"]} == set(ctx.model.substations)
    assert {r["area_class"] for r in pub["by_area_class"]} <= {
        "city_centre",
        "urban",
        "town",
        "rural",
    }
    assert len(pub["feeders"]) == len(ctx.model.feeders)
