"""Schemes on the embedded Anyang network: promises stay within capacity, sources differ."""

from __future__ import annotations

import random
from functools import cache

import pytest

from grid_models import load_model
from scheme_generator import (
    InvalidApplicationError,
    SchemeContext,
    decide,
    generate_scheme,
    parse_application,
    render_reply_sheet,
)


@cache
def context() -> SchemeContext:
    return SchemeContext.build(load_model("builtin:anyang"))


def random_application(rng: random.Random) -> dict:
    resident = rng.random() < 0.3
    return {
        "customer_name": "张三" if resident else "安阳市某某有限公司",
        "customer_type": "resident" if resident else "non_resident",
        "business": rng.choice(["new", "capacity_increase"]),
        "industry": "residential"
        if resident
        else rng.choice(["industrial", "commercial", "public_service", "agriculture"]),
        "ownership": "individual" if resident else rng.choice(["private", "chain_branch"]),
        "location": {"lon": rng.uniform(114.15, 114.40), "lat": rng.uniform(36.00, 36.20)},
        "capacity_kva": rng.choice([8, 30, 80, 150, 400, 800, 1600, 3000, 6000, 9000]),
        "important_user_level": rng.choice([None] * 8 + ["first", "second"]),
        "proactive": rng.random() < 0.2,
        "application_date": "2026-06-01",
    }


def test_random_schemes_keep_every_promise():
    ctx = context()
    rng = random.Random(7)
    checked = 0
    for _ in range(150):
        raw = random_application(rng)
        if raw["customer_type"] == "resident":
            raw["capacity_kva"] = min(raw["capacity_kva"], 30)
        app = parse_application(raw)
        scheme = generate_scheme(ctx, app)
        decision = decide(
            app,
            in_provincial_park=scheme["site"]["in_provincial_park"],
            in_urban_planning_area=scheme["site"]["in_urban_planning_area"],
        )
        assert scheme["steps"] == list(decision.steps)
        assert scheme["investment_boundary"] == decision.investment_boundary
        for option in scheme["options"]:
            feeders = [s["feeder_id"] or s["connection_point_id"] for s in option["sources"]]
            assert len(set(feeders)) == len(feeders), "two sources on one feeder"
            assert option["time_limit_workdays"] == decision.time_limit_workdays(
                option["supporting_project"]
            )
            for s in option["sources"]:
                point = ctx.points[s["connection_point_id"]]
                assert s["openable_kva_before"] == pytest.approx(point.openable_kva, abs=0.1)
                if not scheme["constrained"]:
                    # never promise more than the point's openable capacity (C2, and AC)
                    assert app.capacity_kva <= point.openable_kva + 1e-6
        if scheme["constrained"]:
            plan = scheme["transition_plan"]
            assert plan["interim_capacity_kva"] <= app.capacity_kva + 1e-6
            assert plan["restricted_report_due"] == "2026-06-03"
        checked += 1
    assert checked == 150


def test_first_level_important_user_gets_two_substations():
    app = parse_application(
        {
            "customer_name": "某医院",
            "customer_type": "non_resident",
            "business": "new",
            "industry": "public_service",
            "important_user_level": "first",
            "location": {"lon": 114.34, "lat": 36.09},
            "capacity_kva": 2000,
            "application_date": "2026-03-02",
        }
    )
    scheme = generate_scheme(context(), app)
    assert not scheme["constrained"] and scheme["sources_required"] == 2
    for option in scheme["options"]:
        subs = {s["substation_id"] for s in option["sources"]}
        assert len(subs) == 2
    assert "high_reliability_fee" in scheme["fees"]


def test_site_far_from_the_network_names_the_location_field():
    raw = random_application(random.Random(1))
    raw["location"] = {"lon": 115.0, "lat": 36.6}  # ≈ 80 km from Anyang
    with pytest.raises(InvalidApplicationError) as err:
        generate_scheme(context(), parse_application(raw))
    assert err.value.problems[0].field == "location"


def test_shortage_gives_a_transition_plan_with_upgrades():
    app = parse_application(
        {
            "customer_name": "某工厂",
            "customer_type": "non_resident",
            "business": "new",
            "industry": "industrial",
            "location": {"lon": 114.20, "lat": 36.03},
            "capacity_kva": 9000,
            "application_date": "2026-03-02",
        }
    )
    scheme = generate_scheme(context(), app)
    assert scheme["constrained"] and scheme["dedicated_line"]
    plan = scheme["transition_plan"]
    kinds = {m["kind"] for m in plan["measures"]}
    assert {"partial_connection", "staged", "upgrade"} <= kinds
    assert all(
        {"kind", "cost_cny", "duration_workdays", "funding_channel"} <= set(p)
        for p in plan["upgrade_projects"]
    )
    html = render_reply_sheet(scheme)
    assert "供电方案答复单" in html and "过渡方案" in html and "<script" not in html


