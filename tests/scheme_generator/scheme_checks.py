"""The rules of domain §6 checked on a finished scheme, independently of the code that made
it: used by the scheme tests and by ``bench/bench_schemes.py`` on 1 000 applications.

Each check reads only the scheme JSON, the application and the capacity context, and works
its figures out again: each source carries the whole demand and has the capacity for it
(or, constrained, no more than the point offers now, or after the projects); the
conductor's rating carries the current computed here from the demand; the switchgear limit
per circuit; the voltage at the customer within its limit; the supply voltage is the
source bus's; no date before the works it depends on; a plan that says it closes the gap
does, and each project's capacity-after recomputed here agrees; important users have an
emergency source of ≥ 120 % of the security load.
"""

from __future__ import annotations

import math
from typing import Any


def violations(scheme: dict[str, Any], raw: dict[str, Any], ctx: Any, recheck: bool) -> list[str]:
    """Every rule of domain §6 that ``scheme`` breaks, worked out independently."""
    rules = ctx.rules
    r = rules.get("scheme")
    out: list[str] = []
    demand = float(scheme["demand_kva"])
    hv = scheme["supply_voltage_kv"] >= 1.0
    level = "mv" if hv else "lv"
    drop_limit = float(r["voltage_drop_max_percent"][level])
    plan = scheme.get("transition_plan")
    for o in scheme["options"]:
        carried = {s["carries_kva"] for s in o["sources"]}
        if len(carried) > 1:
            out.append(f"{o['option_id']}: the load is split across sources {sorted(carried)}")
        feeders = [s["feeder_id"] or s["connection_point_id"] for s in o["sources"]]
        if len(set(feeders)) != len(feeders):
            out.append(f"{o['option_id']}: two sources on one feeder")
        if len(o["sources"]) < scheme["sources_required"] and not scheme["constrained"]:
            out.append(f"{o['option_id']}: fewer sources than required")
        for s in o["sources"]:
            out += _source_violations(o, s, scheme, demand, drop_limit, hv, ctx)
        out += _date_violations(o)
    if scheme["constrained"] and plan:
        out += _plan_violations(scheme, plan, demand, ctx, recheck)
    level_kv = scheme["supply_voltage_kv"]
    if hv:
        for o in scheme["options"]:
            for s in o["sources"]:
                if abs(s["bus_voltage_kv"] - level_kv) > 1e-6:
                    out.append(f"supply {level_kv} kV from a {s['bus_voltage_kv']} kV bus")
    es = scheme.get("emergency_source")
    level_iu = raw.get("important_user_level")
    if (
        hv
        and level_iu in ("special", "first", "second")
        and (not es or es["min_kva"] < 1.2 * es["security_load_kva"] - 1e-6)
    ):
        out.append("important user without an emergency source of ≥ 120 % security load")
    return out


def _source_violations(
    o: dict[str, Any],
    s: dict[str, Any],
    scheme: dict[str, Any],
    demand: float,
    drop_limit: float,
    hv: bool,
    ctx: Any,
) -> list[str]:
    out = []
    point = ctx.points[s["connection_point_id"]]
    carries = float(s["carries_kva"])
    if not scheme["constrained"]:
        if abs(carries - demand) > 0.1:
            out.append(f"{o['option_id']}: a source carries {carries} of {demand} kVA")
        if point.openable_kva < demand - 1e-6:
            out.append(f"{o['option_id']}: {point.id} offers {point.openable_kva:.0f} < {demand}")
    elif o.get("stage") == "interim":
        plan = scheme["transition_plan"]
        freed = sum(m["freed_kva"] for m in plan["measures"] if m["kind"] == "load_transfer")
        if carries > max(point.openable_kva, 0.0) + freed + 0.1:
            out.append(f"{o['option_id']}: interim {carries} > openable {point.openable_kva:.0f}")
    elif abs(carries - demand) > 0.1 or s["openable_kva_after_projects"] < demand - 0.1:
        out.append(
            f"{o['option_id']}: after projects {s['openable_kva_after_projects']} < {demand}"
        )
    c = s["conductor"]
    if c is None:
        out.append(f"{o['option_id']}: a source without a sized conductor")
        return out
    volt = scheme["supply_voltage_kv"]
    phases = scheme["phases"]
    sized_for = carries if o.get("stage") == "interim" else demand
    amps = sized_for / (volt if phases == 1 else math.sqrt(3) * volt) / s["circuits"]
    if c["rating_a"] < amps - 0.5:
        out.append(f"{o['option_id']}: {c['type']} rated {c['rating_a']} A < {amps:.0f} A")
    switch = float(ctx.rules.get("scheme.sizing.switchgear_limit_a")["mv" if hv else "lv"])
    if amps > switch + 0.5:
        out.append(f"{o['option_id']}: {amps:.0f} A per circuit > switchgear {switch:.0f} A")
    if s["voltage_drop_percent"] > drop_limit + 1e-6:
        out.append(f"{o['option_id']}: {s['voltage_drop_percent']} % drop > {drop_limit} %")
    return out


