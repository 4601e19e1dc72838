"""Planning studies (规划推演) that end in projects: the problem list (问题清单) of every year
and the project library (项目库) that closes it.

:func:`close_red` takes a network state and proposes, for every element whose own C1 or C2 is
not positive (red, or yellow under reservations), the catalogue project that closes it —
found and checked by :func:`capacity.close_gap` on a path made of the element alone
(reconductoring, the next standard transformer), or, where the largest conductor is not
enough, a new 10 kV feeder taking over part of the load (新出线路切改), checked by rebuilding
the network — and checks every proposal again by recomputing the rule-based capacity of the
whole network with all of them in place. What no project closes is listed with the reason.

:func:`run_study` repeats that year by year: the scenario's changes from year 1, natural
growth per area class compounded, planned projects from their year, and the projects chosen
in earlier years kept. Each year also lists heavy and overloaded lines and transformers
(重过载), N-1 failures, single radial feeders (单辐射) and supply radii over the limit
(供电半径超标); every element's first red year is recorded. Numbers come from the rules file
(``study``, ``scheme.costs_cny``, ``scheme.candidates.supply_radius_m``) and the catalogue.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import pandapower as pp

from capacity._projects import (
    Project,
    _reconductor,
    _trafo_of,
    _transformer,
    close_gap,
    with_projects,
)
from capacity._projects import _patched as _patched_net
from capacity._rules_based import (
    ElementCapacity,
    Reservation,
    RuleCapacity,
    rule_capacity,
    trunk_lines,
)
from capacity._whatif import (
    Scenario,
    ScenarioError,
    _loads_in_scope,
    apply_scenario,
    build_new_feeder,
    route_km,
)
from grid_models import (
    AREA_CLASSES,
    GridModel,
    Rules,
    load_catalogue,
    load_rules,
    model_from_net,
)

#: processing order: what feeds comes before what it feeds (a parent's project may close
#: its children's red; a child's never its parent's)
_KIND_ORDER = ("main_transformer", "bus_section", "feeder", "segment", "distribution_transformer")
PROBLEM_LABELS = {
    "overload": "过载",
    "heavy_load": "重载",
    "n1": "N-1不满足",
    "radial": "单辐射",
    "radius_mv": "10kV供电半径超标",
    "radius_lv": "0.4kV供电半径超标",
    "red": "可开放容量不足",
}
PROJECT_LABELS = {
    "reconductor": "导线改造",
    "distribution_transformer_replacement": "配变增容",
    "main_transformer_replacement": "主变增容",
    "new_feeder": "新出线路切改",
}


@dataclass(frozen=True, slots=True)
class NewFeeder:
    """A new 10 kV feeder (新出线路): from a bus section's free bay to a point on a loaded
    feeder, the line that fed that point's segment opened (the new normally-open tie), so
    the point and what lies beyond it move to the new feeder (切改)."""

    bus_section_id: str
    from_bus: int
    to_connection_point_id: str
    to_bus: int
    std_type: str
    length_km: float
    open_line: int | None


#: The project library's columns (projects.csv and the report's table).
PROJECT_COLUMNS = (
    "id",
    "year",
    "source",
    "kind",
    "kind_zh",
    "element_id",
    "name",
    "description",
    "cost_cny",
    "duration_workdays",
    "funding",
    "fixes",
)


@dataclass(frozen=True, slots=True)
class StudyProject:
    """One entry of the project library (项目库): what it builds, what it costs, the year it
    enters service and the red elements it was checked to close."""

    id: str
    year: int
    source: str  # "study" (proposed here) or "planned" (given in the scenario)
    kind: str
    element_id: str
    name: str
    description: str
    cost_cny: float
    duration_workdays: int
    funding: str  # "grid" or "customer" (a customer-owned transformer, 专变)
    catalogue: Project | None = None
    new_feeder: NewFeeder | None = None
    fixes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "year": self.year,
            "source": self.source,
            "kind": self.kind,
            "kind_zh": PROJECT_LABELS.get(self.kind, self.kind),
            "element_id": self.element_id,
            "name": self.name,
            "description": self.description,
            "cost_cny": round(self.cost_cny),
            "duration_workdays": self.duration_workdays,
            "funding": self.funding,
            "fixes": list(self.fixes),
        }
        if self.catalogue is not None:
            shape = self.catalogue.to_dict()
            out.update({k: v for k, v in shape.items() if k not in out})
        if self.new_feeder is not None:
            nf = self.new_feeder
            out.update(
                bus_section_id=nf.bus_section_id,
                to_connection_point_id=nf.to_connection_point_id,
                std_type=nf.std_type,
                length_km=round(nf.length_km, 3),
                open_line=nf.open_line,
            )
        return out


@dataclass
class Closure:
    """Projects that close a network state's red elements, checked by recomputation."""

    projects: list[StudyProject]
    #: red element (own or inherited) → ids of the projects that closed it
    fixed: dict[str, tuple[str, ...]]
    #: red elements still red (or short) with every project in place, and why
    unresolved: list[dict[str, Any]]
    net: pp.pandapowerNet = field(repr=False)
    model: GridModel = field(repr=False)
    capacity: RuleCapacity = field(repr=False)


def own_short(capacity: RuleCapacity) -> list[ElementCapacity]:
    """Elements red or yellow by their own figures (C1 ≤ 0 or C2 ≤ 0), not a parent's."""
    return [
        e
        for e in capacity.elements.values()
        if e.kind != "connection_point" and (e.c1_kva <= 0 or e.c2_kva <= 0)
    ]