def test_load_transfer_through_a_tie_is_checked_by_a_power_flow():
    ctx = context()
    # ring-main units on feeders already beyond their N-1 limit (red): nothing is openable
    points = [
        p
        for p in ctx.points.values()
        if p.kind == "ring_main_unit" and p.limited_by.startswith("fd:") and p.openable_kva <= 0
    ]
    assert points
    transfers = []
    for point in points[:12]:
        app = parse_application(
            {
                "customer_name": "某商场",
                "customer_type": "non_resident",
                "business": "new",
                "industry": "commercial",
                "ownership": "chain_branch",
                "location": {"lon": point.lon_deg + 0.0002, "lat": point.lat_deg},
                "capacity_kva": 2500,
                "application_date": "2026-03-02",
            }
        )
        scheme = generate_scheme(ctx, app)
        if scheme["constrained"]:
            transfers += [
                m for m in scheme["transition_plan"]["measures"] if m["kind"] == "load_transfer"
            ]
    assert transfers, "no constrained scheme offered a load transfer"
    for t in transfers:
        assert t["checked_by"] == "ac_power_flow"
        assert t["freed_kva"] > 0 and t["partner_max_loading_percent"] <= 100


def test_relief_through_ties_moves_load_within_the_partners_limits():
    from capacity import HostingCriteria, relief_through_ties

    model = context().model
    red = [f for f in model.feeders.values() if f.wiring_mode != "radial"][:3]
    found = [r for f in red for r in relief_through_ties(model, f.id, HostingCriteria())]
    assert found
    for r in found:
        if r.ok:
            assert r.freed_kva > 0 and r.partner_max_loading_percent <= 100


def test_context_with_reservations_is_exact_on_rules_and_conservative_on_ac():
    from capacity import Reservation

    ctx = context()
    point = next(
        p for p in ctx.points.values() if p.kind == "ring_main_unit" and p.openable_kva > 1500
    )
    res = (Reservation(point.id, 800.0),)
    quick = ctx.with_reservations(res)
    exact = SchemeContext.build(ctx.model, res)
    same_feeder = [q for q in ctx.points.values() if q.feeder_id == point.feeder_id][:15]
    for q in same_feeder:
        assert quick.points[q.id].rules_kva == pytest.approx(exact.points[q.id].rules_kva)
        assert quick.points[q.id].ac_kva <= exact.points[q.id].ac_kva + 1.0
        assert quick.points[q.id].openable_kva <= exact.points[q.id].openable_kva + 1.0
    assert quick.points[point.id].openable_kva == pytest.approx(point.openable_kva - 800, abs=1)


def test_every_option_carries_reliability_against_its_area_target():
    from scheme_generator._reliability import outage_hours

    ctx = context()
    model = ctx.model

    def with_points(mode):
        return next(
            f
            for f in model.feeders.values()
            if f.wiring_mode == mode
            and any(
                c.feeder_id == f.id and c.kind in ("pole", "ring_main_unit")
                for c in model.connection_points.values()
            )
        )

    radial = with_points("radial")
    tied = with_points("single_tie")

    def farthest(feeder):
        return max(
            (
                c
                for c in model.connection_points.values()
                if c.feeder_id == feeder.id and c.kind in ("pole", "ring_main_unit")
            ),
            key=lambda c: len(model.supply_path(c.id)),
        )

    far_radial = farthest(radial)
    far_tied = farthest(tied)
    r = outage_hours(model, far_radial.id, ctx.rules)
    t = outage_hours(model, far_tied.id, ctx.rules)
    # hand check of the model: every segment's λ·L counts once as an event
    events = sum(
        0.08 * model.segments[s].length_km
        for s in radial.segment_ids
        if model.net.line.at[model.segments[s].lines[0], "type"] == "ol"
    )
    assert r["events_per_year"] >= events - 1e-6
    assert t["target_hours"] in (2.0, 5.0, 9.0, 15.0)
    dual = outage_hours(model, far_tied.id, ctx.rules, sources=2)
    assert dual["outage_hours_per_year"] < t["outage_hours_per_year"]
    app = parse_application(
        {
            "customer_name": "某医院",
            "customer_type": "non_resident",
            "business": "new",
            "industry": "public_service",
            "important_user_level": "first",
            "location": {"lon": 114.34, "lat": 36.09},
            "capacity_kva": 2000,
            "application_date": "2026-03-02",
        }
    )
    scheme = generate_scheme(ctx, app)
    assert all(o["reliability"]["meets_target"] is not None for o in scheme["options"])
    assert "供电可靠性" in render_reply_sheet(scheme)
