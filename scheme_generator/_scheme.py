"""The supply scheme (供电方案) for one application, as the contract's JSON.

Policy (:mod:`scheme_generator._policy`) + candidate points with capacity and cost
(:mod:`scheme_generator._candidates`) + the solver (:mod:`scheme_generator._solver`);
when no point can take the load now, a transition plan ("先接入、后改造").
"""

from __future__ import annotations

import math
from typing import Any

from scheme_generator._application import Application
from scheme_generator._calendar import WorkCalendar, calendar_from_rules
from scheme_generator._candidates import (
    Candidate,
    SchemeContext,
    find_candidates,
    nearest_distance_m,
    site_area,
)
from scheme_generator._errors import FieldProblem, InvalidApplicationError
from scheme_generator._policy import PolicyDecision, decide
from scheme_generator._reliability import outage_hours
from scheme_generator._solver import Choice, CpSatSolver, SourceRule, SourceSolver

_LABELS = "ABCDEFGH"


def generate_scheme(
    ctx: SchemeContext, app: Application, solver: SourceSolver | None = None
) -> dict[str, Any]:
    """The scheme for ``app`` on the network of ``ctx`` (nothing is stored or reserved)."""
    rules = ctx.rules
    r = rules.get("scheme")
    limit_km = float(r["candidates"]["max_site_distance_km"])
    nearest = nearest_distance_m(ctx, app.lon_deg, app.lat_deg)
    if nearest > limit_km * 1000:
        raise InvalidApplicationError(
            [
                FieldProblem(
                    "location",
                    f"the site is {nearest / 1000:.1f} km from the nearest connection point"
                    f" of network {ctx.model.id} (more than {limit_km:.0f} km): it is not in this "
                    "network's supply area",
                )
            ]
        )
    area = site_area(ctx, app.lon_deg, app.lat_deg)
    decision = decide(
        app,
        in_provincial_park=area["in_provincial_park"],
        in_urban_planning_area=area["in_urban_planning_area"],
        rules=rules,
    )
    cal = calendar_from_rules(r.get("workday_overrides"))
    candidates = find_candidates(ctx, decision, app.lon_deg, app.lat_deg, app.capacity_kva)
    feasible = [c for c in candidates if c.feasible]
    solver = solver or CpSatSolver()
    source_sets, relax_note = _choose(
        solver, feasible, decision, app, int(r["candidates"]["options_returned"])
    )
    constrained = not source_sets
    options = [
        _option(ctx, app, decision, cal, [feasible[i] for i in chosen], label, False)
        for label, chosen in zip(_LABELS, source_sets, strict=False)
    ]
    plan = None
    if constrained:
        plan = _transition_plan(ctx, app, decision, candidates, cal)
        drop_limit = float(r["voltage_drop_max_percent"]["mv" if decision.hv else "lv"])
        ranked = sorted(
            candidates,
            key=lambda c: (-_interim_kva(c, app.capacity_kva, drop_limit), c.cost_total_cny),
        )
        staged: list[Candidate] = []
        for c in ranked:  # never two sources on one feeder, even in a staged option
            if all(
                (c.feeder_id or c.connection_point_id) != (s.feeder_id or s.connection_point_id)
                for s in staged
            ):
                staged.append(c)
            if len(staged) == decision.sources_required:
                break
        if staged:
            options = [_option(ctx, app, decision, cal, staged, "A", True)]
    recommended = options[0] if options else None
    notes = list(decision.notes) + ([relax_note] if relax_note else [])
    scheme: dict[str, Any] = {
        "classification": {
            "customer_class": decision.customer_class,
            "small_micro": decision.small_micro,
            "small_micro_exclusion": decision.small_micro_exclusion,
        },
        "supply_voltage_kv": decision.supply_voltage_kv,
        "phases": decision.phases,
        "dedicated_line": decision.dedicated_line,
        "steps": list(decision.steps),
        "inspections": list(decision.inspections),
        "time_limit_workdays": recommended["time_limit_workdays"]
        if recommended
        else decision.time_limit_workdays(True, rules),
        "due_date": recommended["due_date"]
        if recommended
        else cal.add_workdays(
            app.application_date, decision.time_limit_workdays(True, rules)
        ).isoformat(),
        "investment_boundary": decision.investment_boundary,
        "materials": list(decision.materials),
        "archive": list(decision.archive),
        "fees": list(decision.fees),
        "outage_plan": decision.outage_plan,
        "constrained": constrained,
        "options": options,
        "recommended_option_id": recommended["option_id"] if recommended else None,
        "transition_plan": plan,
        # gridcap additions
        "customer": {
            "name": app.customer_name,
            "capacity_kva": app.capacity_kva,
            "business": app.business,
            "category": app.category,
            "industry": app.industry,
            "application_date": app.application_date.isoformat(),
            "objective": app.objective,
        },
        "site": {"lon": app.lon_deg, "lat": app.lat_deg, **area},
        "sources_required": decision.sources_required,
        "red_line_reason": decision.red_line_reason,
        "external_works_payer": decision.external_works_payer,
        "deferred_materials": list(decision.deferred_materials),
        "demarcation_point": _demarcation(decision),
        "metering_point": "demarcation_point",
        "validity_months": decision.validity_months,
        "candidates_considered": len(candidates),
        "network": {"id": ctx.model.id, "version": ctx.model.version},
        "rules_version": rules.version,
        "notes": notes,
        "warnings": sorted(cal.warnings),
    }
    return scheme