def close_red(
    net: pp.pandapowerNet,
    model: GridModel,
    capacity: RuleCapacity,
    reservations: Sequence[Reservation] = (),
    *,
    rules: Rules | None = None,
    year: int = 1,
    first_number: int = 1,
    max_rounds: int = 3,
    growth_kva: Mapping[str, float] | None = None,
) -> Closure:
    """Projects for every element short in ``capacity`` (of ``model``, built from ``net``):
    top-down, the catalogue project :func:`close_gap` finds along a point's supply path,
    else a new feeder taking over part of the load; then the whole network recomputed with
    them in place, and, where a project moved load onto something else, another round.
    ``growth_kva``: per element, the load still to come by the study's last year; a project
    is sized to carry it where the catalogue allows (``study.size_for_last_year``)."""
    rules = rules or load_rules()
    margin = float(rules.get("study.project_margin_kva"))
    cur_net, cur_model, cur_rc = net, model, capacity
    projects: list[StudyProject] = []
    reasons: dict[str, str] = {}
    targets: set[str] = set()
    for _ in range(max_rounds):
        short = [e for e in own_short(cur_rc) if e.id not in reasons]
        if not short:
            break
        targets |= {e.id for e in short}
        chosen: list[Project] = []
        cut_over: list[ElementCapacity] = []
        reserved = {e.id: e.inflight_kva for e in cur_rc.elements.values() if e.inflight_kva}
        for e in sorted(short, key=lambda x: (_KIND_ORDER.index(x.kind), x.c2_kva)):
            need = margin + max(0.0, (growth_kva or {}).get(e.id, 0.0))
            found, reason = _catalogue_fix(
                cur_model, cur_rc, e, chosen, need, margin, rules, reserved
            )
            chosen += [p for p in found if p not in chosen]
            if reason is None:
                continue
            if e.kind in ("feeder", "segment"):
                cut_over.append(e)
            else:
                reasons[e.id] = reason
        work = _with_catalogue(cur_net, cur_model, chosen)
        for p in chosen:
            projects.append(_study_project(cur_model, p, year, first_number + len(projects)))
        if chosen:
            cur_model = model_from_net(work, model_id=model.id, rules=rules)
            cur_rc = rule_capacity(cur_model, _valid(reservations, cur_model), rules=rules)
        if cut_over:
            number = first_number + len(projects)
            work, cur_model, cur_rc, new_feeders = _cut_overs(
                work,
                cur_model,
                cur_rc,
                cut_over,
                margin,
                rules,
                reservations,
                reasons,
                year,
                number,
            )
            projects += new_feeders
        cur_net = work
        if not chosen and all(e.id in reasons for e in cut_over):
            break  # nothing this round could do: what is left stays as it is
    fixed, unresolved = _verify(model, capacity, cur_model, cur_rc, projects, reasons, targets)
    projects = [
        replace(
            p, fixes=tuple(sorted(k for k, ids in fixed.items() if p.id in ids and k in targets))
        )
        for p in projects
    ]
    return Closure(projects, fixed, unresolved, cur_net, cur_model, cur_rc)


def _valid(reservations: Sequence[Reservation], model: GridModel) -> list[Reservation]:
    return [r for r in reservations if r.connection_point_id in model.connection_points]


def _chain(capacity: RuleCapacity, eid: str) -> list[str]:
    """The element and everything upstream of it, up to its main transformer."""
    out = [eid]
    parent = capacity.elements[eid].parent_id
    while parent is not None and parent in capacity.elements and parent not in out:
        out.append(parent)
        parent = capacity.elements[parent].parent_id
    return out


def _catalogue_fix(
    model: GridModel,
    capacity: RuleCapacity,
    element: ElementCapacity,
    chosen: Sequence[Project],
    need_kva: float,
    margin: float,
    rules: Rules,
    reserved: Mapping[str, float],
) -> tuple[list[Project], str | None]:
    """The catalogue projects that give ``element`` ``need_kva`` of its own (sized for the
    study's last year), else at least ``margin``, with ``chosen`` already built; ``None``
    as reason when closed. :func:`close_gap` does the work on a path made of the element
    alone — what feeds it is closed on its own, top-down, and what it feeds is no reason to
    upgrade it — so any connection point serves as the handle it asks for."""
    handle = next(iter(model.connection_points), None)
    if handle is None:
        return [], "网络无接入点，无法重算"
    patched = _with(model, _touching(model, element, chosen))
    alone = replace(capacity, point_paths={handle: (element.id,)})
    for want in dict.fromkeys((max(need_kva, margin), margin)):
        plan = close_gap(patched, handle, want, rules=rules, base=alone, reserved=reserved)
        if plan.closed:
            return list(plan.projects), None
    return [], _no_project_reason(model, element)


def _touching(
    model: GridModel, element: ElementCapacity, chosen: Sequence[Project]
) -> list[Project]:
    """The chosen projects that change ``element``'s own rating (the lines that rate it, or
    its transformers): the only ones its recomputation needs."""
    if not chosen:
        return []
    if element.kind in ("segment", "feeder"):
        lines = set(
            model.segments[element.id].lines
            if element.kind == "segment"
            else trunk_lines(model, [element.id])[element.id]
        )
        return [p for p in chosen if any(i in lines for i, _ in p.line_types)]
    units = (
        set(model.bus_sections[element.id].main_transformer_ids)
        if element.kind == "bus_section"
        else {element.id}
    )
    return [p for p in chosen if p.transformer is not None and p.transformer[0] in units]


def _no_project_reason(model: GridModel, element: ElementCapacity) -> str:
    """Why the catalogue has no project for an element (in the planner's words)."""
    if element.kind == "distribution_transformer":
        dt = model.distribution_transformers[element.id]
        if dt.ownership == "customer":
            return (
                f"客户专变已是目录最大容量（{dt.sn_kva:.0f} kVA 负载 {element.peak_kva:.0f} kVA）："
                "由客户增设变压器（业扩增容），不属电网项目"
            )
        return (
            f"已超过目录最大配变容量（{dt.sn_kva:.0f} kVA 负载 {element.peak_kva:.0f} kVA）："
            "需新增配变布点、分割低压台区（待现场勘察）"
        )
    if element.kind in ("main_transformer", "bus_section"):
        return "已超过目录最大主变容量：需新建变电站或扩建主变（列入110/35千伏规划）"
    if element.kind == "segment":
        return "目录最大导线仍不足，且无可切改的下游分段"
    return "目录最大导线仍不足，且无可用的新出线间隔或切改点"


def _with(model: GridModel, projects: Sequence[Project]) -> GridModel:
    return with_projects(model, projects)


def _with_catalogue(
    net: pp.pandapowerNet, model: GridModel, projects: Sequence[Project]
) -> pp.pandapowerNet:
    """A copy of ``net`` with the catalogue projects' conductors and transformers in it."""
    out = copy.deepcopy(net)
    if projects:
        patched = _patched_net(out, projects, _trafo_of(model, projects))
        out["line"], out["trafo"] = patched["line"], patched["trafo"]
    return out


def apply_new_feeder(net: pp.pandapowerNet, nf: NewFeeder, name: str) -> int:
    """Build ``nf`` in ``net`` (see :func:`capacity._whatif.build_new_feeder`)."""
    return build_new_feeder(
        net, nf.from_bus, nf.to_bus, nf.length_km, nf.std_type, nf.open_line, name
    )


