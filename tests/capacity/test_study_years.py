"""Multi-year studies that end in projects (issue 14, point 5), on builtin:anyang with
examples/what_if_five_years.yaml: every red element of every year has a project that closes
it — checked here by rebuilding that year's network from the present one and recomputing —
or is listed with the reason; projects stay built in the years after; the first red year is
the first year an element is red; the files parse."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from capacity import (
    ScenarioError,
    StudyResult,
    load_scenario,
    rule_capacity,
    run_study,
    what_if,
    write_study,
    year_network,
)
from capacity._study import PROBLEM_LABELS, growth_factors
from grid_models import GridModel, load_catalogue, load_model, load_rules, model_from_net

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "what_if_five_years.yaml"


@pytest.fixture(scope="module")
def model() -> GridModel:
    return load_model("builtin:anyang")


@pytest.fixture(scope="module")
def study(model: GridModel) -> StudyResult:
    return run_study(model, load_scenario(EXAMPLE, model))


def test_growth_compounds_per_area_class(model):
    scenario = load_scenario({"years": 3, "growth_per_year": {"urban": 10}}, model)
    factors = growth_factors(scenario, 2)
    # 10 % a year for two years: 1.1 × 1.1 = 1.21; the classes left out take the rules'
    # defaults (study.growth_per_year_percent: city centre 6 % → 1.06² = 1.1236)
    assert factors["urban"] == pytest.approx(1.21)
    assert factors["city_centre"] == pytest.approx(1.1236)


def test_every_red_element_has_a_project_that_closes_it_or_a_reason(model, study):
    projects = [p for y in study.years for p in y.projects]
    for year in study.years:
        in_force = [p for p in projects if p.year <= year.year]
        # the year's network rebuilt from the present one with every project up to this
        # year, recomputed: nothing that was red stays red unless it is listed with a reason
        net, _ = year_network(model, study.scenario, year.year, in_force)
        rebuilt = rule_capacity(model_from_net(net, model_id="check"))
        unresolved = {u["element_id"]: u for u in year.unresolved}
        assert all(u["reason"] for u in unresolved.values())
        red = [e for e in year.capacity_before.elements.values() if e.light == "red"]
        assert red, "the example turns something red every year"
        line_segment = {line: s for s in year.model_after.segments.values() for line in s.lines}
        for e in red:
            if e.id in unresolved:
                continue
            assert year.fixed.get(e.id), f"year {year.year}: {e.id} red with no project"
            known = {p.id for p in in_force}
            assert set(year.fixed[e.id]) <= known
            now = rebuilt.elements.get(e.id)
            if now is None:  # a segment a cut-over opened: its lines are elsewhere now
                seg = year.model_before.segments[e.id]
                holders = {line_segment[x].id for x in seg.lines if x in line_segment}
                assert all(rebuilt.elements[h].light != "red" for h in holders)
                continue
            assert now.light != "red", (
                f"year {year.year}: {e.id} still red after {year.fixed[e.id]}"
            )
            if e.kind != "connection_point" and e.c1_kva <= 0:
                assert now.c2_kva > 0
        # the rebuilt network is the one the study reported after the year's projects
        after = year.capacity_after.elements
        assert {k: e.light for k, e in rebuilt.elements.items()} == {
            k: e.light for k, e in after.items()
        }


def test_each_project_is_costed_and_closes_what_it_names(study):
    ids = [p.id for p in study.projects]
    assert len(ids) == len(set(ids))
    for p in study.projects:
        assert p.cost_cny > 0 and p.duration_workdays > 0
        if p.source == "study":
            assert p.fixes, f"{p.id} fixes nothing"
            year = study.years[p.year - 1]
            assert all(p.id in year.fixed[x] for x in p.fixes)


def test_projects_persist_across_years(study):
    catalogue = load_catalogue()
    for year in study.years:
        for later in study.years[year.year :]:
            net = later.model_before.net
            for p in year.projects:
                if p.catalogue is not None and p.kind == "reconductor":
                    for line, name in p.catalogue.line_types:
                        assert net.line.at[line, "std_type"] == name, (p.id, later.year)
                elif p.catalogue is not None and p.catalogue.transformer is not None:
                    eid, name = p.catalogue.transformer
                    units = later.model_before.distribution_transformers
                    unit = units.get(eid) or later.model_before.main_transformers[eid]
                    rating = getattr(unit, "sn_kva", None) or unit.sn_mva * 1000.0
                    assert rating == pytest.approx(catalogue.transformer_type(name).sn_kva)
                elif p.new_feeder is not None:
                    nf = p.new_feeder
                    assert not net.line.at[nf.open_line, "in_service"]
                    new = net.line[
                        (net.line["from_bus"] == nf.from_bus) & (net.line["to_bus"] == nf.to_bus)
                    ]
                    assert len(new) == 1, (p.id, later.year)


def test_planned_projects_enter_in_their_year_costed_by_the_rules(study):
    planned = [p for p in study.projects if p.source == "planned"]
    assert {(p.year, p.kind) for p in planned} == {
        (2, "new_feeder"),
        (4, "main_transformer_replacement"),
    }
    mt = next(p for p in planned if p.kind == "main_transformer_replacement")
    # 50 MVA at scheme.costs_cny.main_transformer_per_mva 160 000 = 8 000 000 CNY
    per_mva = load_rules().get("scheme.costs_cny.main_transformer_per_mva")
    assert mt.cost_cny == pytest.approx(50 * per_mva)
    assert study.years[3].model_before.main_transformers["mt:410"].sn_mva == pytest.approx(50)
    assert study.years[2].model_before.main_transformers["mt:410"].sn_mva == pytest.approx(31.5)


def test_first_red_year_is_the_first_year_an_element_is_red(study):
    red_in: dict[str, list[int]] = {}
    for y in study.years:
        for e in y.capacity_before.elements.values():
            if e.light == "red":
                red_in.setdefault(e.id, []).append(y.year)
    assert study.first_red == {k: v[0] for k, v in red_in.items()}
    assert set(study.first_red.values()) <= set(range(1, study.scenario.years + 1))


def test_problem_list_covers_every_kind_of_problem(study):
    first = study.years[0]
    cats = {p["category"] for p in first.problems}
    # anyang has radial feeders, long rural and urban feeders, and heavy transformers
    assert {"heavy_load", "n1", "radial", "radius_mv", "radius_lv", "red"} <= cats
    radial = {p["element_id"] for p in first.problems if p["category"] == "radial"}
    assert radial == {
        f.id for f in first.model_before.feeders.values() if f.wiring_mode == "radial"
    }


def test_files_parse(study, tmp_path):
    names = write_study(study, tmp_path)
    data = json.loads((tmp_path / "study.json").read_text("utf-8"))
    assert len(data["summary"]["per_year"]) == 5
    assert len(data["projects"]) == len(study.projects)

    def read(name: str) -> list[dict[str, str]]:
        with (tmp_path / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    projects = read("projects.csv")
    assert [r["id"] for r in projects] == [p.id for p in study.projects]
    assert sum(int(r["cost_cny"]) for r in projects) == pytest.approx(
        sum(round(p.cost_cny) for p in study.projects)
    )
    problems = read("problems.csv")
    assert {r["category"] for r in problems} <= set(PROBLEM_LABELS)
    assert {int(r["year"]) for r in problems} == {1, 2, 3, 4, 5}
    first = read("first_red.csv")
    assert {r["element_id"]: int(r["first_red_year"]) for r in first} == study.first_red
    with (tmp_path / "unresolved.csv").open(encoding="utf-8") as f:
        assert f.readline().startswith("year,element_id")
    for png in (n for n in names if n.endswith(".png")):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "study.html").read_text("utf-8")
    assert "项目库" in html and "<svg" in html and "<script" not in html


def test_the_core_growth_what_if_now_ends_in_projects(model):
    # the planner's report (issue 14): 文峰12线 stayed red (C1 −763 kVA) and seven
    # distribution transformers turned red, yet "需改造项目 0 项，投资约 0 元"
    path = EXAMPLE.with_name("what_if_core_growth.yaml")
    result = what_if(model, load_scenario(path, model))
    rows = {r["id"]: r for r in result.rows}
    assert rows["fd:68"]["light_after"] == "red"
    assert any("fd:68" in u["fixes"] for u in result.upgrades)
    red_after = [r for r in result.rows if r["light_after"] == "red"]
    closable = {u["element_id"] for u in result.not_closable}
    assert all(r["light_with_upgrades"] != "red" or r["id"] in closable for r in red_after)
    s = result.summary()
    assert s["upgrades"] > 0 and s["upgrade_cost_cny"] > 0


def test_bad_study_fields_are_listed_together(model):
    with pytest.raises(ScenarioError) as err:
        load_scenario(
            {
                "years": 50,
                "growth_per_year": {"moon": 3, "urban": "fast"},
                "planned_projects": [
                    {"year": 9, "kind": "teleporter"},
                    {"year": 1, "kind": "reconductor", "element_id": "fd:nope", "std_type": "X"},
                ],
            },
            model,
        )
    text = str(err.value)
    for part in (
        "years:",
        "growth_per_year.moon",
        "growth_per_year.urban",
        "planned_projects[0].kind",
        "planned_projects[1].element_id",
        "planned_projects[1].std_type",
    ):
        assert part in text
    with pytest.raises(ScenarioError, match="only in a multi-year study"):
        load_scenario({"growth_per_year": {"urban": 5}}, model)
