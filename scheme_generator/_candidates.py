"""Candidate connection points by reach (接入点搜索), each with route, line, capacity and cost.

Reach, not count (domain §6): every point of the right level whose route from the site is
within the supply radius of the voltage level for the site's area class is a candidate
(bus-section bays of substations and switching stations included for MV loads). The search
starts at a share of the radius and doubles it until enough capacity is found — enough
candidates that each carry the whole demand, on enough distinct feeders, and, for the
cheapest objective, no farther point could still be cheaper — or the radius is reached.
Each candidate carries the reasons it cannot be used (capacity, bays, voltage drop,
conductor, distance, route).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from capacity import (
    AcSnapshot,
    CapacityState,
    HostingCriteria,
    PointCapacity,
    Reservation,
    RuleCapacity,
    TransferRelief,
    ac_capacity,
    base_case_voltages,
    relief_through_ties,
    rule_capacity,
)
from grid_models import GridModel, Rules, geodesic_m, load_rules
from scheme_generator._policy import PolicyDecision
from scheme_generator._routes import PointAccess, Route, SiteRoutes
from scheme_generator._sizing import LineDesign, Sizer

MV_KINDS = ("ring_main_unit", "pole", "switching_station", "substation_bay")
BAY_KINDS = ("substation_bay", "switching_station")


class PointsView(Mapping[str, PointCapacity]):
    """Every connection point as published now, computed from the capacity state when
    asked (the path's length each), cached until the state changes."""

    def __init__(self, state: CapacityState) -> None:
        self._state = state
        self._cache: dict[str, PointCapacity] = {}
        self._version = -1

    def __getitem__(self, key: str) -> PointCapacity:
        if self._version != self._state.version:
            self._cache.clear()
            self._version = self._state.version
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = self._state.point(key)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._state.points)

    def __len__(self) -> int:
        return len(self._state.points)

    def __contains__(self, key: object) -> bool:
        return key in self._state.points