def _study_project(model: GridModel, p: Project, year: int, number: int) -> StudyProject:
    customer = (
        p.kind == "distribution_transformer_replacement"
        and model.distribution_transformers[p.element_id].ownership == "customer"
    )
    return StudyProject(
        id=f"Y{year}-{number:03d}",
        year=year,
        source="study",
        kind=p.kind,
        element_id=p.element_id,
        name=_name(model, p.element_id),
        description=p.description,
        cost_cny=float(p.cost_cny),
        duration_workdays=int(p.duration_workdays),
        funding="customer" if customer else "grid",
        catalogue=p,
    )


def _name(model: GridModel, eid: str) -> str:
    tables: tuple[Mapping[str, Any], ...] = (
        model.feeders,
        model.distribution_transformers,
        model.main_transformers,
        model.bus_sections,
        model.connection_points,
    )
    for table in tables:
        item = table.get(eid)
        if item is not None:
            return str(item.name)
    if eid in model.segments:
        seg = model.segments[eid]
        return f"{model.feeders[seg.feeder_id].name} {eid}"
    return eid


# ------------------------------------------------------------------ new feeder (切改)
def new_feeder_std_type(rules: Rules, area_class: str) -> str:
    """The conductor of a new feeder: cable or overhead by area class
    (``scheme.line_by_area``), the largest size the rules permit for it."""
    kind = rules.get("scheme.line_by_area")[area_class]
    names = rules.get("scheme.conductors.mv")[kind]
    cat = load_catalogue()
    return str(max(names, key=lambda n: cat.line_type(n).max_i_ka))


def new_feeder_cost(rules: Rules, length_km: float) -> float:
    costs = rules.get("scheme.costs_cny")
    return float(costs["substation_bay_and_line_fixed"]) + length_km * float(
        costs["substation_line_per_km"]
    )


@dataclass
class _CutOverSearch:
    """The cut-over points still to try for one short feeder or segment."""

    element_id: str
    substation_id: str
    points: list[str]
    tried: int = 0


def _cut_over_points(
    model: GridModel, capacity: RuleCapacity, eid: str, margin: float, trials: int
) -> list[str] | str:
    """Where a new feeder could take over part of ``eid`` (a feeder, or the part of a
    feeder beyond a segment): one 10 kV point per segment below it whose load covers the
    shortfall, nearest the substation, the most even split first; or why there is none."""
    element = capacity.elements[eid]
    feeder_id = eid if element.kind == "feeder" else model.segments[eid].feeder_id
    sub = model.substations[model.feeders[feeder_id].substation_id]
    shortfall = margin - element.c2_kva
    below = set(_segments_below(model, feeder_id, eid if element.kind == "segment" else None))
    points: dict[str, list[Any]] = {}
    for c in model.connection_points.values():
        if c.segment_id in below and c.kind in ("ring_main_unit", "pole", "switching_station"):
            points.setdefault(c.segment_id, []).append(c)
    options: list[tuple[float, str]] = []
    for seg_id, here in points.items():
        moved = capacity.elements[seg_id].peak_kva
        if not math.isfinite(moved) or moved < shortfall:
            continue
        if model.segment_entry_line(seg_id) is None:
            continue
        point = min(
            here, key=lambda c: (c.lon_deg - sub.lon_deg) ** 2 + (c.lat_deg - sub.lat_deg) ** 2
        )
        options.append((abs(moved - element.peak_kva / 2), point.id))
    if not options:
        return _no_project_reason(model, element)
    return [cp for _, cp in sorted(options)[:trials]]


def _cut_overs(
    net: pp.pandapowerNet,
    model: GridModel,
    capacity: RuleCapacity,
    short: Sequence[ElementCapacity],
    margin: float,
    rules: Rules,
    reservations: Sequence[Reservation],
    reasons: dict[str, str],
    year: int,
    first_number: int,
) -> tuple[pp.pandapowerNet, GridModel, RuleCapacity, list[StudyProject]]:
    """New feeders that take over part of each short feeder or segment so that both it and
    the new feeder are left with room. Cut-over points are tried from the most even split,
    one per substation at a time, all of a batch checked by one rebuild of the network (a
    cut-over that leaves its element short, the new feeder short, or anything else of its
    substations newly short is undone and its next point tried). Returns the network, model
    and capacity with the accepted ones, and their library entries; ``reasons`` gets why
    the others have none."""
    trials = int(rules.get("study.cut_over_trials"))
    searches: dict[str, _CutOverSearch] = {}
    for e in short:
        now = capacity.elements.get(e.id)
        if now is None or (now.c1_kva > 0 and now.c2_kva > 0):
            continue  # closed by this round's other projects
        points = _cut_over_points(model, capacity, e.id, margin, trials)
        if isinstance(points, str):
            reasons[e.id] = points
        elif now.substation_id is not None:
            searches[e.id] = _CutOverSearch(e.id, now.substation_id, points)
    out: list[StudyProject] = []
    while searches:
        busy: set[str] = set()
        placed: list[tuple[_CutOverSearch, NewFeeder]] = []
        for search in list(searches.values()):
            if search.substation_id in busy:
                continue
            if search.tried >= len(search.points):
                reasons[search.element_id] = "新出线路切改后仍不足（已按重算校核）"
                del searches[search.element_id]
                continue
            cp_id = search.points[search.tried]
            section = _free_section(model, capacity, search.substation_id, cp_id, rules)
            if section is None:
                reasons[search.element_id] = (
                    "变电站无空余10kV出线间隔，供电半径内亦无：需扩建间隔或新建变电站"
                )
                del searches[search.element_id]
                continue
            section_sub = model.bus_sections[section].substation_id
            if section_sub in busy:
                continue
            search.tried += 1
            busy |= {search.substation_id, section_sub}
            cp = model.connection_points[cp_id]
            nf = NewFeeder(
                bus_section_id=section,
                from_bus=int(model.bus_sections[section].buses[0]),
                to_connection_point_id=cp_id,
                to_bus=int(cp.bus),
                std_type=new_feeder_std_type(rules, cp.area_class),
                length_km=route_km(model, section_sub, cp_id),
                open_line=model.segment_entry_line(cp.segment_id),
            )
            placed.append((search, nf))
        if not placed:
            break
        built = _build_cut_overs(net, model, [nf for _, nf in placed], rules, year, first_number)
        trial_net, trial_model, lines = built
        trial = rule_capacity(trial_model, _valid(reservations, trial_model), rules=rules)
        before = {e.id for e in own_short(capacity)}
        fresh_short = {e.id for e in own_short(trial)} - before
        good = []
        for (search, nf), line in zip(placed, lines, strict=True):
            subs = {search.substation_id, model.bus_sections[nf.bus_section_id].substation_id}
            relieved = trial.elements.get(search.element_id)
            new_feeder = trial.elements.get(f"fd:{line}")
            elsewhere = {
                x
                for x in fresh_short
                if trial.elements[x].substation_id in subs and x != f"fd:{line}"
            }
            if (
                relieved is not None
                and relieved.c2_kva >= margin - 1e-6
                and new_feeder is not None
                and new_feeder.c2_kva > 0
                and not elsewhere
            ):
                good.append((search, nf))
        if good and len(good) < len(placed):
            trial_net, trial_model, lines = _build_cut_overs(
                net, model, [nf for _, nf in good], rules, year, first_number
            )
            trial = rule_capacity(trial_model, _valid(reservations, trial_model), rules=rules)
        for search, nf in good:
            number = first_number
            first_number += 1
            out.append(
                _new_feeder_project(model, capacity, search.element_id, nf, rules, year, number)
            )
            del searches[search.element_id]
        if good:
            net, model, capacity = trial_net, trial_model, trial
    return net, model, capacity, out


