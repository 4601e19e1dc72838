"""What a what-if scenario means for applications: whose scheme changes, and how a reserve
pool of expected projects would connect on the changed network (batch optimiser)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheme_generator._application import Application, parse_application
from scheme_generator._batch import BatchProblem, greedy, solve_batch
from scheme_generator._candidates import SchemeContext
from scheme_generator._errors import InvalidApplicationError
from scheme_generator._scheme import generate_scheme


def schemes_that_change(
    before: SchemeContext, after: SchemeContext, applications: Sequence[tuple[str, Application]]
) -> list[dict[str, Any]]:
    """For each (id, application): the recommended sources and the constrained flag before
    and after; ``changed`` when either differs."""
    out = []
    for app_id, app in applications:
        try:
            a = generate_scheme(before, app)
            b = generate_scheme(after, app)
        except InvalidApplicationError:
            continue
        src_a = _sources(a)
        src_b = _sources(b)
        out.append(
            {
                "application_id": app_id,
                "customer": app.customer_name,
                "capacity_kva": app.capacity_kva,
                "sources_before": src_a,
                "sources_after": src_b,
                "constrained_before": a["constrained"],
                "constrained_after": b["constrained"],
                "changed": src_a != src_b or a["constrained"] != b["constrained"],
            }
        )
    return out


def reserve_pool(
    after: SchemeContext, raw: Sequence[dict[str, Any]], time_limit_s: float = 20.0
) -> dict[str, Any]:
    """The reserve pool connected at once on the changed network: CP-SAT against greedy."""
    apps = [parse_application(r) for r in raw]
    problem = BatchProblem.build(after, apps)
    g = greedy(problem)
    s = solve_batch(problem, time_limit_s=time_limit_s, hint=g)
    return {
        "applications": len(apps),
        "greedy": {"served": g.served, "cost_cny": round(g.cost_cny)},
        "cp_sat": {
            "served": s.served,
            "cost_cny": round(s.cost_cny),
            "optimal": s.optimal,
            "seconds": round(s.seconds, 2),
        },
    }


def _sources(scheme: dict[str, Any]) -> list[str]:
    options = scheme.get("options") or []
    return [s["connection_point_id"] for s in options[0]["sources"]] if options else []
