"""Candidate connection points around a site, each with capacity, route, line and cost."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from capacity import (
    HostingCriteria,
    PointCapacity,
    Reservation,
    RuleCapacity,
    TransferRelief,
    base_case_voltages,
    connection_point_capacity,
    relief_through_ties,
    rule_capacity,
)
from grid_models import GridModel, Rules, geodesic_m, load_rules
from scheme_generator._policy import PolicyDecision


@dataclass
class SchemeContext:
    """Everything a scheme needs from the network, computed once per network state.

    ``points`` hold each connection point's openable capacity (min of the rule-based path
    C2 and the AC capacity at its bus) after the in-flight ``reservations``.
    """

    model: GridModel
    rules: Rules
    reservations: tuple[Reservation, ...] = ()
    points: dict[str, PointCapacity] = field(default_factory=dict)
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ids: list[str] = field(default_factory=list)
    vm_pu: dict[int, float] = field(default_factory=dict)
    rule_cap: RuleCapacity | None = None
    relief: dict[str, list[TransferRelief]] = field(default_factory=dict)

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
        reservations: tuple[Reservation, ...] = (),
        rules: Rules | None = None,
    ) -> SchemeContext:
        rules = rules or load_rules()
        criteria = HostingCriteria.from_rules(rules)
        rc = rule_capacity(model, reservations, rules=rules)
        pts = connection_point_capacity(model, criteria, reservations, rules=rules, rules_cap=rc)
        points = {p.id: p for p in pts}
        ids = list(points)
        lon = np.array([points[i].lon_deg for i in ids], dtype=float)
        lat = np.array([points[i].lat_deg for i in ids], dtype=float)
        vm = base_case_voltages(model.net, criteria)
        return cls(model, rules, tuple(reservations), points, lon, lat, ids, vm, rc)

    def with_reservations(self, reservations: tuple[Reservation, ...]) -> SchemeContext:
        """The same network with other reservations in force, without new AC searches.

        The rule-based capacity is recomputed exactly; each point's AC capacity is its AC
        capacity without reservations less the in-flight capacity on its feeder (or bus
        section) — conservative, since the in-flight load flows through that element. A
        full :meth:`build` repeats the AC searches with the reservations as loads.
        """
        rc = rule_capacity(self.model, reservations, rules=self.rules)
        pf = HostingCriteria.from_rules(self.rules).power_factor
        points: dict[str, PointCapacity] = {}
        for cp_id, p in self.points.items():
            element = rc.elements.get(cp_id)
            if element is None:
                points[cp_id] = p
                continue
            carrier = p.feeder_id or self.model.connection_points[cp_id].bus_section_id
            inflight = rc.elements[carrier].inflight_kva if carrier in rc.elements else 0.0
            ac = p.ac_kva_before - inflight
            after = min(element.openable_kva, ac)
            light = element.light
            if light == "green" and after <= 0:
                light = "yellow" if min(element.c1_kva, p.ac_kva_before) > 0 else "red"
            points[cp_id] = replace(
                p,
                rules_kva=element.openable_kva,
                ac_kva=ac,
                openable_kva=after,
                openable_mw=after * pf / 1000.0,
                light=light,
                limited_by=element.limited_by if element.openable_kva <= ac else "ac",
            )
        return replace(
            self, reservations=tuple(reservations), points=points, rule_cap=rc, relief={}
        )


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
    distance_m: float
    length_m: float
    line_type: str
    openable_kva: float
    bays_free: int | None
    voltage_drop_percent: float
    base_drop_percent: float
    cost_line_cny: float
    cost_equipment_cny: float
    feasible: bool
    reasons: tuple[str, ...]

    @property
    def cost_total_cny(self) -> float:
        return self.cost_line_cny + self.cost_equipment_cny


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


def find_candidates(
    ctx: SchemeContext,
    decision: PolicyDecision,
    lon: float,
    lat: float,
    capacity_kva: float,
    at_least: int = 0,
) -> list[Candidate]:
    """Connection points of the right level around the site, searched outward until enough
    feeders are found, each with what it can offer and what it costs."""
    r = ctx.rules.get("scheme")
    cr = r["candidates"]
    costs = r["costs_cny"]
    level = "lv" if not decision.hv else ("mv_dedicated" if decision.dedicated_line else "mv")
    radius = float(cr["max_distance_m"][level]) * (3.0 if at_least else 1.0)
    dist = geodesic_m(lon, lat, ctx.lon, ctx.lat)
    order = np.argsort(np.nan_to_num(dist, nan=np.inf))
    area = ctx.model.area_class_at(lon, lat)
    line_kind = r["line_by_area"][area]
    pf = float(r["power_factor"])
    chosen: list[Candidate] = []
    feeders: set[str | None] = set()
    for k in order.tolist():
        d = float(dist[k])
        if not math.isfinite(d) or d > radius:
            break
        p = ctx.points[ctx.ids[k]]
        if not _right_level(p, decision):
            continue
        length = d * float(cr["route_factor"])
        c = _cost(p, decision, line_kind, length, costs)
        drop = _voltage_drop(ctx, p, decision, line_kind, length, capacity_kva, pf)
        base_drop = max(0.0, (1.0 - ctx.vm_pu.get(p.bus, 1.0)) * 100.0)
        reasons = []
        if p.openable_kva < capacity_kva:
            reasons.append(f"openable {p.openable_kva:.0f} kVA < applied {capacity_kva:.0f} kVA")
        if p.bays_free is not None and p.bays_free <= 0:
            reasons.append("no free bay")
        limit = float(r["voltage_drop_max_percent"]["lv" if not decision.hv else "mv"])
        if drop > limit:
            reasons.append(f"voltage at the customer {drop:.1f} % below nominal > {limit} %")
        chosen.append(
            Candidate(
                connection_point_id=p.id,
                bus=p.bus,
                kind=p.kind,
                name=p.name,
                feeder_id=p.feeder_id,
                substation_id=p.substation_id,
                bus_section_id=ctx.model.connection_points[p.id].bus_section_id,
                distance_m=d,
                length_m=length,
                line_type=line_kind,
                openable_kva=p.openable_kva,
                bays_free=p.bays_free,
                voltage_drop_percent=drop,
                base_drop_percent=base_drop,
                cost_line_cny=c[0],
                cost_equipment_cny=c[1],
                feasible=not reasons,
                reasons=tuple(reasons),
            )
        )
        feeders.add(p.feeder_id)
        enough = len(chosen) >= int(cr["max_candidates"]) or (
            len({c.feeder_id for c in chosen if c.feasible}) >= int(cr["min_feeders"])
            and len(chosen) >= 2 * int(cr["min_feeders"])
        )
        if enough and len(chosen) >= at_least:
            break
    return chosen


def _right_level(p: PointCapacity, decision: PolicyDecision) -> bool:
    if not decision.hv:
        return p.kind == "lv_branch_box"
    if decision.dedicated_line:
        return p.kind == "substation_bay"
    return p.kind in ("ring_main_unit", "pole", "switching_station", "substation_bay")


def _cost(
    p: PointCapacity,
    decision: PolicyDecision,
    line_kind: str,
    length_m: float,
    costs: dict[str, float],
) -> tuple[float, float]:
    km = length_m / 1000.0
    if not decision.hv:
        per_km = costs["lv_cable_per_km"] if line_kind == "cable" else costs["lv_overhead_per_km"]
        return per_km * km, float(costs["metering_lv"])
    if p.kind == "substation_bay":
        line = costs["substation_line_per_km"] * km
        equipment = costs["substation_bay_and_line_fixed"]
    elif line_kind == "cable":
        line = (costs["cable_10kv_per_km"] + costs["cable_civil_per_km"]) * km
        equipment = costs["rmu_bay"] if p.kind != "pole" else costs["pole_switch"]
    else:
        line = costs["overhead_10kv_per_km"] * km
        equipment = costs["pole_switch"] if p.kind == "pole" else costs["rmu_bay"]
    return line, equipment + costs["first_breaker_hv"] + costs["metering_hv"]


def _voltage_drop(
    ctx: SchemeContext,
    p: PointCapacity,
    decision: PolicyDecision,
    line_kind: str,
    length_m: float,
    capacity_kva: float,
    pf: float,
) -> float:
    """Voltage below nominal at the customer terminal, %: the point's voltage in the base
    case minus the new line's drop ΔU ≈ (P·R + Q·X)/U² (domain §2 bands)."""
    vm = ctx.vm_pu.get(p.bus, 1.0)
    km = length_m / 1000.0
    if decision.hv:
        r_ohm, x_ohm, u_kv = (0.0601, 0.092, 10.0) if line_kind == "cable" else (0.125, 0.322, 10.0)
    else:
        r_ohm, x_ohm, u_kv = (0.124, 0.079, 0.4) if line_kind == "cable" else (0.253, 0.3, 0.4)
    p_mw = capacity_kva * pf / 1000.0
    q_mvar = capacity_kva * math.sqrt(max(0.0, 1 - pf * pf)) / 1000.0
    drop = (p_mw * r_ohm * km + q_mvar * x_ohm * km) / (u_kv * u_kv) * 100.0
    return max(0.0, (1.0 - vm) * 100.0) + drop