def _build_cut_overs(
    net: pp.pandapowerNet,
    model: GridModel,
    feeders: Sequence[NewFeeder],
    rules: Rules,
    year: int,
    first_number: int,
) -> tuple[pp.pandapowerNet, GridModel, list[int]]:
    """A copy of ``net`` with ``feeders`` built in order (named by the library entries they
    will get), its model, and the new lines."""
    out = copy.deepcopy(net)
    lines = [
        apply_new_feeder(out, nf, f"新出线路 Y{year}-{first_number + k:03d}")
        for k, nf in enumerate(feeders)
    ]
    return out, model_from_net(out, model_id=model.id, rules=rules), lines


def _segments_below(model: GridModel, feeder_id: str, segment_id: str | None) -> list[str]:
    """The segments a cut-over may move: every segment of the feeder but its first (for a
    feeder), or the segments beyond ``segment_id``."""
    children: dict[str, list[str]] = {}
    for s in model.feeders[feeder_id].segment_ids:
        parent = model.segments[s].parent_segment_id
        if parent is not None:
            children.setdefault(parent, []).append(s)
    if segment_id is None:
        return [
            s for s in model.feeders[feeder_id].segment_ids if model.segments[s].parent_segment_id
        ]
    out: list[str] = []
    stack = list(children.get(segment_id, []))
    while stack:
        s = stack.pop()
        out.append(s)
        stack.extend(children.get(s, []))
    return out


def _free_section(
    model: GridModel, capacity: RuleCapacity, substation_id: str, cp_id: str, rules: Rules
) -> str | None:
    """A bus section with a free bay for a new feeder: the feeder's own substation first
    (the one with most room), else the nearest substation within the 10 kV supply radius of
    the point's area class."""
    radius_m = rules.get("scheme.candidates.supply_radius_m.mv")
    cp = model.connection_points[cp_id]

    def room(sid: str) -> float:
        e = capacity.elements.get(sid)
        return e.openable_kva if e is not None else -math.inf

    own = [
        s.id
        for s in model.bus_sections.values()
        if s.substation_id == substation_id and s.bays_free and room(s.id) > 0
    ]
    if own:
        return max(own, key=room)
    near = [
        (route_km(model, s.substation_id, cp_id), s.id)
        for s in model.bus_sections.values()
        if s.bays_free and room(s.id) > 0
    ]
    near = [(km, s) for km, s in near if km * 1000.0 <= float(radius_m[cp.area_class])]
    return min(near)[1] if near else None


def _new_feeder_project(
    model: GridModel,
    capacity: RuleCapacity,
    eid: str,
    nf: NewFeeder,
    rules: Rules,
    year: int,
    number: int,
) -> StudyProject:
    cp = model.connection_points[nf.to_connection_point_id]
    moved = capacity.elements[cp.segment_id].peak_kva if cp.segment_id else math.nan
    return StudyProject(
        id=f"Y{year}-{number:03d}",
        year=year,
        source="study",
        kind="new_feeder",
        element_id=eid,
        name=_name(model, eid),
        description=(
            f"{_new_feeder_text(model, nf)}，切改 {_name(model, eid)} 负荷约 {moved:.0f} kVA，"
            "原供电线路断开转为联络"
        ),
        cost_cny=new_feeder_cost(rules, nf.length_km),
        duration_workdays=int(rules.get("scheme.upgrade_durations_workdays.new_feeder")),
        funding="grid",
        new_feeder=nf,
    )


def _new_feeder_text(model: GridModel, nf: NewFeeder) -> str:
    section = model.bus_sections[nf.bus_section_id]
    cp = model.connection_points[nf.to_connection_point_id]
    return f"{section.name} 新出10kV线路 {nf.std_type} {nf.length_km:.2f} km 至 {cp.name}"


