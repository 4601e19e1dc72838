"""Progress against the time limits (办电进程) and the warning levels (预警): blue and orange
before a limit, yellow and red once it has passed; thresholds in ``progress:`` of the rules
file, counted in Chinese working days."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from grid_models import Rules
from scheme_generator._calendar import WorkCalendar

Warning = Literal["blue", "orange", "yellow", "red"]
WARNING_ORDER: tuple[Warning, ...] = ("red", "yellow", "orange", "blue")


def step_due_dates(
    steps: list[str], start: dt.date, total_workdays: int, cal: WorkCalendar, rules: Rules
) -> list[tuple[str, dt.date]]:
    """Each step's due date: the whole-process limit shared out by ``progress.step_share``
    (renormalised over the steps this customer has)."""
    share = rules.get("progress.step_share")
    weights = [float(share.get(s, 1.0)) for s in steps]
    total = sum(weights) or 1.0
    out, cumulative = [], 0.0
    for step, w in zip(steps, weights, strict=True):
        cumulative += w
        days = round(total_workdays * cumulative / total)
        out.append((step, cal.add_workdays(start, days)))
    return out


def warning_level(due: dt.date, today: dt.date, cal: WorkCalendar, rules: Rules) -> Warning | None:
    w = rules.get("progress.warnings")
    if today > due:
        overdue = cal.workdays_between(due, today)
        if overdue > int(w["red_overdue_workdays"]):
            return "red"
        if overdue > int(w["yellow_overdue_workdays"]):
            return "yellow"
        return None
    left = cal.workdays_between(today, due)
    if left <= int(w["orange_remaining_workdays"]):
        return "orange"
    if left <= int(w["blue_remaining_workdays"]):
        return "blue"
    return None
