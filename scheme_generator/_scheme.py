"""The supply scheme (供电方案) for one application, as the contract's JSON.

Policy (:mod:`scheme_generator._policy`) and maximum demand (:mod:`._demand`); candidate
points by reach with routes, sized lines and costs (:mod:`._candidates`); the solver picks
the sources (:mod:`._solver`), each of which carries the whole demand; when no point can
take it now, a transition plan whose projects are checked to close the gap (:mod:`._plan`);
honest dates per step (:mod:`._schedule`), reliability and the outage plan per option.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from grid_models import geodesic_m
from scheme_generator._application import Application
from scheme_generator._calendar import WorkCalendar, calendar_from_rules
from scheme_generator._candidates import (
    Candidate,
    CandidateSearch,
    SchemeContext,
    find_candidates,
    line_kind_at,
    nearest_distance_m,
    site_area,
    sizer_for,
)
from scheme_generator._demand import Demand, demand_of
from scheme_generator._errors import FieldProblem, InvalidApplicationError
from scheme_generator._plan import SourcePlan, plan_sources
from scheme_generator._policy import PolicyDecision, decide
from scheme_generator._reliability import combine, source_outages
from scheme_generator._schedule import build_schedule
from scheme_generator._solver import Choice, CpSatSolver, SourceRule, SourceSolver
from scheme_generator._terms import (
    dispatch,
    high_reliability_fee,
    maintenance,
    metering,
    power_quality,
    protection,
    receiving,
    source_nature,
    tariff,
    temporary_terms,
)

_LABELS = "ABCDEFGH"
NEW_POINT_KINDS = ("new_feeder_end", "new_distribution_transformer")
_OUTAGE_ORDER = ("live_work", "daily", "weekly", "biweekly", "monthly")


def generate_scheme(
    ctx: SchemeContext, app: Application, solver: SourceSolver | None = None
) -> dict[str, Any]:
    """The scheme for ``app`` on the network of ``ctx`` (nothing is stored or reserved)."""
    rules = ctx.rules
    r = rules.get("scheme")
    _check_site(ctx, app, float(r["candidates"]["max_site_distance_km"]))
    area = site_area(ctx, app.lon_deg, app.lat_deg)
    decision = decide(
        app,
        in_provincial_park=area["in_provincial_park"],
        in_urban_planning_area=area["in_urban_planning_area"],
        rules=rules,
    )
    demand = demand_of(app, rules)
    cal = calendar_from_rules(r.get("workday_overrides"))
    notes = list(decision.notes)
    warnings: list[str] = []
    decision, hv_project = _supply_level(ctx, app, decision, demand, notes)
    # above 10 kV from a bus of that voltage: capacity there is not modelled, so the scheme
    # goes to professional review (seed 三(二)1) instead of inventing 10 kV options
    review = decision.supply_voltage_kv > 10.0 + 1e-9
    search = find_candidates(
        ctx,
        decision,
        app.lon_deg,
        app.lat_deg,
        demand.demand_kva,
        objective=app.objective,
        kinds=() if review else None,
    )
    if search.routes.fallback_reason:
        warnings.append(search.routes.fallback_reason)
    builder = _OptionBuilder(ctx, app, decision, demand, cal, search)
    feasible = search.feasible
    source_sets, relax_note = _choose(
        solver or CpSatSolver(), feasible, decision, app, int(r["candidates"]["options_returned"])
    )
    if relax_note:
        notes.append(relax_note)
    options = [
        builder.option(label, [feasible[i] for i in chosen])
        for label, chosen in zip(_LABELS, source_sets, strict=False)
    ]
    options = _distinct_options(options)
    constrained = not options and not review
    plan = None
    if constrained:
        sizer = sizer_for(ctx, decision, line_kind_at(ctx, search.area_class), _level_kv(decision))
        sources = plan_sources(
            ctx, decision, search, demand.demand_kva, sizer, float(r["candidates"]["route_factor"])
        )
        interim = (
            min(p.interim_kva for p in sources)
            if sources and all(p.interim is not None for p in sources)
            else 0.0
        )
        transfers = [p.transfer for p in sources if p.transfer is not None]
        staged = builder.staged_option("A", sources, interim, demand.demand_kva)
        options = [staged] if staged else []
        plan = _transition_plan(
            ctx, app, decision, demand, cal, sources, interim, transfers, hv_project
        )
    recommended = options[0] if options else None
    schedule = (
        recommended["schedule"] if recommended else build_schedule(app, decision, cal, rules, 0)
    )
    installation = receiving(app, decision.hv, rules)
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
        "due_date": schedule["due_date"],
        "investment_boundary": decision.investment_boundary,
        "materials": list(decision.materials),
        "archive": list(decision.archive),
        "fees": _fees(decision, recommended),
        "outage_plan": recommended["outage_plan"] if recommended else decision.outage_plan,
        "constrained": constrained,
        "review_required": review,
        "options": options,
        "recommended_option_id": recommended["option_id"] if recommended else None,
        "transition_plan": plan,
        # second-round additions (contract)
        "capacity_kva": app.capacity_kva,
        "demand_kva": round(demand.demand_kva, 1),
        "demand": demand.to_dict(),
        "document": "reply_sheet" if decision.hv else "notice",
        "emergency_source": _emergency_source(app, decision, demand, rules),
        "receiving_installation": installation,
        "metering": metering(
            app,
            decision.supply_voltage_kv,
            decision.phases,
            demand.demand_kva,
            installation,
            rules,
        ),
        "tariff": tariff(
            app,
            decision.hv,
            float(installation["total_kva"]) if installation else app.capacity_kva,
            rules,
        ),
        "temporary": temporary_terms(app, demand.demand_kva, rules),
        "power_quality": power_quality(app, decision.hv),
        "dispatch": dispatch(decision.hv, decision.dedicated_line, decision.supply_voltage_kv),
        "maintenance_responsibility": maintenance(decision.investment_boundary),
        "contacts": {"customer_manager": None, "hotline": "95598"},
        "questions": [{"field": f, "why": QUESTIONS[f]} for f in decision.questions],
        # gridcap additions
        "customer": {
            "name": app.customer_name,
            "capacity_kva": app.capacity_kva,
            "business": app.business,
            "category": app.category,
            "industry": app.industry,
            "important_user_level": app.important_user_level,
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
        "candidates_considered": len(search.candidates),
        "candidate_search": search.summary(int(r["candidates"]["rejected_listed"])),
        "schedule": schedule,
        "next_voltage_project": hv_project,
        "network": {"id": ctx.model.id, "version": ctx.model.version},
        "rules_version": rules.version,
        "notes": notes,
        "warnings": sorted(
            set(cal.warnings)
            | set(warnings)
            | set(_late(options, app))
            | {QUESTIONS[f] for f in decision.questions}
        ),
    }
    return scheme


#: Why a scheme asks for a field it was not given (``questions``; the page asks for it).
QUESTIONS = {
    "land_right_date": "用电地址位于城市规划区，土地使用权取得日期决定投资界面"
    "（豫政办〔2021〕66号）：2021年3月1日以后取得的，电网投资至建筑区划红线。请提供土地使用权取得日期；"
    "未提供前，本方案按接入点界面测算，客户承担的费用可能偏高。",
}


def _fees(decision: PolicyDecision, option: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The fees (objects with ``code``): only the high-reliability fee, with the amount of
    the recommended option (each option carries its own in ``fees``)."""
    out: list[dict[str, Any]] = []
    for code in decision.fees:
        entry: dict[str, Any] = {"code": code}
        own = next((f for f in (option or {}).get("fees", []) if f["code"] == code), None)
        if own is not None:
            entry.update(own)
        out.append(entry)
    return out


