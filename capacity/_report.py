"""One entry point for the command line and the service: rows of capacity per level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from capacity._criteria import HostingCriteria
from capacity._errors import CriteriaError
from capacity._fast import fast_hosting
from capacity._hosting import (
    VOLTAGES,
    BusCapacity,
    base_case_voltages,
    hosting_buses,
    reference_hosting,
)
from capacity._publish import (
    PointCapacity,
    point_capacities,
    public_only,
    substation_parents,
    summarise,
)
from capacity._rules_based import Reservation, RuleCapacity, rule_capacity
from capacity._timeseries import ac_capacity_over_time
from capacity._transfer import n1_transfer
from grid_models import GridModel, Rules

Level = Literal[
    "main_transformer", "bus_section", "feeder", "segment", "transformer", "bus", "connection_point"
]
LEVELS: tuple[str, ...] = (
    "main_transformer",
    "bus_section",
    "feeder",
    "segment",
    "transformer",
    "bus",
    "connection_point",
)
_KIND = {
    "main_transformer": "main_transformer",
    "bus_section": "bus_section",
    "feeder": "feeder",
    "segment": "segment",
    "transformer": "distribution_transformer",
}


def ac_capacity(
    model: GridModel,
    criteria: HostingCriteria,
    buses: Iterable[int] | None = None,
    *,
    engine: Literal["fast", "bisection"] = "fast",
    reservations: Sequence[Reservation] = (),
    rules: Rules | None = None,
    base_voltages: dict[int, float] | None = None,
) -> list[BusCapacity]:
    """AC hosting capacity per bus; reservations are connected as loads first
    (``base_voltages``: see :func:`fast_hosting`)."""
    extra: dict[int, float] = {}
    for r in reservations:
        cp = model.connection_points[r.connection_point_id]
        extra[cp.bus] = extra.get(cp.bus, 0.0) + r.kva * criteria.power_factor / 1000.0
    if engine == "fast":
        return fast_hosting(
            model.net,
            criteria,
            buses,
            rules=rules,
            extra_load_mw=extra,
            base_voltages=base_voltages,
        )
    found = reference_hosting(model.net, criteria, buses, rules=rules, extra_load_mw=extra)
    if base_voltages is not None:
        base_voltages.update(base_case_voltages(model.net, criteria))
    return found


def connection_point_capacity(
    model: GridModel,
    criteria: HostingCriteria,
    reservations: Sequence[Reservation] = (),
    *,
    engine: Literal["fast", "bisection"] = "fast",
    rules: Rules | None = None,
    rules_cap: RuleCapacity | None = None,
) -> list[PointCapacity]:
    """Every connection point: min(rule-based path C2, AC capacity at its bus)."""
    rules_cap = rules_cap or rule_capacity(model, reservations, rules=rules)
    buses = sorted({cp.bus for cp in model.connection_points.values()})
    before = {c.bus: c for c in ac_capacity(model, criteria, buses, engine=engine, rules=rules)}
    after = before
    if reservations:
        after = {
            c.bus: c
            for c in ac_capacity(
                model, criteria, buses, engine=engine, reservations=reservations, rules=rules
            )
        }
    return point_capacities(model, rules_cap, before, after, criteria.power_factor)


def capacity_rows(
    model: GridModel,
    level: str,
    method: str,
    criteria: HostingCriteria,
    *,
    engine: Literal["fast", "bisection"] = "fast",
    reservations: Sequence[Reservation] = (),
    summary: str | None = None,
    rules: Rules | None = None,
    time_series: bool = False,
    n1: bool = False,
    rule_cap: RuleCapacity | None = None,
    voltage: str = "mv",
    buses: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Rows for ``gridcap capacity``: per element, per bus or per connection point.

    ``time_series``: the AC capacity is the minimum over the profiles' critical times
    (each row says when it binds). ``n1``: with ``level="feeder"``, the N-1 transfer check
    of every feeder instead of its rule-based capacity. ``rule_cap``: the rule-based
    capacity with the reservations in force, when the caller keeps it (the service).

    Per bus by AC power flow: ``voltage`` chooses the buses (``mv``, the default; ``lv``,
    低压; ``all``), ``buses`` names them instead (a page of :func:`hosting_buses` of that
    ``voltage``). Rows of ``lv`` and ``all`` carry the bus's ``vn_kv``; ``mv`` rows keep the
    three keys of the interface contract.
    """
    if level not in LEVELS:
        raise CriteriaError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if method not in ("rules", "powerflow"):
        raise CriteriaError(f"method {method!r} is not rules or powerflow")
    if voltage not in VOLTAGES:
        raise CriteriaError(f"voltage {voltage!r} is not one of {', '.join(VOLTAGES)}")
    per_bus = level == "bus" and method == "powerflow"
    if (voltage != "mv" or buses is not None) and not per_bus:
        raise CriteriaError("--voltage chooses buses: use --level bus --method powerflow")
    if n1:
        if level != "feeder":
            raise CriteriaError("the N-1 transfer check is per feeder: use --level feeder")
        return [t.to_dict() for t in n1_transfer(model, criteria, rules=rules)]
    if per_bus:
        if summary:
            raise CriteriaError("--summary applies to rule-based or connection-point rows")
        targets = list(buses) if buses is not None else hosting_buses(model.net, voltage, rules)
        if time_series:
            if engine != "fast" or reservations:
                raise CriteriaError(
                    "the time-series search runs the fast engine without reservations"
                )
            found = ac_capacity_over_time(model, criteria, targets, rules=rules)
        elif not targets:  # an empty page: no power flow to solve
            found = []
        else:
            found = ac_capacity(
                model, criteria, targets, engine=engine, reservations=reservations, rules=rules
            )
        if voltage == "mv":
            return [c.to_dict() for c in found]
        vn_kv = model.net.bus["vn_kv"]
        return [{**c.to_dict(), "vn_kv": float(vn_kv.at[c.bus])} for c in found]
    if method == "powerflow" and level != "connection_point":
        raise CriteriaError(
            "the power-flow method gives capacity at buses: use --level bus or "
            "--level connection_point"
        )
    if level == "connection_point":
        points = connection_point_capacity(
            model, criteria, reservations, engine=engine, rules=rules
        )
        if summary:
            rc = rule_cap or rule_capacity(model, reservations, rules=rules)
            return summarise(public_only(model, points), summary, substation_parents(rc), now())
        return [p.to_dict() for p in points]
    rc = rule_cap or rule_capacity(model, reservations, rules=rules)
    kind = "connection_point" if level == "bus" else _KIND[level]
    elements = rc.by_kind(kind)
    if summary:
        # a published summary: public assets only, substations bound by their main units
        return summarise(public_only(model, elements), summary, substation_parents(rc), now())
    return [e.to_dict() for e in elements]


def now() -> str:
    """The time a figure was computed (UTC, ISO)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
