"""Honest dates (办电时限): each step's due date, the utility's part apart from the customer's.

The seed's limits count the utility's working days: at 10 kV and above 16 (21 with design
review and midway inspection) excluding supporting-project time and the customer's own
works; at LV 2, or 5 with a supporting project, which is counted. The utility's days are
shared among its steps by ``progress.step_share``; supporting projects start once the
scheme is given (at LV, once the application is accepted) and run beside the customer's
works; metering and connection start when both are done. So no date is earlier than the
works it depends on, and a project longer than the limit shows up as a later date and a
``within_time_limit: false``, never as a broken promise.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from grid_models import Rules
from scheme_generator._application import Application
from scheme_generator._calendar import WorkCalendar
from scheme_generator._policy import PolicyDecision

UTILITY_STEPS = ("application", "scheme_reply", "metering_connection")


def build_schedule(
    app: Application,
    decision: PolicyDecision,
    cal: WorkCalendar,
    rules: Rules,
    project_workdays: int = 0,
) -> dict[str, Any]:
    """Per-step due dates and the connection date for an option whose supporting projects
    take ``project_workdays`` (0: none)."""
    supporting = project_workdays > 0
    limit = decision.time_limit_workdays(supporting, rules)
    base = (
        decision.base_time_limit_workdays
        if decision.hv
        else decision.time_limit_workdays(False, rules)
    )
    share = rules.get("progress.step_share")
    utility = [s for s in decision.steps if s in UTILITY_STEPS]
    days = _shares(utility, base, share)
    start = app.application_date
    day = start
    steps: list[dict[str, Any]] = []
    projects_start: dt.date | None = None
    projects_end: dt.date | None = None
    customer_done: dt.date | None = None
    for code in decision.steps:
        if code == "external_works":
            # the customer's own works: not counted in the utility's limit
            due = app.customer_works_date
            steps.append(
                {
                    "step": code,
                    "party": "customer",
                    "workdays": None,
                    "due_date": due.isoformat() if due else None,
                    "counted_in_limit": False,
                }
            )
            customer_done = max(day, due) if due else day
            continue
        if code == "metering_connection":
            if supporting and projects_start is None:
                projects_start = day
                projects_end = cal.add_workdays(day, project_workdays)
                steps.append(_project_step(day, projects_end, project_workdays, decision.hv))
            ready = max(d for d in (day, projects_end, customer_done) if d is not None)
            if app.customer_works_date and decision.hv:
                ready = max(ready, app.customer_works_date)
            day = cal.add_workdays(ready, days[code])
        else:
            day = cal.add_workdays(day, days[code])
        steps.append(
            {
                "step": code,
                "party": "utility",
                "workdays": days[code],
                "due_date": day.isoformat(),
                "counted_in_limit": True,
            }
        )
        if (
            supporting
            and projects_start is None
            and (code == "scheme_reply" or (not decision.hv and code == "application"))
        ):
            projects_start = day
            projects_end = cal.add_workdays(day, project_workdays)
            steps.append(_project_step(day, projects_end, project_workdays, decision.hv))
    utility_days = sum(days.values())
    if not decision.hv:
        utility_days += project_workdays  # at LV the supporting project is in the limit
    return {
        "time_limit_workdays": limit,
        "utility_workdays": utility_days,
        "supporting_project_workdays": project_workdays,
        "within_time_limit": utility_days <= limit,
        "due_date": day.isoformat(),
        "steps": steps,
        "counts": (
            "10 kV and above: the utility's working days, excluding supporting projects and "
            "the customer's own works"
            if decision.hv
            else "LV: the utility's working days including any supporting project"
        ),
    }


def _project_step(start: dt.date, end: dt.date, workdays: int, hv: bool) -> dict[str, Any]:
    return {
        "step": "supporting_project",
        "party": "utility",
        "workdays": workdays,
        "start_date": start.isoformat(),
        "due_date": end.isoformat(),
        "counted_in_limit": not hv,
    }


def _shares(steps: list[str], total: int, share: dict[str, float]) -> dict[str, int]:
    """``total`` working days shared among ``steps`` by weight, whole days summing to it."""
    weights = [float(share.get(s, 1.0)) for s in steps]
    whole = sum(weights) or 1.0
    out: dict[str, int] = {}
    done = 0
    cumulative = 0.0
    for step, w in zip(steps, weights, strict=True):
        cumulative += w
        upto = math.floor(total * cumulative / whole + 0.5)  # half a day rounds up
        out[step] = upto - done
        done = upto
    return out
