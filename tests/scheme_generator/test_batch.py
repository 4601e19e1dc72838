"""Batch mode: CP-SAT never does worse than first-come cheapest-first, and both are feasible."""

from __future__ import annotations

import random

from scheme_generator import BatchProblem, greedy, parse_application, solve_batch
from tests.scheme_generator.test_scheme import context


def test_cp_sat_is_feasible_and_no_worse_than_greedy():
    ctx = context()
    rng = random.Random(11)
    apps = []
    for _ in range(40):
        p = ctx.points[rng.choice([i for i in ctx.ids if ctx.points[i].kind != "lv_branch_box"])]
        apps.append(
            parse_application(
                {
                    "customer_name": "安阳市某某有限公司",
                    "customer_type": "non_resident",
                    "business": "new",
                    "industry": "industrial",
                    "ownership": "chain_branch",
                    "location": {"lon": p.lon_deg + 0.001, "lat": p.lat_deg},
                    "capacity_kva": rng.choice([400, 800, 1600]),
                    "application_date": "2026-06-01",
                }
            )
        )
    problem = BatchProblem.build(ctx, apps, min_candidates=20)
    # every point within the supply radius, up to the 20 nearest by route
    for considered, in_reach in zip(problem.considered, problem.in_reach, strict=True):
        assert considered == min(20, in_reach)
    assert sum(c >= 20 for c in problem.considered) >= 30
    g = greedy(problem)
    s = solve_batch(problem, time_limit_s=10, hint=g)
    assert problem.feasible(g.assignment) and problem.feasible(s.assignment)
    penalty = 1e8
    assert s.cost_cny + penalty * (40 - s.served) <= g.cost_cny + penalty * (40 - g.served) + 1