# ------------------------------------------------------------------ verification
def _verify(
    model: GridModel,
    before: RuleCapacity,
    model_after: GridModel,
    after: RuleCapacity,
    projects: Sequence[StudyProject],
    reasons: Mapping[str, str],
    targets: set[str],
) -> tuple[dict[str, tuple[str, ...]], list[dict[str, Any]]]:
    """Which project closed each element red before (own, inherited or made short during
    the rounds): red before, not red and not short after, with a project on its supply
    path (or a new feeder of its substation that moved load); the rest is unresolved."""
    on: dict[str, list[str]] = {}
    for p in projects:
        on.setdefault(p.element_id, []).append(p.id)
        if p.kind == "main_transformer_replacement":
            for s in model_after.bus_sections.values():
                if p.element_id in s.main_transformer_ids:
                    on.setdefault(s.id, []).append(p.id)
    cut_overs: dict[str | None, list[str]] = {}
    for p in projects:
        if p.kind == "new_feeder":
            sub = (
                before.elements[p.element_id].substation_id
                if p.element_id in before.elements
                else None
            )
            cut_overs.setdefault(sub, []).append(p.id)
    fixed: dict[str, tuple[str, ...]] = {}
    unresolved: list[dict[str, Any]] = []
    red = {e.id for e in before.elements.values() if e.light == "red"} | targets
    line_segment = {line: s.id for s in model_after.segments.values() for line in s.lines}
    for eid in sorted(red):
        b = before.elements.get(eid) or after.elements.get(eid)
        if b is None:
            continue
        a = after.elements.get(eid)
        own = b.kind != "connection_point"
        now = [a] if a is not None else []
        if a is None and eid in model.segments:
            # a cut-over renames the segment it opens: judge the segments its lines are in now
            now_ids = {line_segment.get(line) for line in model.segments[eid].lines}
            now = [after.elements[x] for x in now_ids if x is not None and x in after.elements]
            a = min(now, key=lambda x: x.c2_kva) if now else None
        opened = [
            p.id
            for p in projects
            if p.new_feeder is not None
            and eid in model.segments
            and p.new_feeder.open_line in model.segments[eid].lines
        ]
        if a is None and opened:
            fixed[eid] = tuple(opened)  # its line is now the open tie of a new feeder
            continue
        still = not now or any(x.light == "red" or (own and x.c2_kva <= 0) for x in now)
        if not still:
            # its own project where it had one; else what was built upstream of it (a red
            # parent closed); else a new feeder of its substation that moved load off it
            chain = _chain(before, eid) if eid in before.elements else [eid]
            ids = list(on.get(eid, ())) if eid in targets else []
            ids = ids or [pid for x in chain[1:] for pid in on.get(x, ())]
            ids = ids or cut_overs.get(b.substation_id, [])
            fixed[eid] = tuple(dict.fromkeys(ids))
            continue
        reason = reasons.get(eid)
        if reason is None and a is not None:
            chain = _chain(after, eid)[1:]
            upstream = next((x for x in chain if x in reasons), None)
            upstream = upstream or next((x for x in chain if after.elements[x].c1_kva <= 0), None)
            if upstream is not None:
                reason = f"上级 {_name(model_after, upstream)} 仍不足：" + reasons.get(
                    upstream, "见该设备"
                )
        unresolved.append(
            {
                "element_id": eid,
                "kind": b.kind,
                "name": b.name,
                "substation_id": b.substation_id,
                "c1_kva": _r(a.c1_kva if a else b.c1_kva),
                "c2_kva": _r(a.c2_kva if a else b.c2_kva),
                "own": own and eid in targets,
                "reason": reason or "重算后仍不足",
            }
        )
    return fixed, unresolved