def _choose(
    solver: SourceSolver,
    feasible: list[Candidate],
    decision: PolicyDecision,
    app: Application,
    k: int,
) -> tuple[list[tuple[int, ...]], str | None]:
    objective = app.objective
    choices = [
        Choice(
            cost=int(round(c.cost_total_cny if objective == "cheapest" else c.length_m * 100)),
            feeder=c.feeder_id or c.connection_point_id,
            substation=c.substation_id or "-",
            section=c.bus_section_id or "-",
        )
        for c in feasible
    ]
    level = app.important_user_level if decision.hv else None
    count = decision.sources_required
    if count == 1:
        return solver.solve(choices, SourceRule(1), k), None
    if level in ("special", "first"):
        strict = solver.solve(choices, SourceRule(count, distinct_substations=2), k)
        if strict:
            return strict, None
        relaxed = solver.solve(choices, SourceRule(count, distinct_sections=True), k)
        return relaxed, (
            "no two substations within reach have the capacity: the sources "
            "come from two bus sections of one substation"
            if relaxed
            else None
        )
    return solver.solve(choices, SourceRule(count, distinct_sections=True), k), None


def _option(
    ctx: SchemeContext,
    app: Application,
    decision: PolicyDecision,
    cal: WorkCalendar,
    chosen: list[Candidate],
    label: str,
    supporting: bool,
) -> dict[str, Any]:
    sources = []
    line_cost = equipment_cost = 0.0
    for i, c in enumerate(chosen):
        sources.append(
            {
                "role": "main" if i == 0 else "backup",
                "connection_point_id": c.connection_point_id,
                "connection_point_name": c.name,
                "connection_point_kind": c.kind,
                "substation_id": c.substation_id,
                "bus_section_id": c.bus_section_id,
                "feeder_id": c.feeder_id,
                "feeder_name": ctx.model.feeders[c.feeder_id].name if c.feeder_id else None,
                "line_type": c.line_type,
                "length_m": round(c.length_m, 1),
                "openable_kva_before": round(c.openable_kva, 1),
                "openable_kva_after": round(c.openable_kva - app.capacity_kva, 1),
                "voltage_drop_percent": round(c.voltage_drop_percent, 2),
            }
        )
        line_cost += c.cost_line_cny
        equipment_cost += c.cost_equipment_cny
    split = _split_cost(decision, line_cost, equipment_cost)
    reliability = (
        outage_hours(ctx.model, chosen[0].connection_point_id, ctx.rules, sources=len(chosen))
        if chosen
        else None
    )
    limit = decision.time_limit_workdays(supporting, ctx.rules)
    return {
        "option_id": label,
        "sources": sources,
        "supporting_project": supporting,
        "cost_cny": split,
        "time_limit_workdays": limit,
        "due_date": cal.add_workdays(app.application_date, limit).isoformat(),
        "length_m_total": round(sum(c.length_m for c in chosen), 1),
        "reliability": reliability,
        "supporting_project_contract_date": _contract_date(app, cal, limit, supporting),
    }


def _contract_date(app: Application, cal: WorkCalendar, limit: int, supporting: bool) -> str | None:
    """契约制: the supporting project's completion date, agreed with the customer, no later
    than the customer's own works (or, without that date, the option's due date)."""
    if not supporting:
        return None
    due = cal.add_workdays(app.application_date, limit)
    if app.customer_works_date is not None:
        due = min(due, app.customer_works_date)
    return due.isoformat()


