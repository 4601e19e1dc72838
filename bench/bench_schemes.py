"""Schemes on builtin:anyang: 1 000 random applications, and the batch optimiser.

    python bench/bench_schemes.py            # both parts
    python bench/bench_schemes.py schemes    # median time per scheme + invariant checks
    python bench/bench_schemes.py batch      # 1 000 × ≥ 20 candidates: CP-SAT vs greedy

Sites are drawn near the network (within 400 m of a random connection point), the way
real applications arrive; every scheme is checked: it never promises more than a point's
openable capacity (C2 after in-flight, and the AC capacity), never puts two sources on
one feeder, and its steps and time limit are the rules'.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

from grid_models import load_model
from scheme_generator import (
    BatchProblem,
    SchemeContext,
    decide,
    generate_scheme,
    greedy,
    parse_application,
    solve_batch,
)


def random_application(ctx: SchemeContext, rng: random.Random, mv_only: bool = False) -> dict:
    p = ctx.points[rng.choice(ctx.ids)]
    d, bearing = rng.uniform(20, 400), rng.uniform(0, 2 * math.pi)
    lon = p.lon_deg + d * math.sin(bearing) / (111320 * math.cos(math.radians(p.lat_deg)))
    lat = p.lat_deg + d * math.cos(bearing) / 110570
    resident = not mv_only and rng.random() < 0.3
    if mv_only:
        cap = rng.choice([120, 160, 200, 250])
    elif resident:
        cap = rng.choice([6, 8, 12, 16])
    else:
        cap = rng.choice([30, 60, 100, 150, 400, 800, 1600, 3000, 6000])
    return {
        "customer_name": "张三" if resident else "安阳市某某有限公司",
        "customer_type": "resident" if resident else "non_resident",
        "business": rng.choice(["new", "capacity_increase"]),
        "industry": "residential"
        if resident
        else rng.choice(["industrial", "commercial", "public_service"]),
        "ownership": "individual"
        if resident
        else ("chain_branch" if mv_only else rng.choice(["private", "chain_branch"])),
        "phases": 1 if resident and cap <= 10 else 3,
        "location": {"lon": lon, "lat": lat},
        "capacity_kva": cap,
        "important_user_level": None if mv_only else rng.choice([None] * 12 + ["first", "second"]),
        "proactive": rng.random() < 0.2,
        "objective": rng.choice(["cheapest", "nearest"]),
        "application_date": "2026-06-01",
    }


def schemes(ctx: SchemeContext) -> None:
    rng = random.Random(2026)
    times: list[float] = []
    constrained = violations = 0
    for _ in range(1000):
        app = parse_application(random_application(ctx, rng))
        t0 = time.perf_counter()
        s = generate_scheme(ctx, app)
        times.append(time.perf_counter() - t0)
        constrained += s["constrained"]
        d = decide(
            app,
            in_provincial_park=s["site"]["in_provincial_park"],
            in_urban_planning_area=s["site"]["in_urban_planning_area"],
        )
        ok = s["steps"] == list(d.steps)
        for o in s["options"]:
            feeders = [x["feeder_id"] or x["connection_point_id"] for x in o["sources"]]
            ok &= len(set(feeders)) == len(feeders)
            ok &= o["time_limit_workdays"] == d.time_limit_workdays(o["supporting_project"])
            if not s["constrained"]:
                ok &= all(
                    app.capacity_kva <= ctx.points[x["connection_point_id"]].openable_kva + 1e-6
                    for x in o["sources"]
                )
        violations += not ok
    print(
        f"1000 schemes: median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {sorted(times)[949] * 1000:.1f} ms; constrained {constrained}; "
        f"rule or capacity violations: {violations}"
    )


def batch(ctx: SchemeContext) -> None:
    rng = random.Random(7)
    apps = [parse_application(random_application(ctx, rng, mv_only=True)) for _ in range(1000)]
    t0 = time.perf_counter()
    problem = BatchProblem.build(ctx, apps, min_candidates=20)
    t1 = time.perf_counter()
    counts = problem.considered
    usable = [len(c) for c in problem.candidates]
    print(
        f"batch: 1000 applications, candidates considered per application min {min(counts)}, "
        f"median {statistics.median(counts):.0f} (usable after bays and voltage: median "
        f"{statistics.median(usable):.0f}); {len(problem.capacity_kva)} shared capacity "
        f"pools; built in {t1 - t0:.1f} s"
    )
    g = greedy(problem)
    s = solve_batch(problem, time_limit_s=25.0, hint=g)
    for r in (g, s):
        print(
            f"  {r.method:<7} served {r.served:>4}, cost {r.cost_cny / 1e6:9.2f} M CNY, "
            f"{r.seconds:6.2f} s, feasible {problem.feasible(r.assignment)}"
            f"{', optimal' if r.optimal else ''}"
        )
    penalty = 1e8
    obj_g = g.cost_cny + penalty * (len(apps) - g.served)
    obj_s = s.cost_cny + penalty * (len(apps) - s.served)
    print(
        f"  objective (cost + 100 M CNY per unserved application): greedy {obj_g / 1e6:.1f} M,"
        f" CP-SAT {obj_s / 1e6:.1f} M ({'≤' if obj_s <= obj_g else '>'} greedy)"
    )
    print(
        f"  CP-SAT serves {s.served - g.served:+d} applications; cost of the applications "
        f"both serve: greedy {_common_cost(problem, g, s, 0) / 1e6:.2f} M, "
        f"CP-SAT {_common_cost(problem, g, s, 1) / 1e6:.2f} M"
    )


def _common_cost(problem: BatchProblem, g, s, which: int) -> float:  # type: ignore[no-untyped-def]
    total = 0.0
    for a, (kg, ks) in enumerate(zip(g.assignment, s.assignment, strict=True)):
        if kg is not None and ks is not None:
            k = (kg, ks)[which]
            total += problem.candidates[a][k].cost_total_cny
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["schemes", "batch"])
    args = parser.parse_args()
    ctx = SchemeContext.build(load_model("builtin:anyang"))
    for part in args.parts:
        {"schemes": schemes, "batch": batch}[part](ctx)


if __name__ == "__main__":
    main()
