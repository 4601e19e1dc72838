"""The transition plan (过渡方案, "先接入、后改造") for a customer the grid cannot take now.

What the grid gives now: the candidates that can carry the most today, each source
carrying the whole interim load on its own (a load is never split across sources). What
gives the rest: for the most promising points, the supporting projects that close the gap
— each checked by recomputing the point's capacity with it in place
(:func:`capacity.close_gap`) — and, beside them, a new 10 kV feeder from a bus section with
room (MV) or a new public transformer (LV); the cheapest set that covers the demand wins,
or the plan says what remains.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from capacity import GapPlan, HostingCriteria, PointAfter, PointCapacity, close_gap
from grid_models import CatalogueError, geodesic_m, load_catalogue
from scheme_generator._candidates import Candidate, CandidateSearch, Reason, SchemeContext
from scheme_generator._policy import PolicyDecision
from scheme_generator._routes import Route
from scheme_generator._sizing import Sizer

_STUDIED = 4  # points whose gap is closed by projects, the best by interim room and cost


@dataclass
class SourcePlan:
    """One source of a constrained option: where it connects now and for the full demand,
    what it carries now, and the projects in between."""

    final: Candidate
    interim: Candidate | None
    interim_kva: float
    gap: GapPlan | None = None
    projects: list[dict[str, Any]] = field(default_factory=list)
    alternative: str | None = None  # new_feeder | new_distribution_transformer
    transfer: dict[str, Any] | None = None  # a load transfer that gives the interim room

    @property
    def cost_cny(self) -> float:
        return sum(float(p["cost_cny"]) for p in self.projects)

    @property
    def duration_workdays(self) -> int:
        return max((int(p["duration_workdays"]) for p in self.projects), default=0)

    @property
    def closed(self) -> bool:
        if self.final.design is None:
            return False
        return self.alternative is not None or (self.gap is not None and self.gap.closed)

    @property
    def capacity_after_kva(self) -> float:
        if self.alternative is not None:
            return float(self.projects[-1]["capacity_after_kva"])
        return self.gap.after.openable_kva if self.gap is not None else self.final.openable_kva

    def remaining_kva(self, demand_kva: float) -> float:
        """What the plan leaves unsupplied: the demand less the most it reaches, now or
        after its projects."""
        reach = max(self.capacity_after_kva if self.final.design else 0.0, self.interim_kva)
        return max(0.0, demand_kva - reach)


def interim_kva(
    c: Candidate,
    demand_kva: float,
    drop_limit: float,
    sizer: Sizer,
    openable_kva: float | None = None,
) -> float:
    """What a candidate can carry now: its openable capacity (or ``openable_kva``), what
    one connection there can carry (circuits × the largest permitted conductor), and the
    load at which the voltage at the customer reaches its limit with the largest
    conductor."""
    codes = set(c.reason_codes)
    if codes & {"distance", "no_route", "bays"}:
        return 0.0
    openable = c.openable_kva if openable_kva is None else openable_kva
    room = min(max(openable, 0.0), demand_kva)
    circuits = max(1, c.max_circuits)
    one = sizer.max_circuit_a * circuits
    if sizer.phases == 1:
        room = min(room, one * sizer.voltage_kv)
    else:
        room = min(room, one * math.sqrt(3.0) * sizer.voltage_kv)
    budget = drop_limit - c.base_drop_percent
    if budget <= 0:
        return 0.0
    biggest = sizer.types[-1][0] if sizer.types else None
    if biggest is not None and math.isfinite(c.length_m):
        km = c.length_m / 1000.0
        loop = 2.0 if sizer.phases == 1 else 1.0
        pf = sizer.power_factor
        per_kva = (
            loop
            * km
            / circuits
            * (pf * biggest.r_ohm_per_km + math.sqrt(1 - pf * pf) * biggest.x_ohm_per_km)
            / 1000.0
            / (sizer.voltage_kv**2)
            * 100.0
        )
        if per_kva > 0:
            room = min(room, budget / per_kva)
    # to 0.1 kVA below, so a line sized for it keeps the drop strictly within the limit
    return max(0.0, math.floor(room * 10.0) / 10.0)


def load_transfer(
    ctx: SchemeContext, c: Candidate, demand_kva: float
) -> tuple[float, dict[str, Any]] | None:
    """More room now where the point's feeder binds (often its N-1 load-rate limit): the
    tail of the feeder moved to a tie partner, checked by an AC power flow, never the part
    that feeds the point itself. The feeder's own C2 rises by what is freed; everything
    else on the point's path, its AC capacity and the bus section still bound it. Returns
    the openable capacity with the transfer and the measure."""
    point = ctx.points[c.connection_point_id]
    limited = point.limited_by
    rc = ctx.rule_cap
    if not limited.startswith("fd:") or rc is None:
        return None
    path = ctx.model.supply_path(c.connection_point_id)
    own_lines = {ln for e in path if e in ctx.model.segments for ln in ctx.model.segments[e].lines}
    relief = next(
        (x for x in ctx.transfer_relief(limited) if x.ok and x.opened_line not in own_lines), None
    )
    if relief is None:
        return None
    others = [
        rc.elements[e].c2_kva
        for e in path[1:]
        if e in rc.elements and e != limited and not e.startswith(("bs:", "mt:", "sub:"))
    ]
    upstream = rc.elements[ctx.model.feeders[limited].bus_section_id].openable_kva
    after = min([rc.elements[limited].c2_kva + relief.freed_kva, point.ac_kva, upstream, *others])
    if after <= max(point.openable_kva, 0.0) + 1e-6:
        return None
    return after, {
        "kind": "load_transfer",
        "connection_point_id": c.connection_point_id,
        "feeder_id": limited,
        "tie_id": relief.tie_id,
        "to_feeder_id": relief.partner_id,
        "open_line": relief.opened_line,
        "freed_kva": round(relief.freed_kva, 1),
        "openable_after_kva": round(after, 1),
        "partner_max_loading_percent": round(relief.partner_max_loading_percent, 1),
        "checked_by": "ac_power_flow",
    }


def plan_sources(
    ctx: SchemeContext,
    decision: PolicyDecision,
    search: CandidateSearch,
    demand_kva: float,
    sizer: Sizer,
    route_factor: float,
) -> list[SourcePlan]:
    """The sources of the staged option: interim now, projects for the full demand."""
    r = ctx.rules.get("scheme")
    drop_limit = float(r["voltage_drop_max_percent"]["mv" if decision.hv else "lv"])
    near = [c for c in search.candidates if not {"distance", "no_route"} & set(c.reason_codes)]
    room = {c.connection_point_id: interim_kva(c, demand_kva, drop_limit, sizer) for c in near}
    transfers: dict[str, dict[str, Any]] = {}
    feeder_bound = [c for c in near if ctx.points[c.connection_point_id].limited_by[:3] == "fd:"]
    for c in sorted(feeder_bound, key=lambda c: c.cost_total_cny)[:_STUDIED]:
        found = load_transfer(ctx, c, demand_kva)
        if found is None:
            continue
        with_transfer = interim_kva(c, demand_kva, drop_limit, sizer, openable_kva=found[0])
        if with_transfer > room[c.connection_point_id]:
            room[c.connection_point_id] = with_transfer
            transfers[c.connection_point_id] = found[1] | {
                "interim_after_kva": round(with_transfer, 1)
            }
    ranked = sorted(near, key=lambda c: (-room[c.connection_point_id], c.cost_total_cny))
    criteria = HostingCriteria.from_rules(ctx.rules)
    plans: list[SourcePlan] = []
    for _ in range(decision.sources_required):
        taken = [p.final for p in plans] + [p.interim for p in plans if p.interim]
        pool = [c for c in ranked if _distinct(c, taken, decision)]
        best = _best_plan(ctx, search, pool, demand_kva, room, criteria, decision, sizer, taken)
        if best is None:
            break
        if best.interim is not None:
            best.transfer = transfers.get(best.interim.connection_point_id)
        plans.append(best)
    return plans


def _distinct(c: Candidate, taken: list[Candidate], decision: PolicyDecision) -> bool:
    """Never two sources on one feeder; different substations (first/special level) or
    bus sections (others) where the rule asks for it."""
    for t in taken:
        if (c.feeder_id or c.connection_point_id) == (t.feeder_id or t.connection_point_id):
            return False
        if c.bus_section_id and c.bus_section_id == t.bus_section_id:
            return False
        if decision.sources_from_different_substations and c.substation_id == t.substation_id:
            return False
    return True


def _best_plan(
    ctx: SchemeContext,
    search: CandidateSearch,
    pool: list[Candidate],
    demand_kva: float,
    room: dict[str, float],
    criteria: HostingCriteria,
    decision: PolicyDecision,
    sizer: Sizer,
    taken: list[Candidate],
) -> SourcePlan | None:
    """Among the most promising points, the cheapest whose projects close the gap (else
    the one that comes closest); a new feeder or transformer where that is cheaper."""
    studied: dict[str, SourcePlan] = {}
    ahead: list[tuple[float, int, Candidate]] = []  # (lower bound of its total, order, c)
    for order, c in enumerate(pool[:_STUDIED]):
        now = room[c.connection_point_id]
        if c.design is None:  # no line from here could carry the demand to the site
            studied[c.connection_point_id] = SourcePlan(c, c if now > 0 else None, now)
            continue
        # The rule-based recomputation alone first (in the path's length): what the projects
        # must cost at least. The AC searches, the dear part, then run cheapest first and
        # stop once a plan that closes costs less than what any other could.
        rough = close_gap(
            ctx.model,
            c.connection_point_id,
            demand_kva,
            rules=ctx.rules,
            base=ctx.state.base,
            reserved=ctx.state.reserved,
        )
        bound = c.cost_total_cny + rough.cost_cny if rough.closed else math.inf
        ahead.append((bound, order, c))
    best_total = math.inf
    for bound, _, c in sorted(ahead, key=lambda x: (x[0], x[1])):
        if bound >= best_total and math.isfinite(best_total):
            break  # neither this nor any after it can cost less than a plan that closes
        plan = _checked_plan(ctx, c, demand_kva, room, criteria)
        studied[c.connection_point_id] = plan
        if plan.closed:
            best_total = min(best_total, c.cost_total_cny + plan.cost_cny)
    if not math.isfinite(best_total):  # nothing closes: every point's honest remainder
        for _, _, c in ahead:
            if c.connection_point_id not in studied:
                studied[c.connection_point_id] = _checked_plan(ctx, c, demand_kva, room, criteria)
    plans = [
        studied[c.connection_point_id] for c in pool[:_STUDIED] if c.connection_point_id in studied
    ]
    return _choose_plan(ctx, search, pool, demand_kva, room, decision, sizer, taken, plans)


def _checked_plan(
    ctx: SchemeContext,
    c: Candidate,
    demand_kva: float,
    room: dict[str, float],
    criteria: HostingCriteria,
) -> SourcePlan:
    """The projects that close ``c``'s gap, each step recomputed (rules and AC)."""
    now = room[c.connection_point_id]
    point = ctx.points[c.connection_point_id]
    memo = ctx.state.ac_memo(c.connection_point_id)  # before the reservations it keeps
    gap = close_gap(
        ctx.model,
        c.connection_point_id,
        demand_kva,
        ctx.reservations,
        rules=ctx.rules,
        criteria=criteria,
        start=PointAfter(point.openable_kva, point.rules_kva, point.ac_kva, point.limited_by),
        base=ctx.state.base,
        reserved=ctx.state.reserved,
        memo=memo,
    )
    projects = [
        p.to_dict() | {"capacity_after_kva": round(after, 1), "checked_by": "recomputation"}
        for p, after in zip(gap.projects, gap.capacity_after_kva, strict=True)
    ]
    return SourcePlan(c, c if now > 0 else None, now, gap, projects)