def _r(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


# ------------------------------------------------------------------ problems (问题清单)
def problem_list(
    model: GridModel, capacity: RuleCapacity, rules: Rules, year: int
) -> list[dict[str, Any]]:
    """The year's problems: heavy and overloaded feeders and transformers (peak ÷ rating,
    ``study.load_rate``), N-1 failures (a feeder or main transformer above its N-1 limit, a
    radial feeder, a single-unit substation), single radial feeders, 10 kV and 0.4 kV supply
    radii over ``scheme.candidates.supply_radius_m``, and elements without openable capacity."""
    heavy = float(rules.get("study.load_rate.heavy"))
    over = float(rules.get("study.load_rate.overload"))
    radius = rules.get("scheme.candidates.supply_radius_m")
    out: list[dict[str, Any]] = []

    def add(
        e: ElementCapacity,
        cat: str,
        detail: str,
        value: Any = None,
        limit: Any = None,
        unit: str = "",
    ) -> None:
        out.append(
            {
                "year": year,
                "category": cat,
                "category_zh": PROBLEM_LABELS[cat],
                "element_id": e.id,
                "kind": e.kind,
                "name": e.name,
                "substation_id": e.substation_id,
                "value": value,
                "limit": limit,
                "unit": unit,
                "detail": detail,
            }
        )

    rates = load_rates(capacity)
    for e in capacity.elements.values():
        rate = rates.get(e.id)
        loaded = e.kind in ("feeder", "main_transformer", "distribution_transformer")
        if loaded and rate is not None and rate >= heavy:
            cat, limit = ("overload", over) if rate > over else ("heavy_load", heavy)
            add(e, cat, f"最大负载率 {100 * rate:.0f}%", round(100 * rate, 1), 100 * limit, "%")
        if e.kind != "connection_point" and (e.c1_kva <= 0 or e.c2_kva <= 0):
            detail = f"C1 {e.c1_kva:.0f} kVA，C2 {e.c2_kva:.0f} kVA"
            add(e, "red", detail, _r(min(e.c1_kva, e.c2_kva)), 0, "kVA")
    units = Counter(m.substation_id for m in model.main_transformers.values())
    for f in model.feeders.values():
        fe = capacity.elements.get(f.id)
        if fe is None:
            continue
        if f.wiring_mode == "radial":
            add(fe, "radial", "单辐射，无联络，故障时负荷无法转供")
            add(fe, "n1", "单辐射，不满足N-1")
        elif fe.c1_kva < 0:
            lam = 100 * fe.load_rate_limit
            add(
                fe,
                "n1",
                f"负载率超过N-1限值 {lam:.0f}%（{f.wiring_mode}），故障时负荷无法全部转供",
                round(100 * rates.get(f.id, 0.0), 1),
                round(lam),
                "%",
            )
    for m in model.main_transformers.values():
        me = capacity.elements.get(m.id)
        if me is None:
            continue
        if units[m.substation_id] <= 1:
            add(me, "n1", "单主变变电站，不满足N-1")
        elif me.c1_kva < 0:
            pct = round(100 * rates.get(m.id, 0.0), 1)
            add(me, "n1", "一台主变停运后其余主变过载", pct, round(100 * me.load_rate_limit), "%")
    for fid, (km, cls) in feeder_radius_km(model).items():
        limit = float(radius["mv"][cls]) / 1000.0
        if km > limit and fid in capacity.elements:
            detail = f"供电半径 {km:.2f} km > {limit:g} km（{cls}）"
            add(capacity.elements[fid], "radius_mv", detail, round(km, 2), limit, "km")
    for dt_id, (m_len, cls) in lv_radius_m(model).items():
        limit = float(radius["lv"][cls])
        if m_len > limit and dt_id in capacity.elements:
            detail = f"低压供电半径 {m_len:.0f} m > {limit:g} m（{cls}）"
            add(capacity.elements[dt_id], "radius_lv", detail, round(m_len), limit, "m")
    return out


def load_rates(capacity: RuleCapacity) -> dict[str, float]:
    """Each element's highest load over its rating at that season's rating factor."""
    seasons = capacity.seasons
    out: dict[str, float] = {}
    if seasons is None:
        return out
    for eid, row in seasons.row_of.items():
        e = capacity.elements.get(eid)
        if e is None or not e.rating_kva or not math.isfinite(e.rating_kva):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = seasons.peaks[row] / (e.rating_kva * seasons.factors[row])
        finite = rate[np.isfinite(rate)]
        if finite.size:
            out[eid] = float(finite.max())
    return out


def _area_of(model: GridModel, points: Iterable[str]) -> str:
    """The commonest area class among points; the stricter one on a tie (city first)."""
    counts = Counter(model.connection_points[p].area_class for p in points)
    if not counts:
        return "rural"
    top = max(counts.values())
    return next(c for c in AREA_CLASSES if counts.get(c) == top)


def feeder_radius_km(model: GridModel) -> dict[str, tuple[float, str]]:
    """Each feeder's supply radius (供电半径: the line length from its head to its farthest
    10 kV bus) and the area class it serves (its points' commonest)."""
    line = model.net.line
    points: dict[str, list[str]] = {}
    for c in model.connection_points.values():
        if c.feeder_id and c.vn_kv > 1.0:
            points.setdefault(c.feeder_id, []).append(c.id)
    out: dict[str, tuple[float, str]] = {}
    for f in model.feeders.values():
        g = nx.Graph()
        rows = line.loc[list(f.lines)]
        for a, b, km in zip(rows["from_bus"], rows["to_bus"], rows["length_km"], strict=True):
            g.add_edge(int(a), int(b), weight=float(km))
        if f.head_bus not in g:
            continue
        far = max(nx.single_source_dijkstra_path_length(g, f.head_bus).values())
        out[f.id] = (float(far), _area_of(model, points.get(f.id, [])))
    return out


def lv_radius_m(model: GridModel) -> dict[str, tuple[float, str]]:
    """Each public distribution transformer's 0.4 kV supply radius (its farthest LV bus
    along the LV lines, m) and the area class at it."""
    cached = model.__dict__.get("_lv_radius")
    if cached is not None:
        return dict(cached)
    net = model.net
    lv = set(model.lv_buses)
    line = net.line[net.line["in_service"].astype(bool)]
    g = nx.Graph()
    for a, b, km in zip(line["from_bus"], line["to_bus"], line["length_km"], strict=True):
        if int(a) in lv and int(b) in lv:
            g.add_edge(int(a), int(b), weight=float(km) * 1000.0)
    sw = net.switch
    for a, b, et, closed in zip(sw["bus"], sw["element"], sw["et"], sw["closed"], strict=True):
        if et == "b" and bool(closed) and int(a) in lv and int(b) in lv:
            g.add_edge(int(a), int(b), weight=0.0)
    out: dict[str, tuple[float, str]] = {}
    for dt in model.distribution_transformers.values():
        if dt.ownership != "public" or dt.lv_bus not in g:
            continue
        far = max(nx.single_source_dijkstra_path_length(g, dt.lv_bus).values())
        cp = model.connection_points.get(f"cp:{dt.hv_bus}")
        cls = cp.area_class if cp else "rural"
        out[dt.id] = (float(far), cls)
    model.__dict__["_lv_radius"] = out
    return dict(out)


# ------------------------------------------------------------------ the multi-year study
@dataclass
class StudyYear:
    """One year of a study: the problems and red elements before the year's new projects,
    the projects entering service, and what is left after (recomputed)."""

    year: int
    growth_factor: dict[str, float]
    problems: list[dict[str, Any]]
    projects: list[StudyProject]
    fixed: dict[str, tuple[str, ...]]
    unresolved: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    model_before: GridModel = field(repr=False)
    capacity_before: RuleCapacity = field(repr=False)
    model_after: GridModel = field(repr=False)
    capacity_after: RuleCapacity = field(repr=False)

    @property
    def red_before(self) -> list[str]:
        return [e.id for e in self.capacity_before.elements.values() if e.light == "red"]

    def summary(self) -> dict[str, Any]:
        cats = Counter(p["category"] for p in self.problems)

        def lights(rc: RuleCapacity) -> dict[str, int]:  # fmt: skip
            return dict(Counter(e.light for e in rc.elements.values()))

        return {
            "year": self.year,
            "problems": {k: cats.get(k, 0) for k in PROBLEM_LABELS},
            "red_elements": sum(1 for e in own_short(self.capacity_before)),
            "red_points": sum(
                1
                for e in self.capacity_before.elements.values()
                if e.kind == "connection_point" and e.light == "red"
            ),
            "projects": len(self.projects),
            "projects_study": sum(p.source == "study" for p in self.projects),
            "cost_cny": round(sum(p.cost_cny for p in self.projects if p.funding == "grid")),
            "cost_customer_cny": round(
                sum(p.cost_cny for p in self.projects if p.funding == "customer")
            ),
            "unresolved": len(self.unresolved),
            "lights_before": lights(self.capacity_before),
            "lights_after": lights(self.capacity_after),
        }


@dataclass
class StudyResult:
    """A multi-year study: the present, every year, and each element's first red year."""

    scenario: Scenario
    present: RuleCapacity = field(repr=False)
    present_model: GridModel = field(repr=False)
    years: list[StudyYear]
    changes: list[str]
    first_red: dict[str, int]
    #: the last year with the planned projects only (what doing nothing more leads to)
    last_without_projects: RuleCapacity | None = field(default=None, repr=False)
    seconds: float = 0.0

    @property
    def projects(self) -> list[StudyProject]:
        return [p for y in self.years for p in y.projects]

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "years": self.scenario.years,
            "growth_per_year_percent": dict(self.scenario.growth_per_year),
            "changes": self.changes,
            "per_year": [y.summary() for y in self.years],
            "projects": len(self.projects),
            "cost_cny": round(sum(p.cost_cny for p in self.projects if p.funding == "grid")),
            "cost_customer_cny": round(
                sum(p.cost_cny for p in self.projects if p.funding == "customer")
            ),
            "unresolved": len({u["element_id"] for y in self.years for u in y.unresolved}),
            "seconds": round(self.seconds, 1),
        }

    def problem_rows(self) -> list[dict[str, Any]]:
        """Every year's problems, each with the projects entering that year that fix it."""
        out = []
        for y in self.years:
            for p in y.problems:
                out.append({**p, "projects": ";".join(y.fixed.get(p["element_id"], ()))})
        return out

    def project_rows(self) -> list[dict[str, Any]]:
        """The project library (项目库) as flat rows, in :data:`PROJECT_COLUMNS`."""
        rows = []
        for p in self.projects:
            d = p.to_dict() | {"fixes": ";".join(p.fixes)}
            rows.append({k: d.get(k) for k in PROJECT_COLUMNS})
        return rows

    def first_red_rows(self) -> list[dict[str, Any]]:
        """Every element red in some year: its first red year, whether it is red today,
        the projects that closed it and, where none could, why."""
        fixed_by: dict[str, list[str]] = {}
        reason: dict[str, str] = {}
        for y in self.years:
            for eid, ids in y.fixed.items():
                fixed_by.setdefault(eid, []).extend(ids)
            for u in y.unresolved:
                reason.setdefault(u["element_id"], f"第{y.year}年：{u['reason']}")
        rows = []
        for eid, year in sorted(self.first_red.items(), key=lambda kv: (kv[1], kv[0])):
            e = self.years[year - 1].capacity_before.elements[eid]
            now = self.present.elements.get(eid)
            rows.append(
                {
                    "element_id": eid,
                    "kind": e.kind,
                    "name": e.name,
                    "substation_id": e.substation_id,
                    "first_red_year": year,
                    "red_now": bool(now is not None and now.light == "red"),
                    "own": e.kind != "connection_point" and (e.c1_kva <= 0 or e.c2_kva <= 0),
                    "c1_kva_first_red": _r(e.c1_kva),
                    "fixed_by": ";".join(dict.fromkeys(fixed_by.get(eid, []))),
                    "not_closable": eid in reason,
                    "reason": reason.get(eid, ""),
                    "lon_deg": e.lon_deg if math.isfinite(e.lon_deg) else None,
                    "lat_deg": e.lat_deg if math.isfinite(e.lat_deg) else None,
                }
            )
        return rows

    def unresolved_rows(self) -> list[dict[str, Any]]:
        return [{"year": y.year, **u} for y in self.years for u in y.unresolved]


