"""What-if: a scenario changes a copy, never the network; the diff says what changed."""

from __future__ import annotations

import pytest

from capacity import ScenarioError, load_scenario, what_if
from tests.scheme_generator.test_scheme import context


def test_growth_lowers_capacity_and_reconductoring_raises_it():
    model = context().model
    version = model.version
    growth = what_if(
        model, load_scenario({"name": "g", "load_growth": [{"scope": "all", "percent": 10}]}, model)
    )
    feeders = [r for r in growth.rows if r["kind"] == "feeder"]
    assert all(r["c1_kva_after"] <= r["c1_kva_before"] + 1e-6 for r in feeders)
    assert any(r["c1_kva_after"] < r["c1_kva_before"] - 1 for r in feeders)
    assert model.version == version  # the network itself is untouched
    weakest = min(feeders, key=lambda r: r["c1_kva_before"])
    better = what_if(
        model,
        load_scenario(
            {"reconductor": [{"feeder_id": weakest["id"], "std_type": "YJV22-3x400"}]}, model
        ),
    )
    row = next(r for r in better.rows if r["id"] == weakest["id"])
    assert row["c1_kva_after"] >= row["c1_kva_before"]


def test_added_load_is_seen_on_its_feeder():
    model = context().model
    cp = next(c for c in model.connection_points.values() if c.kind == "ring_main_unit")
    result = what_if(
        model, load_scenario({"added_loads": [{"connection_point_id": cp.id, "kva": 500}]}, model)
    )
    row = next(r for r in result.rows if r["id"] == cp.feeder_id)
    # 500 kVA of commercial load follows the commercial profile: at the feeder's own peak
    # time it adds between half and all of its 500 kVA (never more)
    assert 250 <= row["c1_kva_before"] - row["c1_kva_after"] <= 500 + 1


def test_bad_scenario_lists_every_problem():
    model = context().model
    with pytest.raises(ScenarioError) as err:
        load_scenario(
            {
                "load_growth": [{"scope": "planet", "percent": "lots"}],
                "switches": [{"switch": -1, "closed": "yes"}],
                "reconductor": [{"feeder_id": "fd:nope", "std_type": "X"}],
                "colour": 1,
            },
            model,
        )
    text = str(err.value)
    for part in (
        "load_growth[0].scope",
        "load_growth[0].percent",
        "switches[0].switch",
        "switches[0].closed",
        "reconductor[0].std_type",
        "colour",
    ):
        assert part in text


def test_a_scenario_that_overloads_a_feeder_implies_an_upgrade_with_cost():
    model = context().model
    green = next(f for f in model.feeders.values() if f.wiring_mode == "single_ring")
    result = what_if(
        model,
        load_scenario(
            {"load_growth": [{"scope": "feeder", "id": green.id, "percent": 150}]}, model
        ),
    )
    upgrade = next(u for u in result.upgrades if u["element_id"] == green.id)
    assert upgrade["shortfall_kva"] > 0
    # the next conductor size where the catalogue has one; where it has none, a new feeder
    # taking over part of the load — costed too (it used to be listed without a cost, and
    # without being checked, which left the planner's total at 0)
    assert upgrade["kind"] in ("reconductor", "new_feeder") and upgrade["cost_cny"] > 0
    assert green.id in upgrade["fixes"]
    row = next(r for r in result.rows if r["id"] == green.id)
    assert row["light_after"] == "red" and row["light_with_upgrades"] == "green"


def test_new_feeder_takes_over_part_of_a_loaded_feeder():
    model = context().model
    feeder = max(
        (f for f in model.feeders.values() if f.wiring_mode != "radial"),
        key=lambda f: len(f.segment_ids),
    )
    section = next(
        s
        for s in model.bus_sections.values()
        if s.bays_free and s.substation_id == feeder.substation_id
    )
    # a point fed by the second segment: the new feeder takes over most of the old one
    head = next(s for s in feeder.segment_ids if feeder.head_line in model.segments[s].lines)
    far = next(
        c
        for c in model.connection_points.values()
        if c.feeder_id == feeder.id
        and c.kind in ("ring_main_unit", "pole")
        and c.segment_id
        and model.segments[c.segment_id].parent_segment_id == head
    )
    result = what_if(
        model,
        load_scenario(
            {"new_feeders": [{"bus_section_id": section.id, "to_connection_point_id": far.id}]},
            model,
        ),
    )
    assert len(result.model_after.feeders) == len(model.feeders) + 1
    row = next(r for r in result.rows if r["id"] == feeder.id)
    assert row["c1_kva_after"] > row["c1_kva_before"]  # its tail moved to the new feeder
    assert any("新出10千伏线路" in c for c in result.changes)