def _choose_plan(
    ctx: SchemeContext,
    search: CandidateSearch,
    pool: list[Candidate],
    demand_kva: float,
    room: dict[str, float],
    decision: PolicyDecision,
    sizer: Sizer,
    taken: list[Candidate],
    studied: list[SourcePlan],
) -> SourcePlan | None:
    """The cheapest plan that closes, a new feeder or transformer where that is cheaper;
    else the one that gives the most now."""
    anchor = pool[0] if pool else None
    alt = (
        _new_feeder(ctx, search, anchor, demand_kva, sizer, decision)
        if decision.hv
        else _new_transformer(ctx, search, anchor, demand_kva, sizer)
    )
    if alt is not None and not _distinct(alt[0], taken, decision):
        alt = None  # the same bay or feeder as a source already chosen
    if alt is not None:
        final, project = alt
        now = room[anchor.connection_point_id] if anchor is not None else 0.0
        interim = anchor if anchor is not None and now > 0 else None
        studied.append(SourcePlan(final, interim, now, None, [project], str(project["kind"])))
    if not studied:
        return None
    closed = [p for p in studied if p.closed]
    if closed:
        choice = min(closed, key=lambda p: (p.final.cost_total_cny + p.cost_cny, -p.interim_kva))
    else:  # nothing closes: the most now, then the least left over
        choice = min(
            studied, key=lambda p: (-p.interim_kva, p.remaining_kva(demand_kva), p.cost_cny)
        )
    if choice.interim is None and pool and room[pool[0].connection_point_id] > 0:
        # connected now where the most is available, moved when the projects are done
        choice.interim = pool[0]
        choice.interim_kva = room[pool[0].connection_point_id]
    return choice