def load_area_classes(model: GridModel) -> np.ndarray:
    """Each load's area class (that of the 10 kV point it hangs from, as the what-if
    scopes read it; where there is none, the class at the load's bus)."""
    out = np.full(len(model.net.load), "", dtype=object)
    pos = {idx: i for i, idx in enumerate(model.net.load.index)}
    for cls in AREA_CLASSES:
        for idx in _loads_in_scope(model, "area_class", cls):
            out[pos[idx]] = cls
    from grid_models import bus_positions

    where = bus_positions(model.net)
    for idx, i in pos.items():
        if not out[i]:
            lon, lat = where.get(int(model.net.load.at[idx, "bus"]), (None, None))
            out[i] = (
                model.area_class_at(lon, lat) if lon is not None and lat is not None else "rural"
            )
    return out


def growth_factors(scenario: Scenario, year: int) -> dict[str, float]:
    """Load in ``year`` over load today, per area class: growth compounded year by year."""
    return {
        c: (1.0 + float(scenario.growth_per_year.get(c, 0.0)) / 100.0) ** year for c in AREA_CLASSES
    }


def year_network(
    model: GridModel,
    scenario: Scenario,
    year: int,
    projects: Sequence[StudyProject],
    areas: np.ndarray | None = None,
) -> tuple[pp.pandapowerNet, list[str]]:
    """The network of ``year``: loads grown, the scenario's changes (added loads from their
    year), and ``projects`` built in the order given (a copy; ``model`` is untouched)."""
    areas = load_area_classes(model) if areas is None else areas
    factors = growth_factors(scenario, year)
    grown = copy.deepcopy(model.net)
    scale = np.array([factors.get(str(a), 1.0) for a in areas], dtype=float)
    grown.load["p_mw"] = grown.load["p_mw"].to_numpy(float) * scale
    grown.load["q_mvar"] = grown.load["q_mvar"].to_numpy(float) * scale
    this_year = replace(
        scenario,
        added_loads=tuple(a for a in scenario.added_loads if int(a.get("year", 1)) <= year),
    )
    net, changes = apply_scenario(replace(model, net=grown), this_year)
    build_projects(net, model, projects)
    return net, changes


def build_projects(
    net: pp.pandapowerNet, model: GridModel, projects: Sequence[StudyProject]
) -> None:
    """Build ``projects`` into ``net`` in order (conductors and transformers replaced, new
    feeders added); element ids are ``model``'s (they are stable across the study)."""
    for p in projects:
        if p.catalogue is not None:
            patched = _patched_net(net, [p.catalogue], _trafo_of(model, [p.catalogue]))
            net["line"], net["trafo"] = patched["line"], patched["trafo"]
        if p.new_feeder is not None:
            apply_new_feeder(net, p.new_feeder, f"新出线路 {p.id}")


def planned_projects(model: GridModel, scenario: Scenario, rules: Rules) -> list[StudyProject]:
    """The scenario's planned projects as library entries, costed by the same rules as the
    study's own (a ``cost_cny`` given in the scenario wins); every problem listed at once."""
    out: list[StudyProject] = []
    problems: list[str] = []
    cat = load_catalogue()
    for i, pj in enumerate(sorted(scenario.planned_projects, key=lambda x: int(x["year"]))):
        year, kind, eid = int(pj["year"]), str(pj["kind"]), str(pj.get("element_id", ""))
        where = f"planned_projects[{i}]"
        project: Project | None = None
        nf: NewFeeder | None = None
        if kind == "reconductor":
            lt = cat.line_type(pj["std_type"])
            lines = list(
                pj.get("lines")
                or (
                    model.segments[eid].lines
                    if eid in model.segments
                    else trunk_lines(model, [eid])[eid]
                )
            )
            u_kv = float(model.net.bus.at[int(model.net.line.at[lines[0], "from_bus"]), "vn_kv"])
            project = _reconductor(
                model, eid, lines, math.sqrt(3.0) * u_kv * lt.max_i_ka * 1000.0, rules
            )
            if project is None or any(t != lt.name for _, t in project.line_types):
                problems.append(
                    f"{where}.std_type: {lt.name} is not a permitted conductor for these lines "
                    "or they are already as large (scheme.conductors)"
                )
                continue
        elif kind.endswith("transformer_replacement"):
            role = "distribution" if kind.startswith("distribution") else "main"
            tt = cat.transformer_type(pj["new_type"])
            project = _transformer(model, eid, tt.sn_kva, role, rules)
            if project is None or project.transformer != (eid, tt.name):
                problems.append(
                    f"{where}.new_type: {tt.name} is not the next standard size above the "
                    "present unit of the same insulation"
                )
                continue
        else:
            section = model.bus_sections[pj["bus_section_id"]]
            cp = model.connection_points[pj["to_connection_point_id"]]
            km = float(pj.get("length_km") or route_km(model, section.substation_id, cp.id))
            nf = NewFeeder(
                section.id,
                int(section.buses[0]),
                cp.id,
                int(cp.bus),
                str(pj.get("std_type") or new_feeder_std_type(rules, cp.area_class)),
                km,
                model.segment_entry_line(cp.segment_id),
            )
            eid = eid or (cp.feeder_id or cp.id)
        number = i + 1
        if project is not None:
            entry = _study_project(model, project, year, number)
        else:
            assert nf is not None
            entry = StudyProject(
                id="",
                year=year,
                source="planned",
                kind="new_feeder",
                element_id=eid,
                name=_name(model, eid),
                description=_new_feeder_text(model, nf),
                cost_cny=new_feeder_cost(rules, nf.length_km),
                duration_workdays=int(rules.get("scheme.upgrade_durations_workdays.new_feeder")),
                funding="grid",
                new_feeder=nf,
            )
        if "cost_cny" in pj:
            entry = replace(entry, cost_cny=float(pj["cost_cny"]))
        out.append(replace(entry, id=f"P{year}-{number:03d}", source="planned"))
    if problems:
        raise ScenarioError(problems)
    return out


