"""The grid plan as published (电网规划, seed 三(二)4): each planned project with its year,
what it builds, its cost and the openable capacity it adds — found by building it into a
copy of the network and recomputing the rule-based capacity, not estimated."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any

from capacity._publish import district_total, substation_parents
from capacity._rules_based import RuleCapacity, rule_capacity
from capacity._study import build_projects, planned_projects
from capacity._whatif import load_scenario
from grid_models import GridModel, Rules, load_plan, load_rules, model_from_net


def published_plan(
    model: GridModel,
    rules: Rules | None = None,
    *,
    today: dt.date | None = None,
    items: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The network's planned projects (``items``, else the plan shipped for it), each
    with ``adds_kva``: how much more the main transformers (``main_transformers``) and
    the feeders (``feeders``, the sum of their openable capacity) can take once it is
    built, against the network as it is."""
    rules = rules or load_rules()
    plan = sorted(items if items is not None else load_plan(model.id), key=lambda p: p["year"])
    if not plan:
        return []
    first = (today or dt.date.today()).year
    shapes = [
        {k: v for k, v in p.items() if k != "name"} | {"year": max(1, int(p["year"]) - first + 1)}
        for p in plan
    ]
    years = max(int(p["year"]) for p in shapes)
    scenario = load_scenario(
        {"name": "grid plan", "years": years, "planned_projects": shapes}, model
    )
    projects = planned_projects(model, scenario, rules)
    before = rule_capacity(model, rules=rules)
    out = []
    for item, project in zip(plan, projects, strict=True):
        net = copy.deepcopy(model.net)
        build_projects(net, model, [project])
        after = rule_capacity(model_from_net(net, model_id=f"{model.id}+plan", rules=rules))
        row = project.to_dict()
        row.update(
            year=int(item["year"]),
            name=str(item.get("name") or row.get("name") or row["description"]),
            adds_kva={
                "main_transformers": round(_mains(after) - _mains(before), 1),
                "feeders": round(_feeders(after) - _feeders(before), 1),
            },
        )
        out.append(row)
    return out


def _mains(capacity: RuleCapacity) -> float:
    return district_total(substation_parents(capacity))


def _feeders(capacity: RuleCapacity) -> float:
    return sum(max(f.openable_kva, 0.0) for f in capacity.by_kind("feeder"))