def _new_point(
    ctx: SchemeContext,
    search: CandidateSearch,
    feeder_cp: str,
    kind: str,
    name: str,
    capacity_kva: float,
    demand_kva: float,
    sizer: Sizer,
    voltage_kv: float,
) -> Candidate:
    """A point the project builds beside the site (a new feeder's end, a new transformer's
    LV side), with a short service line to the customer sized like any other."""
    r = ctx.rules.get("scheme")
    level = "mv" if voltage_kv >= 1 else "lv"
    length = float(r["new_point_service_m"][level])
    base = ctx.points[feeder_cp]
    cp = ctx.model.connection_points[feeder_cp]
    drop_limit = float(r["voltage_drop_max_percent"][level])
    base_drop = max(0.0, (1.0 - ctx.vm_pu.get(base.bus, 1.0)) * 100.0)
    design = sizer.design(demand_kva, length, drop_limit - base_drop, 1)
    civil = float(r["civil_cny_per_km"][level]["road"]) if sizer.kind == "cable" else 0.0
    line = (design.cost_per_km_cny + civil) * length / 1000.0 if design else 0.0
    costs = r["costs_cny"]
    equipment = (
        float(costs["first_breaker_hv"]) + float(costs["metering_hv"])
        if level == "mv"
        else float(costs["metering_lv"])
    )
    route = Route(length, "estimate", length, (("estimate", length),), ())
    reasons = () if design else (Reason("voltage_drop", "no conductor keeps the drop in band"),)
    return Candidate(
        connection_point_id=feeder_cp,
        bus=base.bus,
        kind=kind,
        name=name,
        feeder_id=base.feeder_id if level == "lv" else None,
        substation_id=base.substation_id,
        bus_section_id=cp.bus_section_id,
        bus_voltage_kv=voltage_kv,
        distance_m=length,
        route=route,
        line_type=sizer.kind,
        design=design,
        openable_kva=capacity_kva,
        bays_free=None,
        max_circuits=1,
        voltage_drop_percent=base_drop + (design.drop_percent if design else 0.0),
        base_drop_percent=base_drop,
        cost_line_cny=line,
        cost_equipment_cny=equipment,
        equipment=kind,
        feasible=design is not None,
        reasons=reasons,
    )