def _split_cost(decision: PolicyDecision, line: float, equipment: float) -> dict[str, float]:
    """Who pays: the utility provides the grid side, the first breaker and the metering
    (seed 三(三)1); the line beyond the point is the customer's unless the grid invests to
    the red line (then the utility, or the government under the Henan rule)."""
    utility = equipment
    customer = government = 0.0
    if decision.investment_boundary == "connection_point":
        customer = line
    elif decision.external_works_payer == "government":
        government = line
    else:
        utility += line
    total = utility + customer + government
    return {
        "utility": round(utility, 0),
        "customer": round(customer, 0),
        "government": round(government, 0),
        "total": round(total, 0),
    }


def _demarcation(decision: PolicyDecision) -> str:
    """Where ownership changes hands (产权分界点), as a code the reply sheet words."""
    if decision.investment_boundary == "meter_box":
        return "meter_box"
    if decision.investment_boundary == "red_line":
        return "first_breaker_outside_red_line"
    return "connection_point"


def _transition_plan(
    ctx: SchemeContext,
    app: Application,
    decision: PolicyDecision,
    candidates: list[Candidate],
    cal: WorkCalendar,
) -> dict[str, Any]:
    """先接入、后改造: what the grid can give now, and the projects that give the rest."""
    r = ctx.rules.get("scheme")
    limit = float(r["voltage_drop_max_percent"]["mv" if decision.hv else "lv"])
    room = {c.connection_point_id: _interim_kva(c, app.capacity_kva, limit) for c in candidates}
    by_room = sorted(candidates, key=lambda c: (-room[c.connection_point_id], c.cost_total_cny))
    best = by_room[0] if by_room else None
    interim = room[best.connection_point_id] if best else 0.0
    measures: list[dict[str, Any]] = []
    if best and interim > 0:
        measures.append(
            {
                "kind": "partial_connection",
                "connection_point_id": best.connection_point_id,
                "capacity_kva": round(interim, 1),
            }
        )
        other = next(
            (
                c
                for c in by_room[1:]
                if (c.feeder_id or c.connection_point_id)
                != (best.feeder_id or best.connection_point_id)
                and c.bus_section_id != best.bus_section_id
                and room[c.connection_point_id] > 0
            ),
            None,
        )
        if other is not None and interim < app.capacity_kva:
            extra = min(room[other.connection_point_id], app.capacity_kva - interim)
            measures.append(
                {
                    "kind": "temporary_source",
                    "connection_point_id": other.connection_point_id,
                    "feeder_id": other.feeder_id,
                    "capacity_kva": round(extra, 1),
                }
            )
            interim += extra
    limited = ctx.points[best.connection_point_id].limited_by if best else ""
    feeder_id = _feeder_of(ctx, limited)
    if best and feeder_id and interim < app.capacity_kva:
        relief = next((x for x in ctx.transfer_relief(feeder_id) if x.ok), None)
        if relief is not None:
            freed = min(relief.freed_kva, app.capacity_kva - interim)
            measures.append(
                {
                    "kind": "load_transfer",
                    "feeder_id": feeder_id,
                    "tie_id": relief.tie_id,
                    "to_feeder_id": relief.partner_id,
                    "open_line": relief.opened_line,
                    "freed_kva": round(freed, 1),
                    "partner_max_loading_percent": round(relief.partner_max_loading_percent, 1),
                    "checked_by": "ac_power_flow",
                }
            )
            interim += freed
    measures.append(
        {
            "kind": "staged",
            "stages": [
                {"stage": 1, "capacity_kva": round(interim, 1), "when": "at connection"},
                {
                    "stage": 2,
                    "capacity_kva": app.capacity_kva,
                    "when": "after the upgrade projects",
                },
            ],
        }
    )
    projects = _upgrades(ctx, app, decision, best)
    measures += [{"kind": "upgrade", "project": p["kind"]} for p in projects]
    return {
        "interim_capacity_kva": round(interim, 1),
        "measures": measures,
        "upgrade_projects": projects,
        "restricted_report_due": cal.add_workdays(
            app.application_date, int(r["time_limits_workdays"]["restricted_report"])
        ).isoformat(),
        "limited_by": ctx.points[best.connection_point_id].limited_by if best else None,
    }