@dataclass
class SchemeContext:
    """Everything a scheme needs from the network: the capacity state (the reservations in
    force, one number per point), the points' places and kinds, base-case voltages and
    corridor access, computed once per network."""

    model: GridModel
    rules: Rules
    state: CapacityState
    lon: np.ndarray
    lat: np.ndarray
    ids: list[str]
    kinds: np.ndarray
    vm_pu: dict[int, float]
    access: PointAccess | None = None
    relief: dict[str, list[TransferRelief]] = field(default_factory=dict)
    points: PointsView = field(init=False)

    def __post_init__(self) -> None:
        self.points = PointsView(self.state)

    @property
    def rule_cap(self) -> RuleCapacity:
        """Every element's C1/C2/light with the reservations in force."""
        return self.state.rule_capacity()

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        return self.state.reservations()

    def transfer_relief(self, feeder_id: str) -> list[TransferRelief]:
        """Load transfers through the feeder's ties (AC-checked), cached per feeder."""
        if feeder_id not in self.relief:
            self.relief[feeder_id] = relief_through_ties(
                self.model, feeder_id, HostingCriteria.from_rules(self.rules)
            )
        return self.relief[feeder_id]

    @classmethod
    def build(
        cls,
        model: GridModel,
        reservations: Sequence[Reservation] = (),
        rules: Rules | None = None,
    ) -> SchemeContext:
        """The network's capacity without reservations (rules and an AC search at every
        point's bus), then ``reservations`` applied; with reservations, a second AC search
        with them as loads is the AC base (as a refresh would give)."""
        rules = rules or load_rules()
        criteria = HostingCriteria.from_rules(rules)
        buses = sorted({cp.bus for cp in model.connection_points.values()})
        vm: dict[int, float] = {}
        # the rule-based sweep (Python) runs beside the AC search, whose compiled kernel
        # releases the interpreter: a province's startup pays the longer of the two
        with ThreadPoolExecutor(1) as pool:
            rules_job = pool.submit(rule_capacity, model, rules=rules)
            ac = {
                c.bus: c for c in ac_capacity(model, criteria, buses, rules=rules, base_voltages=vm)
            }
            base = rules_job.result()
        state = CapacityState.build(model, base, ac, criteria)
        for r in reservations:
            state.add(r.connection_point_id, r.kva)
        if reservations:
            loaded = {
                c.bus: c
                for c in ac_capacity(
                    model, criteria, buses, rules=rules, reservations=list(reservations)
                )
            }
            state.with_ac(AcSnapshot.of(model, loaded, criteria.power_factor), state.totals())
        return cls.on(state, rules, vm)

    @classmethod
    def on(
        cls, state: CapacityState, rules: Rules, vm: dict[int, float] | None = None
    ) -> SchemeContext:
        """A context over a capacity state someone else keeps current (the service);
        ``vm``: the base case's bus voltages, when already solved."""
        model = state.model
        criteria = HostingCriteria.from_rules(rules)
        ids = list(state.points)
        lon = np.array([state.points[i].lon_deg for i in ids], dtype=float)
        lat = np.array([state.points[i].lat_deg for i in ids], dtype=float)
        kinds = np.array([state.points[i].kind for i in ids], dtype=object)
        vm = vm or base_case_voltages(model.net, criteria)
        access = PointAccess.of(model, lon, lat)
        return cls(model, rules, state, lon, lat, ids, kinds, vm, access)

    def with_reservations(self, reservations: Sequence[Reservation]) -> SchemeContext:
        """The same network with other reservations in force, without new AC searches: the
        rule-based capacity exact, each AC figure less what is reserved where it binds."""
        state = self.state.copy_without_reservations()
        for r in reservations:
            state.add(r.connection_point_id, r.kva)
        return replace(self, state=state, relief={})


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a candidate cannot take the load: a code and a sentence."""

    code: str  # capacity | bays | voltage_drop | conductor | distance | no_route
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to connect: a connection point, the new line to the site, and its cost."""

    connection_point_id: str
    bus: int
    kind: str
    name: str
    feeder_id: str | None
    substation_id: str | None
    bus_section_id: str | None
    bus_voltage_kv: float
    distance_m: float
    route: Route
    line_type: str
    design: LineDesign | None
    openable_kva: float
    bays_free: int | None
    max_circuits: int
    voltage_drop_percent: float
    base_drop_percent: float
    cost_line_cny: float
    cost_equipment_cny: float
    equipment: str
    feasible: bool
    reasons: tuple[Reason, ...]

    @property
    def length_m(self) -> float:
        return self.route.length_m

    @property
    def cost_total_cny(self) -> float:
        return self.cost_line_cny + self.cost_equipment_cny

    @property
    def circuits(self) -> int:
        return self.design.circuits if self.design else 1

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_rejected(self) -> dict[str, Any]:
        return {
            "connection_point_id": self.connection_point_id,
            "name": self.name,
            "kind": self.kind,
            "route_m": round(self.length_m, 1) if math.isfinite(self.length_m) else None,
            "openable_kva": round(self.openable_kva, 1),
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass
class CandidateSearch:
    """What the search looked at: every candidate evaluated, nearest by route first."""

    candidates: list[Candidate]
    radius_m: float
    searched_m: float
    level: str
    area_class: str
    in_reach: int
    routes: SiteRoutes
    evaluator: _Evaluator

    def evaluate(self, connection_point_id: str) -> Candidate:
        """Any point of the network as a candidate for this site (beyond the search too:
        a route past the corridor search is estimated crow-fly and says so)."""
        k = self.evaluator.ctx.ids.index(connection_point_id)
        return self.evaluator.evaluate(k, estimate_beyond=True)

    @property
    def feasible(self) -> list[Candidate]:
        return [c for c in self.candidates if c.feasible]

    def summary(self, listed: int) -> dict[str, Any]:
        rejected = [c for c in self.candidates if not c.feasible][:listed]
        return {
            "considered": len(self.candidates),
            "in_reach": self.in_reach,
            "supply_radius_m": self.radius_m,
            "searched_radius_m": round(self.searched_m, 1),
            "route_method": self.routes.method,
            "feasible": sum(c.feasible for c in self.candidates),
            "rejected_nearest": [c.to_rejected() for c in rejected],
        }


def site_area(ctx: SchemeContext, lon: float, lat: float) -> dict[str, Any]:
    model = ctx.model
    return {
        "area_class": model.area_class_at(lon, lat),
        "in_provincial_park": model.in_area_overlay("provincial_park", lon, lat),
        "in_urban_planning_area": model.in_area_overlay("urban_planning_area", lon, lat),
    }


def nearest_distance_m(ctx: SchemeContext, lon: float, lat: float) -> float:
    if not len(ctx.ids):
        return math.inf
    d = geodesic_m(lon, lat, ctx.lon, ctx.lat)
    return float(np.nanmin(d))


def line_kind_at(ctx: SchemeContext, area_class: str) -> str:
    """Cable in the core, overhead outside (``scheme.line_by_area``)."""
    return str(ctx.rules.get("scheme.line_by_area")[area_class])


def sizer_for(ctx: SchemeContext, decision: PolicyDecision, kind: str, voltage_kv: float) -> Sizer:
    level = "mv" if decision.hv else "lv"
    return Sizer.of(ctx.rules, level, kind, voltage_kv, decision.phases if not decision.hv else 3)


def find_candidates(
    ctx: SchemeContext,
    decision: PolicyDecision,
    lon: float,
    lat: float,
    demand_kva: float,
    *,
    objective: str = "cheapest",
    kinds: tuple[str, ...] | None = None,
    exhaustive: bool = False,
    limit: int | None = None,
) -> CandidateSearch:
    """Candidates of the right level within reach of the site, widening ring by ring until
    enough capacity is found (``exhaustive``: the whole radius; ``limit``: at most that
    many, nearest by route first)."""
    r = ctx.rules.get("scheme")
    cr = r["candidates"]
    level = "mv" if decision.hv else "lv"
    area = ctx.model.area_class_at(lon, lat)
    radius = float(cr["supply_radius_m"][level][area])
    if kinds is None:
        kinds = (
            ("lv_branch_box",)
            if not decision.hv
            else (("substation_bay",) if decision.dedicated_line else MV_KINDS)
        )
    routes = SiteRoutes(
        ctx.model,
        ctx.access,
        ctx.lon,
        ctx.lat,
        lon,
        lat,
        radius,
        float(cr["route_factor"]),
        float(cr["max_access_m"]),
    )
    right = np.isin(ctx.kinds, kinds) & (routes.geodesic <= radius)
    idx = np.flatnonzero(right)
    lengths = routes.length[idx]
    order = idx[np.argsort(lengths, kind="stable")]
    if limit is not None:
        order = order[:limit]
    line_kind = line_kind_at(ctx, area)
    evaluator = _Evaluator(ctx, decision, demand_kva, line_kind, routes, radius)
    need = _need(decision, int(cr["options_returned"]))
    # the first ring holds the nearest few points; it doubles from there
    first = int(cr["first_ring_points"])
    nearest = routes.length[order[min(first, len(order)) - 1]] if len(order) else radius
    ring = radius if exhaustive else min(radius, max(float(nearest), 1.0))
    out: list[Candidate] = []
    pos = 0
    while True:
        while pos < len(order) and routes.length[order[pos]] <= ring:
            out.append(evaluator.evaluate(int(order[pos])))
            pos += 1
        if ring >= radius or _enough(out, need, objective, evaluator.lower_bound(ring), decision):
            break
        ring = min(radius, ring * 2.0)
    if ring >= radius:
        # within crow-fly reach but not by route: a few, so the scheme can say why
        extra = order[pos : pos + int(cr["rejected_listed"])]
        out += [evaluator.evaluate(int(k)) for k in extra]
    in_reach = int(np.count_nonzero(routes.length[idx] <= radius))
    return CandidateSearch(out, radius, ring, level, area, in_reach, routes, evaluator)


def _need(decision: PolicyDecision, options: int) -> int:
    return decision.sources_required + max(0, options - 1)


def _enough(
    found: list[Candidate],
    need: int,
    objective: str,
    lower_bound_cny: float,
    decision: PolicyDecision,
) -> bool:
    """Enough feasible candidates on distinct feeders that no farther point can be better."""
    feasible = [c for c in found if c.feasible]
    several = decision.sources_required > 1  # then the sources need distinct feeders
    feeders = {(c.feeder_id if several else None) or c.connection_point_id for c in feasible}
    if len(feeders) < need:
        return False
    if decision.sources_from_different_substations and (
        len({c.substation_id for c in feasible}) < 2
    ):
        return False
    if objective == "nearest":
        return True  # every later point is farther by route than the ring
    best: dict[str, float] = {}
    for c in feasible:
        key = (c.feeder_id if several else None) or c.connection_point_id
        best[key] = min(best.get(key, math.inf), c.cost_total_cny)
    kth = sorted(best.values())[need - 1]
    return kth <= lower_bound_cny


class _Evaluator:
    """Capacity, bays, route, conductor, voltage drop and cost of one candidate point."""

    def __init__(
        self,
        ctx: SchemeContext,
        decision: PolicyDecision,
        demand_kva: float,
        line_kind: str,
        routes: SiteRoutes,
        radius: float,
    ) -> None:
        r = ctx.rules.get("scheme")
        self.ctx = ctx
        self.decision = decision
        self.demand = demand_kva
        self.line_kind = line_kind
        self.routes = routes
        self.radius = radius
        self.costs = r["costs_cny"]
        self.level = "mv" if decision.hv else "lv"
        self.civil = r["civil_cny_per_km"][self.level]
        self.crossing = r["crossing_cny"]
        self.drop_limit = float(r["voltage_drop_max_percent"][self.level])
        self.max_circuits = int(r["sizing"]["max_circuits"][self.level])
        self.sizers: dict[float, Sizer] = {}
        conductors = r["conductors"][self.level][line_kind]
        civil_min = min(float(v) for v in self.civil.values()) if line_kind == "cable" else 0.0
        self.min_per_m = (min(float(v) for v in conductors.values()) + civil_min) / 1000.0
        self.min_equipment = self._equipment_floor()

    def _equipment_floor(self) -> float:
        c = self.costs
        if not self.decision.hv:
            return float(c["metering_lv"])
        kinds = [float(c["pole_switch"]), float(c["rmu_bay"]), float(c["switching_station_bay"])]
        if self.decision.dedicated_line:
            kinds = [float(c["substation_bay_and_line_fixed"])]
        return min(kinds) + float(c["first_breaker_hv"]) + float(c["metering_hv"])

    def lower_bound(self, ring_m: float) -> float:
        """The least any point beyond ``ring_m`` of route could cost."""
        return self.min_equipment + self.min_per_m * ring_m

    def sizer(self, voltage_kv: float) -> Sizer:
        got = self.sizers.get(voltage_kv)
        if got is None:
            got = self.sizers[voltage_kv] = sizer_for(
                self.ctx, self.decision, self.line_kind, voltage_kv
            )
        return got

    def evaluate(self, k: int, estimate_beyond: bool = False) -> Candidate:
        ctx = self.ctx
        cp_id = ctx.ids[k]
        p = ctx.points[cp_id]
        cp = ctx.model.connection_points[cp_id]
        length = self.routes.length_m(k)
        if math.isfinite(length):
            route = self.routes.route(k)
        elif estimate_beyond:
            route = self.routes.estimated(k)
            length = route.length_m
        else:
            route = Route(math.inf, self.routes.method, float(self.routes.geodesic[k]), (), ())
        reasons: list[Reason] = []
        if not math.isfinite(length):
            reasons.append(Reason("no_route", "no corridor route from the site to this point"))
        elif length > self.radius:
            reasons.append(
                Reason(
                    "distance",
                    f"route {length:.0f} m is beyond the {self.radius:.0f} m supply radius",
                )
            )
        if p.openable_kva < self.demand:
            reasons.append(
                Reason(
                    "capacity",
                    f"openable {p.openable_kva:.0f} kVA < demand {self.demand:.0f} kVA"
                    f" (limited by {p.limited_by})",
                )
            )
        bays_free = p.bays_free
        circuits_max = 1
        if p.kind in BAY_KINDS:
            circuits_max = max(0, min(self.max_circuits, bays_free if bays_free is not None else 1))
        equipment = p.kind
        if bays_free is not None and bays_free <= 0:
            if p.kind == "ring_main_unit":
                equipment = "ring_main_unit_extension"  # an extension cabinet, with an outage
            else:
                reasons.append(Reason("bays", "no free bay"))
        base_drop = max(0.0, (1.0 - ctx.vm_pu.get(p.bus, 1.0)) * 100.0)
        voltage_kv = self._voltage_kv(cp.vn_kv)
        design: LineDesign | None = None
        drop = base_drop
        if math.isfinite(length):
            sizer = self.sizer(voltage_kv)
            budget = self.drop_limit - base_drop
            design = sizer.design(self.demand, length, budget, max(1, circuits_max))
            if design is None:
                reasons.append(self._why_no_design(sizer, length, budget, circuits_max))
            else:
                drop = base_drop + design.drop_percent
                if design.circuits > max(1, circuits_max):
                    reasons.append(Reason("bays", f"{design.circuits} circuits need free bays"))
        line_cost, equip_cost = self._cost(route, design, equipment)
        return Candidate(
            connection_point_id=p.id,
            bus=p.bus,
            kind=p.kind,
            name=p.name,
            feeder_id=p.feeder_id,
            substation_id=p.substation_id,
            bus_section_id=cp.bus_section_id,
            bus_voltage_kv=cp.vn_kv,
            distance_m=float(self.routes.geodesic[k]),
            route=route,
            line_type=design.kind if design else self.line_kind,
            design=design,
            openable_kva=p.openable_kva,
            bays_free=bays_free,
            max_circuits=circuits_max,
            voltage_drop_percent=drop,
            base_drop_percent=base_drop,
            cost_line_cny=line_cost,
            cost_equipment_cny=equip_cost,
            equipment=equipment,
            feasible=not reasons,
            reasons=tuple(reasons),
        )

    def _voltage_kv(self, bus_kv: float) -> float:
        if self.decision.hv:
            return bus_kv
        return 0.22 if self.decision.phases == 1 else 0.38

    def _why_no_design(self, sizer: Sizer, length: float, budget: float, circuits: int) -> Reason:
        if budget <= 0:
            return Reason(
                "voltage_drop",
                f"the point is already {self.drop_limit - budget:.1f} % below nominal"
                f" (limit {self.drop_limit} %)",
            )
        needed = sizer.circuits_needed(self.demand)
        if needed > max(1, circuits):
            return Reason(
                "conductor",
                f"{sizer.current_a(self.demand):.0f} A needs {needed} circuits of at most"
                f" {sizer.max_circuit_a:.0f} A; this point gives {max(1, circuits)}",
            )
        return Reason(
            "voltage_drop",
            f"no permitted conductor keeps the drop over {length:.0f} m within"
            f" {self.drop_limit} % at the customer",
        )

    def _cost(self, route: Route, design: LineDesign | None, equipment: str) -> tuple[float, float]:
        """The new line (conductor × circuits, civil works by corridor, crossings) and the
        equipment at the point, the first breaker and the metering."""
        c = self.costs
        circuits = design.circuits if design else 1
        line = 0.0
        if math.isfinite(route.length_m):
            km = route.length_m / 1000.0
            per_km = design.cost_per_km_cny if design else self.min_per_m * 1000.0
            line = per_km * km * circuits
            if self.line_kind == "cable":
                line += sum(
                    float(self.civil.get(k, self.civil["road"])) * m / 1000.0
                    for k, m in route.by_kind
                )
            line += sum(float(self.crossing[self.line_kind][x]) for x in route.crossings)
        if not self.decision.hv:
            return line, float(c["metering_lv"])
        unit = {
            "substation_bay": float(c["substation_bay_and_line_fixed"]),
            "switching_station": float(c["switching_station_bay"]),
            "ring_main_unit": float(c["rmu_bay"]),
            "ring_main_unit_extension": float(c["rmu_extension"]),
            "pole": float(c["pole_switch"]),
        }[equipment]
        per_circuit = unit * (circuits if equipment in BAY_KINDS else 1)
        return line, per_circuit + float(c["first_breaker_hv"]) + float(c["metering_hv"])