def _new_feeder(
    ctx: SchemeContext,
    search: CandidateSearch,
    anchor: Candidate | None,
    demand_kva: float,
    sizer: Sizer,
    decision: PolicyDecision,
) -> tuple[Candidate, dict[str, Any]] | None:
    """A new 10 kV feeder (新出线路) from the nearest substation bus section with a free
    bay and the capacity, to a new point beside the site; its capacity is that bay's
    openable capacity (the bus section's, by the same computation as every point)."""
    r = ctx.rules.get("scheme")
    costs = r["costs_cny"]
    route_factor = float(r["candidates"]["route_factor"])
    site_lon, site_lat = search.routes.lon, search.routes.lat
    found = _nearest_with_room(
        ctx,
        site_lon,
        site_lat,
        ("substation_bay",),
        lambda p: bool(p.bays_free) and p.openable_kva >= demand_kva,
    )
    if found is None:
        return None
    km, cp_id = found
    km *= route_factor
    p = ctx.points[cp_id]
    final = _new_point(
        ctx,
        search,
        cp_id,
        "new_feeder_end",
        f"{p.name}新出线路末端",
        p.openable_kva,
        demand_kva,
        sizer,
        decision.supply_voltage_kv,
    )
    project = {
        "kind": "new_feeder",
        "element_id": ctx.model.connection_points[cp_id].bus_section_id,
        "from_connection_point_id": cp_id,
        "description": f"{p.name} 新出10kV线路 {km:.2f} km 至客户附近",
        "length_km": round(km, 2),
        "cost_cny": round(
            float(costs["substation_bay_and_line_fixed"])
            + km * float(costs["substation_line_per_km"])
        ),
        "duration_workdays": int(r["upgrade_durations_workdays"]["new_feeder"]),
        "capacity_after_kva": round(p.openable_kva, 1),
        "checked_by": "bay_capacity",
    }
    return final, project


