"""Reliability per option (供电可靠性): expected annual outage hours at a connection point.

A simple, transparent model (all numbers from ``reliability:`` in the rules file): every
segment of the feeder fails ``λ·length`` times a year. A fault on the segment that feeds
the point lasts the repair time; a fault elsewhere on the supply path is isolated and the
point restored through a tie (transfer time) when the feeder has one, else repaired; a
fault off the path costs the switching time to isolate it. A second source (dual supply)
turns every event into an automatic changeover.
"""

from __future__ import annotations

from typing import Any

from grid_models import GridModel, Rules


def outage_hours(
    model: GridModel, connection_point_id: str, rules: Rules, sources: int = 1
) -> dict[str, Any]:
    r = rules.get("reliability")
    cp = model.connection_points[connection_point_id]
    path = set(model.supply_path(connection_point_id))
    feeder = model.feeders.get(cp.feeder_id) if cp.feeder_id else None
    target = float(r["target_outage_hours"][cp.area_class])
    if feeder is None:  # a substation bay: only the new line, outside the public grid
        return {
            "outage_hours_per_year": 0.0,
            "events_per_year": 0.0,
            "target_hours": target,
            "meets_target": True,
        }
    has_tie = feeder.wiring_mode != "radial"
    own = cp.segment_id
    hours = events = 0.0
    for seg_id in feeder.segment_ids:
        seg = model.segments[seg_id]
        kind = _kind(model, seg.lines)
        n = float(r["failure_rate_per_km_year"][kind]) * seg.length_km
        events += n
        if seg_id == own:
            hours += n * float(r["repair_hours"][kind])
        elif seg_id in path:
            hours += n * (float(r["transfer_hours"]) if has_tie else float(r["repair_hours"][kind]))
        else:
            hours += n * float(r["switching_hours"])
    if sources > 1:
        hours = events * float(r["dual_source_switch_hours"])
    return {
        "outage_hours_per_year": round(hours, 2),
        "events_per_year": round(events, 3),
        "target_hours": target,
        "meets_target": hours <= target,
    }


def _kind(model: GridModel, lines: tuple[int, ...]) -> str:
    types = model.net.line.loc[list(lines), "type"].astype(str)
    return "cable" if (types.str.startswith("cs")).mean() > 0.5 else "overhead"
