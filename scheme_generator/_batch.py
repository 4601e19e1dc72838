"""Many applications at once under shared capacity (批量/储备项目): CP-SAT against greedy.

Every candidate of every application draws its maximum demand from each element on its
connection point's supply path; no element may give more than its C2 (in-flight already
deducted), no point more bays than it has free. CP-SAT minimises the total cost plus a
penalty for every application left unserved, with a time limit and the greedy answer as
its starting hint, so it never does worse than the baseline it is compared with. The
baseline is first-come, cheapest-first.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheme_generator._application import Application
from scheme_generator._candidates import Candidate, SchemeContext, find_candidates
from scheme_generator._demand import demand_of
from scheme_generator._policy import decide


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Which candidate each application got (None: unserved), the cost and the time."""

    method: str
    assignment: tuple[int | None, ...]
    cost_cny: float
    served: int
    seconds: float
    optimal: bool = False


@dataclass
class BatchProblem:
    """Applications, their candidates, and the shared capacity pools."""

    applications: list[Application]
    demand_kva: list[float]
    candidates: list[list[Candidate]]
    capacity_kva: dict[str, float]
    bays: dict[str, int]
    paths: dict[str, tuple[str, ...]]
    considered: list[int]
    in_reach: list[int]

    @classmethod
    def build(
        cls, ctx: SchemeContext, apps: Sequence[Application], min_candidates: int = 20
    ) -> BatchProblem:
        """Each application's candidates: every point within its supply radius, the nearest
        ``min_candidates`` by route (fewer where fewer are in reach)."""
        cands: list[list[Candidate]] = []
        considered: list[int] = []
        demands: list[float] = []
        in_reach: list[int] = []
        for app in apps:
            decision = decide(app, rules=ctx.rules)
            demand = demand_of(app, ctx.rules).demand_kva
            demands.append(demand)
            search = find_candidates(
                ctx,
                decision,
                app.lon_deg,
                app.lat_deg,
                demand,
                exhaustive=True,
                limit=min_candidates,
            )
            found = [
                c for c in search.candidates if not {"distance", "no_route"} & set(c.reason_codes)
            ]
            considered.append(len(found))
            in_reach.append(search.in_reach)
            # capacity is decided by the shared pools below, not point by point
            cands.append([c for c in found if set(c.reason_codes) <= {"capacity"}])
        elements = ctx.rule_cap.elements if ctx.rule_cap else {}
        paths: dict[str, tuple[str, ...]] = {}
        capacity: dict[str, float] = {}
        bays: dict[str, int] = {}
        for options in cands:
            for c in options:
                if c.connection_point_id in paths:
                    continue
                path = tuple(
                    e for e in ctx.model.supply_path(c.connection_point_id)[1:] if e in elements
                )
                paths[c.connection_point_id] = path
                for e in path:
                    capacity[e] = max(0.0, elements[e].c2_kva)
                if c.bays_free is not None:
                    bays[c.connection_point_id] = c.bays_free
        return cls(list(apps), demands, cands, capacity, bays, paths, considered, in_reach)

    def cost(self, assignment: Sequence[int | None]) -> float:
        return sum(
            self.candidates[a][k].cost_total_cny for a, k in enumerate(assignment) if k is not None
        )

    def feasible(self, assignment: Sequence[int | None]) -> bool:
        used: dict[str, float] = defaultdict(float)
        bays: dict[str, int] = defaultdict(int)
        for a, k in enumerate(assignment):
            if k is None:
                continue
            c = self.candidates[a][k]
            for e in self.paths[c.connection_point_id]:
                used[e] += self.demand_kva[a]
            bays[c.connection_point_id] += 1
        return all(used[e] <= self.capacity_kva[e] + 1e-6 for e in used) and all(
            bays[p] <= self.bays[p] for p in bays if p in self.bays
        )


def greedy(problem: BatchProblem) -> BatchResult:
    """First come, cheapest first: each application takes its cheapest candidate that still
    fits the remaining capacity and bays."""
    start = time.perf_counter()
    left = dict(problem.capacity_kva)
    bays = dict(problem.bays)
    out: list[int | None] = []
    for demand, options in zip(problem.demand_kva, problem.candidates, strict=True):
        pick = None
        for k in sorted(range(len(options)), key=lambda k: options[k].cost_total_cny):
            c = options[k]
            path = problem.paths[c.connection_point_id]
            if all(left[e] >= demand for e in path) and bays.get(c.connection_point_id, 1) > 0:
                pick = k
                for e in path:
                    left[e] -= demand
                if c.connection_point_id in bays:
                    bays[c.connection_point_id] -= 1
                break
        out.append(pick)
    return BatchResult(
        "greedy",
        tuple(out),
        problem.cost(out),
        sum(k is not None for k in out),
        time.perf_counter() - start,
    )


def solve_batch(
    problem: BatchProblem,
    *,
    time_limit_s: float = 20.0,
    unserved_penalty_cny: float = 1e8,
    hint: BatchResult | None = None,
    workers: int = 2,
) -> BatchResult:
    """CP-SAT over all applications at once (shared capacity and bays)."""
    start = time.perf_counter()
    m = cp_model.CpModel()
    x: list[list[cp_model.IntVar]] = []
    unserved: list[cp_model.IntVar] = []
    load: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    at_point: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for a, (demand, options) in enumerate(zip(problem.demand_kva, problem.candidates, strict=True)):
        row = [m.new_bool_var(f"x{a}_{k}") for k in range(len(options))]
        u = m.new_bool_var(f"u{a}")
        m.add_exactly_one([*row, u])
        x.append(row)
        unserved.append(u)
        kva = int(math.ceil(demand))
        for k, c in enumerate(options):
            for e in problem.paths[c.connection_point_id]:
                load[e].append((kva, row[k]))
            at_point[c.connection_point_id].append(row[k])
    for e, terms in load.items():
        m.add(sum(w * v for w, v in terms) <= int(problem.capacity_kva[e]))
    for p, vars_ in at_point.items():
        if p in problem.bays:
            m.add(sum(vars_) <= problem.bays[p])
    m.minimize(
        sum(
            int(round(c.cost_total_cny)) * x[a][k]
            for a, options in enumerate(problem.candidates)
            for k, c in enumerate(options)
        )
        + int(unserved_penalty_cny) * sum(unserved)
    )
    if hint is not None:
        for a, pick in enumerate(hint.assignment):
            for j, v in enumerate(x[a]):
                m.add_hint(v, j == pick)
            m.add_hint(unserved[a], pick is None)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint or BatchResult(
            "cp-sat", tuple([None] * len(x)), 0.0, 0, time.perf_counter() - start
        )
    out = [next((k for k, v in enumerate(row) if solver.value(v)), None) for row in x]
    return BatchResult(
        "cp-sat",
        tuple(out),
        problem.cost(out),
        sum(k is not None for k in out),
        time.perf_counter() - start,
        status == cp_model.OPTIMAL,
    )