def _check_site(ctx: SchemeContext, app: Application, limit_km: float) -> None:
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


def _level_kv(decision: PolicyDecision) -> float:
    if decision.hv:
        return decision.supply_voltage_kv
    return 0.22 if decision.phases == 1 else 0.38


def _supply_level(
    ctx: SchemeContext,
    app: Application,
    decision: PolicyDecision,
    demand: Demand,
    notes: list[str],
) -> tuple[PolicyDecision, dict[str, Any] | None]:
    """Above 10 kV the supply needs a bus of that voltage in reach. Without one the customer
    is supplied at 10 kV over as many circuits as the demand needs (dedicated, from
    substation bays), and the scheme proposes the bay project for the higher voltage."""
    voltage = decision.supply_voltage_kv
    if voltage <= 10.0 + 1e-9:
        return decision, None
    r = ctx.rules.get("scheme.hv_supply")
    key = int(round(voltage))
    radius = float(r["supply_radius_m"].get(key, r["supply_radius_m"].get(str(key), 0.0)))
    site = _nearest_substation(ctx, app)
    has_bus = _has_bus_at(ctx, voltage, app, radius)
    project = None
    if site is not None:
        sub_id, km = site
        cost = r["bay_project"].get(key) or r["bay_project"].get(str(key))
        route = km * float(ctx.rules.get("scheme.candidates.route_factor"))
        funding = ctx.rules.get("scheme.funding_channel")
        project = {
            "kind": "hv_bay",
            "voltage_kv": voltage,
            "substation_id": sub_id,
            "description": f"{ctx.model.substations[sub_id].name} 新建{voltage:.0f}kV出线间隔及线路"
            f" {route:.1f} km",
            "length_km": round(route, 2),
            "cost_cny": round(float(cost["fixed_cny"]) + route * float(cost["per_km_cny"])),
            "duration_workdays": int(cost["workdays"]),
            "funding_channel": funding["hv35" if key == 35 else "hv110_220"],
            "bus_exists": has_bus,
        }
    if has_bus:
        notes.append(
            f"申请容量宜以{voltage:.0f}千伏供电，可达范围内有{voltage:.0f}千伏母线；"
            "该电压等级的可开放容量未纳入本模型，方案转人工专业审查"
        )
        return decision, project
    notes.append(
        f"申请容量{app.capacity_kva:.0f}千伏安宜以{voltage:.0f}千伏供电，但{radius / 1000:.0f}"
        f"千米内无{voltage:.0f}千伏母线：暂由变电站10千伏间隔专线供电（回路数按负荷电流确定），"
        f"并提出{voltage:.0f}千伏间隔工程"
    )
    ten = replace(decision, supply_voltage_kv=10.0, dedicated_line=True)
    return ten, project