def _new_transformer(
    ctx: SchemeContext,
    search: CandidateSearch,
    anchor: Candidate | None,
    demand_kva: float,
    sizer: Sizer,
) -> tuple[Candidate, dict[str, Any]] | None:
    """A new public distribution transformer (新增配变布点) beside the site, fed from the
    nearest 10 kV pole or ring-main unit that has the capacity, sized to the next standard
    size whose load-rate limit covers the demand; its capacity is the smaller of that
    point's openable capacity and the new transformer's limit."""
    r = ctx.rules.get("scheme")
    costs = r["costs_cny"]
    route_factor = float(r["candidates"]["route_factor"])
    lam = float(ctx.rules.get("capacity.distribution_transformer_load_rate"))
    site_lon, site_lat = search.routes.lon, search.routes.lat
    found = _nearest_with_room(
        ctx,
        site_lon,
        site_lat,
        ("pole", "ring_main_unit"),
        lambda p: p.openable_kva >= demand_kva and (p.bays_free is None or p.bays_free > 0),
    )
    if found is None:
        return None
    km, cp_id = found
    km *= route_factor
    p = ctx.points[cp_id]
    mv_kind = "cable" if search.area_class in ("city_centre", "urban") else "overhead"
    try:
        unit = load_catalogue().distribution_transformer_for(
            demand_kva / lam, "dry" if mv_kind == "cable" else "oil"
        )
    except CatalogueError:  # beyond the largest standard size: not one transformer
        return None
    spur = min(float(v) for v in r["conductors"]["mv"][mv_kind].values())
    cost = (
        float(costs["distribution_transformer_fixed"])
        + float(costs["distribution_transformer_per_kva"]) * unit.sn_kva
        + float(costs["lv_branch_box"])
        + spur * km
    )
    after = min(p.openable_kva, unit.sn_kva * lam)
    final = _new_point(
        ctx,
        search,
        cp_id,
        "new_distribution_transformer",
        f"新建配变（{p.name}接入）",
        after,
        demand_kva,
        sizer,
        sizer.voltage_kv,
    )
    project = {
        "kind": "new_distribution_transformer",
        "element_id": cp_id,
        "from_connection_point_id": cp_id,
        "description": f"新增公用配变 {unit.name}，由 {p.name} 接入，10kV 线路 {km:.2f} km",
        "new_type": unit.name,
        "length_km": round(km, 2),
        "cost_cny": round(cost),
        "duration_workdays": int(r["upgrade_durations_workdays"]["new_distribution_transformer"]),
        "capacity_after_kva": round(after, 1),
        "checked_by": "point_capacity_and_rating",
    }
    return final, project


def _nearest_with_room(
    ctx: SchemeContext,
    lon: float,
    lat: float,
    kinds: tuple[str, ...],
    fits: Callable[[PointCapacity], bool],
) -> tuple[float, str] | None:
    """The nearest point of ``kinds`` that ``fits`` (crow-fly km and its id)."""
    dist = np.asarray(geodesic_m(lon, lat, ctx.lon, ctx.lat), float)
    candidates = np.flatnonzero(np.isin(ctx.kinds, kinds))
    for k in candidates[np.argsort(dist[candidates], kind="stable")].tolist():
        if fits(ctx.points[ctx.ids[k]]):
            return float(dist[k]) / 1000.0, ctx.ids[k]
    return None