def _feeder_of(ctx: SchemeContext, element_id: str) -> str | None:
    if element_id.startswith("fd:"):
        return element_id
    if element_id.startswith("seg:"):
        return ctx.model.segments[element_id].feeder_id
    return None


def _interim_kva(c: Candidate, applied_kva: float, drop_limit: float) -> float:
    """What a candidate can take now: its openable capacity, its free bays, and the load at
    which the voltage at the customer reaches its limit (the new line's drop is
    proportional to the load)."""
    if c.bays_free is not None and c.bays_free <= 0:
        return 0.0
    room = min(max(c.openable_kva, 0.0), applied_kva)
    line_drop = c.voltage_drop_percent - c.base_drop_percent
    if line_drop > 0:
        room = min(room, applied_kva * max(0.0, drop_limit - c.base_drop_percent) / line_drop)
    return room


def _upgrades(
    ctx: SchemeContext, app: Application, decision: PolicyDecision, best: Candidate | None
) -> list[dict[str, Any]]:
    r = ctx.rules.get("scheme")
    costs = r["costs_cny"]
    durations = r["upgrade_durations_workdays"]
    channel = r["funding_channel"]
    if decision.supply_voltage_kv >= 110:
        funding = channel["hv110_220"]
    elif decision.supply_voltage_kv >= 35:
        funding = channel["hv35"]
    elif decision.hv:
        # the customer needs supply now: within 3 months of the application = emergency
        funding = channel["mv_emergency"]
    else:
        funding = channel["lv"]
    limited = ctx.points[best.connection_point_id].limited_by if best else ""
    model = ctx.model
    out: list[dict[str, Any]] = []
    if limited.startswith("dt:"):
        dt_ = model.distribution_transformers[limited]
        size = dt_.sn_kva + app.capacity_kva
        out.append(
            {
                "kind": "transformer_replacement",
                "element_id": limited,
                "cost_cny": round(size * costs["distribution_transformer_per_kva"]),
                "duration_workdays": durations["distribution_transformer_replacement"],
                "funding_channel": funding,
            }
        )
    elif limited.startswith(("fd:", "seg:")):
        feeder = (
            model.feeders[limited]
            if limited.startswith("fd:")
            else model.feeders[model.segments[limited].feeder_id]
        )
        out.append(
            {
                "kind": "reconductor",
                "element_id": limited,
                "cost_cny": round(feeder.length_km * costs["overhead_10kv_per_km"]),
                "duration_workdays": durations["reconductor"],
                "funding_channel": funding,
            }
        )
        out += _new_feeder(ctx, app, funding)
    elif limited.startswith(("mt:", "bs:")):
        out.append(
            {
                "kind": "transformer_replacement",
                "element_id": limited,
                "cost_cny": costs["main_transformer_replacement"],
                "duration_workdays": durations["main_transformer_replacement"],
                "funding_channel": channel["hv110_220"],
            }
        )
    else:
        out += _new_feeder(ctx, app, funding)
    return out


def _new_feeder(ctx: SchemeContext, app: Application, funding: str) -> list[dict[str, Any]]:
    """A new 10 kV feeder from the nearest bus section with a free bay, if there is one."""
    sub = _substation_with_free_bay(ctx, app)
    if sub is None:
        return []
    costs = ctx.rules.get("scheme.costs_cny")
    sec, km = sub
    return [
        {
            "kind": "new_feeder",
            "from_bus_section_id": sec,
            "length_km": round(km, 2),
            "cost_cny": round(
                costs["substation_bay_and_line_fixed"] + km * costs["substation_line_per_km"]
            ),
            "duration_workdays": ctx.rules.get("scheme.upgrade_durations_workdays.new_feeder"),
            "funding_channel": funding,
        }
    ]


def _substation_with_free_bay(ctx: SchemeContext, app: Application) -> tuple[str, float] | None:
    """The nearest bus section with a free bay and capacity left, and the route km."""
    from grid_models import geodesic_m

    best: tuple[str, float] | None = None
    route = float(ctx.rules.get("scheme.candidates.route_factor"))
    for sec in ctx.model.bus_sections.values():
        if not sec.bays_free:
            continue
        sub = ctx.model.substations[sec.substation_id]
        if not (math.isfinite(sub.lon_deg) and math.isfinite(sub.lat_deg)):
            continue
        km = float(geodesic_m(app.lon_deg, app.lat_deg, sub.lon_deg, sub.lat_deg)) / 1000 * route
        if best is None or km < best[1]:
            best = (sec.id, km)
    return best