def _date_violations(o: dict[str, Any]) -> list[str]:
    out = []
    sch = o["schedule"]
    works = [st["due_date"] for st in sch["steps"] if st["step"] == "supporting_project"]
    conn = [st["due_date"] for st in sch["steps"] if st["step"] == "metering_connection"]
    if works and conn and conn[0] < max(works):
        out.append(f"{o['option_id']}: connection {conn[0]} before its works end {max(works)}")
    if o["due_date"] < max((st["due_date"] for st in sch["steps"] if st["due_date"]), default=""):
        out.append(f"{o['option_id']}: due {o['due_date']} before a step it depends on")
    projects = o.get("supporting_projects") or []
    if projects and not works:
        out.append(f"{o['option_id']}: supporting projects without their time")
    return out


def _plan_violations(
    scheme: dict[str, Any], plan: dict[str, Any], demand: float, ctx: Any, recheck: bool
) -> list[str]:
    out = []
    projects = plan["upgrade_projects"]
    if plan["closes_gap"]:
        last = projects[-1]["capacity_after_kva"] if projects else None
        if last is None or last < demand - 1e-6:
            out.append(f"plan says it closes the gap but ends at {last} < {demand}")
        if plan["full_demand_date"] is None:
            out.append("a plan that closes the gap without a full-demand date")
    dates = (plan["full_demand_date"], plan["interim_connection_date"])
    if all(dates) and dates[0] < dates[1]:
        out.append("full demand before the interim connection")
    finals = plan.get("final_sources") or []
    if recheck and len(finals) == 1:
        out += _recheck(projects, finals[0]["connection_point_id"], demand, ctx)
    return out


def _recheck(projects: list[dict[str, Any]], cp: str, demand: float, ctx: Any) -> list[str]:
    """Each project's capacity-after worked out again here."""
    from capacity import HostingCriteria, point_capacity_after

    out = []
    grid = [p for p in projects if p["kind"] in _GRID_PROJECTS]
    for k, p in enumerate(projects):
        said = p["capacity_after_kva"]
        if said is None:
            continue
        if p["kind"] == "new_feeder":
            got = ctx.points[p["from_connection_point_id"]].openable_kva
        elif p["kind"] == "new_distribution_transformer":
            lam = float(ctx.rules.get("capacity.distribution_transformer_load_rate"))
            from grid_models import load_catalogue

            size = load_catalogue().transformer_type(p["new_type"]).sn_kva
            got = min(ctx.points[p["from_connection_point_id"]].openable_kva, size * lam)
        else:
            upto = grid[: grid.index(p) + 1]
            # a full recomputation: rules and a new AC search, nothing skipped
            got = point_capacity_after(
                ctx.model,
                cp,
                _projects_of(upto),
                ctx.reservations,
                rules=ctx.rules,
                criteria=HostingCriteria.from_rules(ctx.rules),
            ).openable_kva
        if abs(got - said) > max(1.0, 0.01 * abs(said)):
            out.append(f"{cp}: capacity after project {k + 1} is {got:.0f}, the plan says {said}")
    return out


_GRID_PROJECTS = (
    "reconductor",
    "distribution_transformer_replacement",
    "main_transformer_replacement",
)


def _projects_of(dicts: list[dict[str, Any]]) -> list[Any]:
    """The plan's projects rebuilt from their JSON (line → type, transformer → type)."""
    from capacity import Project

    out = []
    for p in dicts:
        if p["kind"] == "reconductor":
            pairs = tuple((int(i), str(t)) for i, t in p["line_types"])
            out.append(Project("reconductor", p["element_id"], "", 0.0, 0, pairs))
        else:
            pair = (str(p["element_id"]), str(p["new_type"]))
            out.append(Project(p["kind"], p["element_id"], "", 0.0, 0, transformer=pair))
    return out