def _nearest_substation(ctx: SchemeContext, app: Application) -> tuple[str, float] | None:
    best: tuple[str, float] | None = None
    for s in ctx.model.substations.values():
        if not (math.isfinite(s.lon_deg) and math.isfinite(s.lat_deg)):
            continue
        km = float(geodesic_m(app.lon_deg, app.lat_deg, s.lon_deg, s.lat_deg)) / 1000.0
        if best is None or km < best[1]:
            best = (s.id, km)
    return best


def _has_bus_at(ctx: SchemeContext, voltage: float, app: Application, radius_m: float) -> bool:
    """A substation bus of ``voltage`` feeding no main transformer from above (a bus a
    customer bay could be added to) within ``radius_m``."""
    bus = ctx.model.net.bus
    for s in ctx.model.substations.values():
        if not math.isfinite(s.lon_deg):
            continue
        near = float(geodesic_m(app.lon_deg, app.lat_deg, s.lon_deg, s.lat_deg)) <= radius_m
        if near and any(abs(float(bus.at[b, "vn_kv"]) - voltage) < 0.5 for b in s.buses):
            return True
    return False


def _choose(
    solver: SourceSolver,
    feasible: list[Candidate],
    decision: PolicyDecision,
    app: Application,
    k: int,
) -> tuple[list[tuple[int, ...]], str | None]:
    choices = [
        Choice(
            cost=int(round(c.cost_total_cny if app.objective == "cheapest" else c.length_m * 100)),
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
            "可达范围内没有两座变电站同时具备容量：两路电源取自同一变电站的不同母线段"
            if relaxed
            else None
        )
    return solver.solve(choices, SourceRule(count, distinct_sections=True), k), None


def _distinct_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Options that differ only in a point of the same station and the same figures are
    one choice for the customer: keep the first, relabel in order."""
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for o in options:
        key = tuple(
            (
                s["feeder_id"] or s["connection_point_id"],
                s["connection_point_kind"],
                round(s["length_m"], -1),
                s["conductor"]["type"] if s["conductor"] else None,
            )
            for s in o["sources"]
        ) + (round(o["cost_cny"]["total"], -3),)
        if key in seen:
            continue
        seen.add(key)
        out.append(o | {"option_id": _LABELS[len(out)]})
    return out


class _OptionBuilder:
    """Options of one scheme: sources with their lines, costs, dates, reliability, outages."""

    def __init__(
        self,
        ctx: SchemeContext,
        app: Application,
        decision: PolicyDecision,
        demand: Demand,
        cal: WorkCalendar,
        search: CandidateSearch,
    ) -> None:
        self.ctx, self.app, self.decision, self.demand = ctx, app, decision, demand
        self.cal, self.search = cal, search
        self.rules = ctx.rules

    def source(self, c: Candidate, role: str, carries_kva: float) -> dict[str, Any]:
        new = c.kind in NEW_POINT_KINDS
        if new:
            route = c.route
        else:
            route = self.search.routes.route(self.ctx.ids.index(c.connection_point_id), True)
        feeder = self.ctx.model.feeders.get(c.feeder_id) if c.feeder_id else None
        return {
            "role": role,
            "nature": source_nature(
                role, self.decision.sources_required, self.app.important_user_level
            ),
            "connection_point_id": c.connection_point_id,
            "connection_point_name": c.name,
            "connection_point_kind": c.kind,
            "equipment": c.equipment,
            "substation_id": c.substation_id,
            "substation_name": self.ctx.model.substations[c.substation_id].name
            if c.substation_id in self.ctx.model.substations
            else None,
            "bus_section_id": c.bus_section_id,
            "bus_section_name": self.ctx.model.bus_sections[c.bus_section_id].name
            if c.bus_section_id in self.ctx.model.bus_sections
            else None,
            "feeder_id": c.feeder_id,
            "feeder_name": feeder.name if feeder else None,
            "bus_voltage_kv": c.bus_voltage_kv,
            "line_type": c.line_type,
            "circuits": c.circuits,
            "conductor": c.design.to_dict() if c.design else None,
            "route": route.to_dict(),
            "length_m": round(c.length_m, 1) if math.isfinite(c.length_m) else None,
            "carries_kva": round(carries_kva, 1),
            # a point the projects build offers nothing before them
            "openable_kva_before": 0.0 if new else round(c.openable_kva, 1),
            "openable_kva_after": round(c.openable_kva - carries_kva, 1),
            "voltage_drop_percent": round(c.voltage_drop_percent, 2),
            "cost_cny": round(c.cost_total_cny),
        }

    def option(
        self,
        label: str,
        chosen: list[Candidate],
        *,
        carries_kva: float | None = None,
        projects: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        carries = self.demand.demand_kva if carries_kva is None else carries_kva
        sources = [
            self.source(c, "main" if i == 0 else "backup", carries) for i, c in enumerate(chosen)
        ]
        line = sum(c.cost_line_cny for c in chosen)
        equipment = sum(c.cost_equipment_cny for c in chosen)
        projects = projects or []
        project_days = max((int(p["duration_workdays"]) for p in projects), default=0)
        supporting = bool(projects)
        schedule = build_schedule(self.app, self.decision, self.cal, self.rules, project_days)
        return {
            "option_id": label,
            "sources": sources,
            "supporting_project": supporting,
            "supporting_projects": projects,
            "cost_cny": _split_cost(self.decision, line, equipment),
            "time_limit_workdays": self.decision.time_limit_workdays(supporting, self.rules),
            "due_date": schedule["due_date"],
            "schedule": schedule,
            "length_m_total": round(
                sum(c.length_m for c in chosen if math.isfinite(c.length_m)), 1
            ),
            "reliability": self.reliability(chosen),
            "outage_plan": self.outage_plan(chosen),
            "supporting_project_contract_date": _contract_date(schedule, supporting),
            "fees": self.fees(sources),
            "protection": protection(
                [str(x["connection_point_kind"]) for x in sources], self.decision.hv
            ),
        }

    def fees(self, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """This option's fees: the high-reliability fee on its circuits but the largest."""
        if "high_reliability_fee" not in self.decision.fees:
            return []
        fee = high_reliability_fee(
            sources,
            self.decision.supply_voltage_kv,
            self.app.capacity_kva,
            self.demand.demand_kva,
            self.rules,
        )
        return [fee] if fee else []

    def staged_option(
        self, label: str, plans: list[SourcePlan], interim: float, demand_kva: float
    ) -> dict[str, Any] | None:
        """The constrained customer's option. With interim capacity: connected now where
        it is, every source carrying it alone, the rest once the projects are built.
        Without: connected where the projects give the full demand, once they are built.
        Neither: no option (the plan says what remains)."""
        if not plans:
            return None
        projects = [p for plan in plans for p in plan.projects]
        if interim > 0:
            # a line that stays for the full demand is sized for it; a temporary one for
            # what it carries now
            chosen = [
                p.interim
                if p.interim is p.final and p.final.design is not None
                else self._resized(p.interim, interim)
                for p in plans
                if p.interim is not None
            ]
            option = self.option(label, chosen, carries_kva=interim, projects=projects)
            option["stage"] = "interim"
        elif all(p.closed for p in plans):
            chosen = [p.final for p in plans]
            option = self.option(label, chosen, carries_kva=demand_kva, projects=projects)
            option["stage"] = "after_projects"
            for source, plan in zip(option["sources"], plans, strict=True):
                source["openable_kva_after_projects"] = round(plan.capacity_after_kva, 1)
                source["openable_kva_after"] = round(plan.capacity_after_kva - demand_kva, 1)
        else:
            return None
        option["interim_capacity_kva"] = round(interim, 1)
        option["final_connection_point_ids"] = [p.final.connection_point_id for p in plans]
        return option

    def _resized(self, c: Candidate, kva: float) -> Candidate:
        """The candidate with its line sized for ``kva`` instead of the full demand."""
        sizer = sizer_for(
            self.ctx,
            self.decision,
            c.line_type,
            c.bus_voltage_kv if self.decision.hv else _level_kv(self.decision),
        )
        limit = float(
            self.rules.get("scheme.voltage_drop_max_percent")["mv" if self.decision.hv else "lv"]
        )
        design = sizer.design(kva, c.length_m, limit - c.base_drop_percent, max(1, c.max_circuits))
        if design is None:
            return c
        return replace(
            c, design=design, voltage_drop_percent=c.base_drop_percent + design.drop_percent
        )

    def reliability(self, chosen: list[Candidate]) -> dict[str, Any] | None:
        if not chosen:
            return None
        parts = [
            source_outages(
                self.ctx.model,
                c.connection_point_id,
                self.rules,
                (c.length_m / 1000.0) if math.isfinite(c.length_m) else 0.0,
                c.line_type,
            )
            for c in chosen
        ]
        area = self.ctx.model.connection_points[chosen[0].connection_point_id].area_class
        return combine(parts, area, self.rules)

    def outage_plan(self, chosen: list[Candidate]) -> str:
        """From what the connection disturbs (seed 三(二)6): the worst of its sources."""
        plans = self.rules.get("scheme.outage_plan")
        if self.decision.supply_voltage_kv >= 35:
            return str(plans["hv35_or_above"])
        if not self.decision.hv:
            return str(plans["live_work"])
        by = plans["by_connection"]
        found = [str(by.get(c.equipment, plans["mv"])) for c in chosen] or [str(plans["mv"])]
        return max(found, key=_OUTAGE_ORDER.index)


def _late(options: list[dict[str, Any]], app: Application) -> list[str]:
    """Where a date cannot keep a rule: a project longer than the limit, or one that ends
    after the customer's own works (seed 三(二)5: supporting works finish no later)."""
    out: list[str] = []
    works = app.customer_works_date.isoformat() if app.customer_works_date else None
    for o in options:
        s = o["schedule"]
        end = o.get("supporting_project_contract_date")
        if works and end and end > works:
            out.append(
                f"方案{o['option_id']}：配套工程预计{end}完成，晚于客户工程完成日期{works}；"
                "配套工程应不晚于客户工程完成，需加快实施或与客户协商"
            )
        if not s["within_time_limit"]:
            out.append(
                f"方案{o['option_id']}：配套工程需{s['supporting_project_workdays']}个工作日，"
                f"无法满足{s['time_limit_workdays']}个工作日的办电时限，预计接电日期"
                f"{s['due_date']}"
            )
    return out


def _contract_date(schedule: dict[str, Any], supporting: bool) -> str | None:
    """契约制: the date agreed with the customer for the supporting project: its own end
    (a date earlier than the works would be a broken promise)."""
    if not supporting:
        return None
    return next(
        (s["due_date"] for s in schedule["steps"] if s["step"] == "supporting_project"), None
    )


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


def _emergency_source(
    app: Application, decision: PolicyDecision, demand: Demand, rules: Any
) -> dict[str, Any] | None:
    """自备应急电源: at least 120 % of the security load (保安负荷), for special, first and
    second level users; the security load from the application, else a share of demand
    flagged as an estimate."""
    r = rules.get("scheme.emergency_source")
    level = app.important_user_level
    if not decision.hv or level not in r["levels"]:
        return None
    given = app.security_load_kva is not None
    security = (
        float(app.security_load_kva)
        if app.security_load_kva is not None
        else demand.demand_kva * float(r["security_load_share"][level])
    )
    return {
        "security_load_kva": round(security, 1),
        "min_kva": float(math.ceil(security * float(r["min_ratio"]))),
        "min_ratio": float(r["min_ratio"]),
        "basis": "application" if given else "default_share",
        "estimated": not given,
        "kinds": list(r["kinds"]),
        "non_electric_measures": list(r["non_electric_measures"]),
    }


def _transition_plan(
    ctx: SchemeContext,
    app: Application,
    decision: PolicyDecision,
    demand: Demand,
    cal: WorkCalendar,
    plans: list[SourcePlan],
    interim: float,
    transfers: list[dict[str, Any]],
    hv_project: dict[str, Any] | None,
) -> dict[str, Any]:
    """先接入、后改造: what the grid gives now (each source carrying it alone), the projects
    that give the rest, checked by recomputation, and the dates of both."""
    r = ctx.rules.get("scheme")
    need = demand.demand_kva
    measures: list[dict[str, Any]] = []
    if plans and interim > 0:
        measures.append(
            {
                "kind": "partial_connection",
                "connection_point_ids": [
                    p.interim.connection_point_id for p in plans if p.interim is not None
                ],
                "capacity_kva": round(interim, 1),
                "each_source_carries_kva": round(interim, 1),
            }
        )
    measures += transfers
    projects = [
        p | {"funding_channel": _funding(ctx, float(p.get("voltage_kv", 10.0)))}
        for plan in plans
        for p in plan.projects
    ]
    remaining = max((p.remaining_kva(need) for p in plans), default=need)
    if len(plans) < decision.sources_required:
        remaining = need
    if hv_project is not None and remaining > 0:
        projects.append(hv_project | {"capacity_after_kva": None, "checked_by": "not_modelled"})
    measures.append(
        {
            "kind": "staged",
            "stages": [
                {"stage": 1, "capacity_kva": round(interim, 1), "when": "at connection"},
                {
                    "stage": 2,
                    "capacity_kva": round(max(interim, need - remaining), 1),
                    "when": "after the upgrade projects",
                },
            ],
        }
    )
    measures += [{"kind": "upgrade", "project": p["kind"]} for p in projects]
    interim_schedule = build_schedule(app, decision, cal, ctx.rules, 0)
    days = max((int(p["duration_workdays"]) for p in projects), default=0)
    full_schedule = build_schedule(app, decision, cal, ctx.rules, days) if days else None
    first = plans[0].final.connection_point_id if plans else None
    return {
        "interim_capacity_kva": round(interim, 1),
        "demand_kva": round(need, 1),
        "final_sources": [
            {
                "connection_point_id": p.final.connection_point_id,
                "kind": p.final.kind,
                "name": p.final.name,
                "capacity_after_kva": round(max(p.capacity_after_kva, 0.0), 1),
                "same_as_interim": p.interim is p.final,
            }
            for p in plans
        ],
        "interim_connection_date": interim_schedule["due_date"] if interim > 0 else None,
        "full_demand_date": full_schedule["due_date"] if full_schedule and remaining <= 0 else None,
        "closes_gap": remaining <= 1e-6,
        "remaining_kva": round(remaining, 1),
        "measures": measures,
        "upgrade_projects": projects,
        "restricted_report_due": cal.add_workdays(
            app.application_date, int(r["time_limits_workdays"]["restricted_report"])
        ).isoformat(),
        "limited_by": ctx.points[first].limited_by if first else None,
    }


def _funding(ctx: SchemeContext, voltage_kv: float) -> str:
    """The funding channel of a supporting project, by the level of its works (seed
    三(二)5): 110/220 kV the annual investment plan, 35 kV decision then plan, 10 kV the
    project package (the customer needs supply now: within 3 months of the application
    counts as an emergency), 400 V the annual cost plan."""
    channel = ctx.rules.get("scheme.funding_channel")
    if voltage_kv >= 110:
        return str(channel["hv110_220"])
    if voltage_kv >= 35:
        return str(channel["hv35"])
    if voltage_kv >= 1:
        return str(channel["mv_emergency"])
    return str(channel["lv"])
