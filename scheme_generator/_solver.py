"""The one place OR-Tools is used: choose the sources of one or many applications.

:class:`SourceSolver` is the seam (a one-method protocol); :class:`CpSatSolver` is the
real one (CP-SAT). Tests may pass any object with the same ``solve`` method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ortools.sat.python import cp_model


@dataclass(frozen=True, slots=True)
class Choice:
    """One candidate as the solver sees it: an integer cost, its feeder and substation."""

    cost: int
    feeder: str
    substation: str
    section: str


@dataclass(frozen=True, slots=True)
class SourceRule:
    """How many sources, and how different they must be (domain §4)."""

    count: int
    distinct_substations: int = 1  # at least this many different substations
    distinct_sections: bool = False  # two sources on two bus sections


class SourceSolver(Protocol):
    def solve(
        self, choices: Sequence[Choice], rule: SourceRule, k: int, time_limit_s: float = 5.0
    ) -> list[tuple[int, ...]]:
        """Up to ``k`` best sets of ``rule.count`` choice indices, best first."""
        ...


class CpSatSolver:
    """CP-SAT: pick ``count`` candidates on different feeders, spanning enough
    substations / sections, at least cost; repeat with a no-good cut for the next best."""

    def solve(
        self, choices: Sequence[Choice], rule: SourceRule, k: int, time_limit_s: float = 5.0
    ) -> list[tuple[int, ...]]:
        if len(choices) < rule.count:
            return []
        found: list[tuple[int, ...]] = []
        m = cp_model.CpModel()
        x = [m.new_bool_var(f"x{i}") for i in range(len(choices))]
        m.add(sum(x) == rule.count)
        for feeder in {c.feeder for c in choices}:
            # two sources on one feeder never count as two (domain §4)
            m.add(sum(x[i] for i, c in enumerate(choices) if c.feeder == feeder) <= 1)
        if rule.count > 1 and rule.distinct_substations > 1:
            subs = sorted({c.substation for c in choices})
            used = {s: m.new_bool_var(f"s{s}") for s in subs}
            for s in subs:
                members = [x[i] for i, c in enumerate(choices) if c.substation == s]
                m.add(sum(members) >= 1).only_enforce_if(used[s])
                m.add(sum(members) == 0).only_enforce_if(used[s].Not())
            m.add(sum(used.values()) >= rule.distinct_substations)
        if rule.count > 1 and rule.distinct_sections:
            for sec in {c.section for c in choices}:
                m.add(sum(x[i] for i, c in enumerate(choices) if c.section == sec) <= 1)
        m.minimize(sum(c.cost * x[i] for i, c in enumerate(choices)))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit_s
        solver.parameters.num_workers = 1
        for _ in range(k):
            status = solver.solve(m)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                break
            chosen = tuple(i for i in range(len(choices)) if solver.value(x[i]))
            found.append(chosen)
            # the next best set: not this one again (a no-good cut on the same model)
            m.add(sum(x[i] for i in chosen) <= rule.count - 1)
        return found
