"""Reliability per option (供电可靠性): expected annual outage hours at the customer.

A simple, transparent model (all numbers from ``reliability:`` in the rules file):

- **unplanned, public grid**: every segment of the point's feeder fails ``λ·length`` times
  a year. A fault on the segment that feeds the point lasts the repair time; a fault
  elsewhere on the supply path is isolated and the point restored through a tie (transfer
  time) when the feeder has one, else repaired; a fault off the path costs the switching
  time. A substation bay sees only its bus section's own outages.
- **unplanned, the new line**: its own faults (``λ·length`` of its kind) last the repair
  time of its kind: a long dedicated cable is not free of outages.
- **planned** (计划停电): the feeder's maintenance outages a year, less the share done live.
- **two or more sources**: every fault of the source in use costs the automatic
  changeover; the customer is off only when both are out at once (unavailabilities
  multiplied); planned work is coordinated so the sources are never both off.
"""

from __future__ import annotations

from typing import Any

from grid_models import GridModel, Rules

_HOURS_A_YEAR = 8760.0


def outage_hours(
    model: GridModel,
    connection_point_id: str,
    rules: Rules,
    sources: int = 1,
    *,
    new_line_km: float = 0.0,
    new_line_kind: str = "cable",
) -> dict[str, Any]:
    """Outage hours a year at one source's connection point (with its new line); with
    ``sources`` > 1 the same source counted as the main one of a dual supply."""
    one = source_outages(model, connection_point_id, rules, new_line_km, new_line_kind)
    if sources > 1:
        return combine([one, one], model.connection_points[connection_point_id].area_class, rules)
    return combine([one], model.connection_points[connection_point_id].area_class, rules)


def source_outages(
    model: GridModel,
    connection_point_id: str,
    rules: Rules,
    new_line_km: float,
    new_line_kind: str,
) -> dict[str, float]:
    """One source: unplanned events and hours (grid and new line) and planned hours."""
    r = rules.get("reliability")
    cp = model.connection_points[connection_point_id]
    feeder = model.feeders.get(cp.feeder_id) if cp.feeder_id else None
    rate = r["failure_rate_per_km_year"]
    repair = r["repair_hours"]
    line_events = float(rate[new_line_kind]) * new_line_km
    line_hours = line_events * float(repair[new_line_kind])
    if feeder is None:  # a substation bay: the bus section's own outages only
        bus = float(r["substation_bus_outage_hours"])
        return {
            "events": line_events,
            "grid_hours": bus,
            "new_line_hours": line_hours,
            "planned_hours": 0.0,
        }
    path = set(model.supply_path(connection_point_id))
    has_tie = feeder.wiring_mode != "radial"
    own = cp.segment_id
    hours = events = 0.0
    for seg_id in feeder.segment_ids:
        seg = model.segments[seg_id]
        kind = _kind(model, seg_id)
        n = float(rate[kind]) * seg.length_km
        events += n
        if seg_id == own:
            hours += n * float(repair[kind])
        elif seg_id in path:
            hours += n * (float(r["transfer_hours"]) if has_tie else float(repair[kind]))
        else:
            hours += n * float(r["switching_hours"])
    kind = feeder.conductor
    planned = (
        float(r["planned_outages_per_year"][kind])
        * float(r["planned_outage_hours"][kind])
        * (1.0 - float(r["live_work_share"][kind]))
    )
    return {
        "events": events + line_events,
        "grid_hours": hours,
        "new_line_hours": line_hours,
        "planned_hours": planned,
    }


def combine(parts: list[dict[str, float]], area_class: str, rules: Rules) -> dict[str, Any]:
    """The customer's outage hours from its sources (the first is the main one)."""
    r = rules.get("reliability")
    target = float(r["target_outage_hours"][area_class])
    main = parts[0]
    unplanned = main["grid_hours"] + main["new_line_hours"]
    planned = main["planned_hours"]
    if len(parts) > 1:
        # changeover on each fault of the main source; off only when all are out together
        both = 1.0
        for p in parts:
            both *= (p["grid_hours"] + p["new_line_hours"]) / _HOURS_A_YEAR
        unplanned = main["events"] * float(r["dual_source_switch_hours"]) + both * _HOURS_A_YEAR
        planned = 0.0
    total = unplanned + planned
    return {
        "outage_hours_per_year": round(total, 2),
        "unplanned_hours": round(unplanned, 3),
        "planned_hours": round(planned, 3),
        "new_line_hours": round(sum(p["new_line_hours"] for p in parts[:1]), 3),
        "events_per_year": round(main["events"], 3),
        "sources": len(parts),
        "target_hours": target,
        "meets_target": total <= target,
    }


def _kind(model: GridModel, seg_id: str) -> str:
    """Cable or overhead, by the majority of a segment's lines (cached per network)."""
    kinds: dict[str, str] | None = model.__dict__.get("_segment_kind")
    if kinds is None:
        cable = dict(
            zip(
                model.net.line.index.tolist(),
                model.net.line["type"].astype(str).str.startswith("cs").tolist(),
                strict=True,
            )
        )
        kinds = {
            s.id: "cable" if sum(cable[i] for i in s.lines) * 2 > len(s.lines) else "overhead"
            for s in model.segments.values()
        }
        model.__dict__["_segment_kind"] = kinds
    return kinds[seg_id]