def run_study(
    model: GridModel,
    scenario: Scenario,
    reservations: Sequence[Reservation] = (),
    *,
    rules: Rules | None = None,
) -> StudyResult:
    """The scenario year by year (``scenario.years``; one year for a snapshot scenario):
    each year's network built from the present one, its problems listed, the projects that
    close its red elements chosen and checked, and kept for the years after."""
    import time

    started = time.perf_counter()
    rules = rules or load_rules()
    years = max(1, scenario.years)
    areas = load_area_classes(model)
    planned = planned_projects(model, scenario, rules)
    present = rule_capacity(model, _valid(reservations, model), rules=rules)
    last: RuleCapacity | None = None
    if years > 1:
        # the last year with nothing but the planned projects: what doing nothing leads to,
        # and the load projects are sized for
        net, _ = year_network(model, scenario, years, planned, areas)
        m_last = model_from_net(net, model_id=f"{model.id}+{scenario.name}+last", rules=rules)
        last = rule_capacity(m_last, _valid(reservations, m_last), rules=rules)
    in_force: list[StudyProject] = []
    out: list[StudyYear] = []
    first_red: dict[str, int] = {}
    changes: list[str] = []
    first: RuleCapacity | None = None
    sized_for = last if rules.get("study.size_for_last_year") else None
    for year in range(1, years + 1):
        in_force += [p for p in planned if p.year == year]
        net, changes = year_network(model, scenario, year, in_force, areas)
        m_year = model_from_net(net, model_id=f"{model.id}+{scenario.name}+Y{year}", rules=rules)
        rc_year = rule_capacity(m_year, _valid(reservations, m_year), rules=rules)
        first = first or rc_year
        for e in rc_year.elements.values():
            if e.light == "red" and e.id not in first_red:
                first_red[e.id] = year
        closure = close_red(
            net,
            m_year,
            rc_year,
            reservations,
            rules=rules,
            year=year,
            growth_kva=_growth_to_last(first, rc_year, sized_for, year, years),
        )
        new, planned = _advance_planned(closure.projects, planned, year)
        in_force += new
        this_year = [p for p in planned if p.year == year] + new
        out.append(
            StudyYear(
                year=year,
                growth_factor={k: round(v, 4) for k, v in growth_factors(scenario, year).items()},
                problems=problem_list(m_year, rc_year, rules, year),
                projects=this_year,
                fixed=closure.fixed,
                unresolved=closure.unresolved,
                rows=element_rows(rc_year, closure.capacity),
                model_before=m_year,
                capacity_before=rc_year,
                model_after=closure.model,
                capacity_after=closure.capacity,
            )
        )
    return StudyResult(
        scenario,
        present,
        model,
        out,
        changes,
        first_red,
        last,
        time.perf_counter() - started,
    )


def _growth_to_last(
    first: RuleCapacity, now: RuleCapacity, last: RuleCapacity | None, year: int, years: int
) -> dict[str, float]:
    """Per element, the load (kVA) still to come between ``year`` and the last year: its
    own growth from year 1 to the last year without projects, compounded over the years
    left, applied to its load now (projects that move load change the base, not the rate)."""
    if last is None or year >= years:
        return {}
    out: dict[str, float] = {}
    share = (years - year) / (years - 1)
    for eid, e in now.elements.items():
        a, b = first.elements.get(eid), last.elements.get(eid)
        if a is None or b is None or e.kind == "connection_point":
            continue
        if a.peak_kva > 0 and b.peak_kva > 0 and math.isfinite(a.peak_kva * b.peak_kva):
            out[eid] = e.peak_kva * ((b.peak_kva / a.peak_kva) ** share - 1.0)
    return out


def _advance_planned(
    new: list[StudyProject], planned: list[StudyProject], year: int
) -> tuple[list[StudyProject], list[StudyProject]]:
    """A project the study needs now that the scenario planned for a later year is brought
    forward (提前实施): the study's entry says so and the later one is dropped."""
    later = {(p.kind, p.element_id): p for p in planned if p.year > year}
    kept = list(planned)
    out = []
    for p in new:
        q = later.get((p.kind, p.element_id))
        if q is not None and q in kept:
            kept.remove(q)
            p = replace(p, description=f"{p.description}（规划项目 {q.id} 由第{q.year}年提前）")
        out.append(p)
    return out, kept


def element_rows(before: RuleCapacity, after: RuleCapacity) -> list[dict[str, Any]]:
    """Per element: C1, C2, light and load before the year's projects and after them."""
    rates_b, rates_a = load_rates(before), load_rates(after)
    rows = []
    for eid, b in before.elements.items():
        a = after.elements.get(eid)
        rows.append(
            {
                "id": eid,
                "kind": b.kind,
                "name": b.name,
                "substation_id": b.substation_id,
                "c1_kva": _r(b.c1_kva),
                "c2_kva": _r(b.c2_kva),
                "light": b.light,
                "load_rate": round(rates_b[eid], 3) if eid in rates_b else None,
                "c1_kva_after": _r(a.c1_kva) if a else None,
                "c2_kva_after": _r(a.c2_kva) if a else None,
                "light_after": a.light if a else None,
                "load_rate_after": round(rates_a[eid], 3) if eid in rates_a else None,
                "rating_kva": _r(b.rating_kva),
                "load_rate_limit": b.load_rate_limit if math.isfinite(b.load_rate_limit) else None,
                "lon_deg": b.lon_deg if math.isfinite(b.lon_deg) else None,
                "lat_deg": b.lat_deg if math.isfinite(b.lat_deg) else None,
            }
        )
    return rows
