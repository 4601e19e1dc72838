"""Supporting grid projects (配套工程) that raise capacity, each checked by recomputation.

A project changes the network: the limiting conductors of a segment or of a feeder's trunk
replaced by the next size that carries what is needed (reconductoring, 导线改造), a
distribution transformer replaced by the next standard size (配变增容), a main
transformer replaced by the next standard size (主变增容). :func:`with_projects` builds the
network with the projects in place (a copy; the original is untouched), and
:func:`point_capacity_after` recomputes a connection point's openable capacity on it with
the same rule-based code that publishes capacity, and the AC search when asked. Costs and
durations come from the rules file (``scheme.costs_cny``, ``scheme.conductors``,
``scheme.civil_cny_per_km``, ``scheme.upgrade_durations_workdays``), sizes from the
equipment catalogue.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from capacity._criteria import HostingCriteria
from capacity._fast import fast_hosting
from capacity._hosting import BusCapacity
from capacity._islands import island_net
from capacity._rules_based import (
    Reservation,
    RuleCapacity,
    path_after,
    rule_capacity,
    trunk_lines,
)
from grid_models import GridModel, LineType, Rules, load_catalogue

ProjectKind = Literal[
    "reconductor", "distribution_transformer_replacement", "main_transformer_replacement"
]
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True, slots=True)
class Project:
    """One supporting project: what it changes, what it costs, how long it takes."""

    kind: ProjectKind
    element_id: str
    description: str
    cost_cny: float
    duration_workdays: int
    line_types: tuple[tuple[int, str], ...] = ()  # pandapower line → new catalogue type
    length_km: float = 0.0
    transformer: tuple[str, str] | None = None  # (element id, new catalogue type)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "element_id": self.element_id,
            "description": self.description,
            "cost_cny": round(self.cost_cny),
            "duration_workdays": self.duration_workdays,
        }
        if self.line_types:
            out["lines"] = [i for i, _ in self.line_types]
            out["line_types"] = [[i, t] for i, t in self.line_types]
            out["new_conductor"] = sorted({t for _, t in self.line_types})
            out["length_km"] = round(self.length_km, 3)
        if self.transformer:
            out["new_type"] = self.transformer[1]
        return out


class AcMemo:
    """AC searches with projects in place, kept while the reservations on the island they
    were made on stay the same. ``version``: anything that changes whenever those do (the
    service uses the island's count of ledger changes); an answer is reused only under the
    version it was computed with — the very same loads — so it is the same answer."""

    def __init__(self, version: Hashable = None, max_entries: int = 20_000) -> None:
        self.version = version
        self.max_entries = max_entries
        self._found: dict[Hashable, BusCapacity] = {}

    def get(self, key: Hashable) -> BusCapacity | None:
        return self._found.get(key)

    def put(self, key: Hashable, found: BusCapacity) -> None:
        if len(self._found) >= self.max_entries:
            self._found = {}
        self._found[key] = found


@dataclass(frozen=True, slots=True)
class PointAfter:
    """A connection point's openable capacity recomputed with projects in place."""

    openable_kva: float
    rules_kva: float
    ac_kva: float | None
    limited_by: str


def with_projects(model: GridModel, projects: Sequence[Project]) -> GridModel:
    """The network with ``projects`` built (a copy that shares what they do not change)."""
    if not projects:
        return model
    net = _patched(model.net, projects, _trafo_of(model, projects))
    dts = dict(model.distribution_transformers)
    mts = dict(model.main_transformers)
    cat = load_catalogue()
    for p in projects:
        if p.transformer is not None:
            eid, name = p.transformer
            tt = cat.transformer_type(name)
            if eid in dts:
                dts[eid] = replace(dts[eid], sn_kva=tt.sn_kva, std_type=name)
            else:
                mts[eid] = replace(mts[eid], sn_mva=tt.sn_mva)
    patched = replace(model, net=net, distribution_transformers=dts, main_transformers=mts)
    # projects change ratings, not topology, lengths or loads
    for cached in ("graph", "corridors", "_islands", "_island_of", "_trunks"):
        if cached in model.__dict__:
            patched.__dict__[cached] = model.__dict__[cached]
    return patched


def _trafo_of(model: GridModel, projects: Sequence[Project]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in projects:
        if p.transformer is not None:
            eid = p.transformer[0]
            unit = model.distribution_transformers.get(eid) or model.main_transformers.get(eid)
            if unit is not None:
                out[eid] = unit.trafo
    return out


def _patched(net: Any, projects: Sequence[Project], trafo_of: Mapping[str, int]) -> Any:
    """A copy of a pandapower net (its line and trafo tables copied, the rest shared) with
    the projects' conductors and transformers in place; indices are kept, so it works on
    the whole net and on any part of it."""
    cat = load_catalogue()
    out = copy.copy(net)
    out["line"] = _with_values(
        net.line,
        [
            (idx, cat.line_type(name), name)
            for p in projects
            for idx, name in p.line_types
            if idx in net.line.index
        ],
        ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka"),
    )
    out["trafo"] = _with_values(
        net.trafo,
        [
            (trafo_of[p.transformer[0]], cat.transformer_type(p.transformer[1]), p.transformer[1])
            for p in projects
            if p.transformer is not None and trafo_of.get(p.transformer[0]) in net.trafo.index
        ],
        ("sn_mva", "vk_percent", "vkr_percent"),
    )
    return out


def _with_values(
    table: Any, changes: Sequence[tuple[int, Any, str]], columns: Sequence[str]
) -> Any:
    """A copy of ``table`` with, per change (row index, catalogue type, its name), the
    type's values in ``columns`` and its name as ``std_type``: a column at a time."""
    out = table.copy()
    if not changes:
        return out
    rows = table.index.get_indexer([idx for idx, _, _ in changes])
    for col in columns:
        values = out[col].to_numpy(dtype=float, copy=True)
        values[rows] = [float(getattr(t, col)) for _, t, _ in changes]
        out[col] = values
    names = (
        out["std_type"].to_numpy(dtype=object, copy=True)
        if "std_type" in out
        else np.full(len(out), None, dtype=object)
    )
    names[rows] = [name for _, _, name in changes]
    out["std_type"] = names
    return out


def point_capacity_after(
    model: GridModel,
    connection_point_id: str,
    projects: Sequence[Project],
    reservations: Sequence[Reservation] = (),
    *,
    rules: Rules,
    criteria: HostingCriteria | None = None,
    ac_before_kva: float | None = None,
    base: RuleCapacity | None = None,
    reserved: Mapping[str, float] | None = None,
    memo: AcMemo | None = None,
) -> PointAfter:
    """The point's openable capacity with ``projects`` built: the rule-based path minimum
    recomputed on the changed network, and, with ``criteria``, the AC capacity at its bus
    from a new AC search (on the point's own island of the network: what its substation
    feeds, ties open).

    With ``base`` (the rule-based capacity of ``model`` without reservations, as the
    service keeps it) and ``reserved`` (the totals in force), the rules are recomputed for
    the point's path alone, exactly (:func:`path_after`); otherwise by
    :func:`rule_capacity` over the point's substation. ``ac_before_kva``: the point's AC
    capacity without the projects — the catalogue's projects only lower impedances and
    raise ratings, so the AC capacity cannot fall, and where the rule-based figure is
    already below it the AC search is skipped. ``memo``: AC searches already made with
    the same reservations on the point's island (see :class:`AcMemo`)."""
    after = with_projects(model, projects)
    cp = model.connection_points[connection_point_id]
    if base is not None and base.seasons is not None:
        path = path_after(after, base, reserved or {}, connection_point_id, rules)
        worst = min(path.values(), key=lambda e: e.c2_kva)
        rules_kva, limited = worst.c2_kva, worst.id
    else:
        subs = [cp.substation_id] if cp.substation_id else None
        rc = rule_capacity(after, reservations, rules=rules, substations=subs)
        element = rc.elements[connection_point_id]
        rules_kva, limited = element.openable_kva, element.limited_by
    ac: float | None = None
    openable = rules_kva
    needed = ac_before_kva is None or openable > ac_before_kva
    if criteria is not None and needed:
        key = (connection_point_id, tuple(projects), criteria)
        found = memo.get(key) if memo is not None else None
        if found is None:
            net = _patched(island_net(model, cp.bus), projects, _trafo_of(model, projects))
            extra: dict[int, float] = {}
            for r in reservations:
                bus = model.connection_points[r.connection_point_id].bus
                if bus in net.bus.index:
                    extra[bus] = extra.get(bus, 0.0) + r.kva * criteria.power_factor / 1000.0
            found = fast_hosting(net, criteria, [cp.bus], rules=rules, extra_load_mw=extra)[0]
            if memo is not None:
                memo.put(key, found)
        ac = found.p_mw_max * 1000.0 / criteria.power_factor
        if ac < openable:
            openable, limited = ac, f"ac:{found.limiting}"
    return PointAfter(openable, rules_kva, ac, limited)


def project_for(
    model: GridModel,
    capacity: RuleCapacity,
    element_id: str,
    need_kva: float,
    rules: Rules,
    point_bus: int | None = None,
) -> Project | None:
    """The project that gives ``element_id`` (or the AC-limiting ``ac:line:N`` /
    ``ac:trafo:N``) ``need_kva`` more room than it has, or None if none in the catalogue
    can (a new feeder or substation is then the answer)."""
    kind, _, rest = element_id.partition(":")
    if kind == "ac":
        return _ac_project(model, capacity, rest, need_kva, rules, point_bus)
    element = capacity.elements.get(element_id)
    if element is None:
        return None
    missing = max(0.0, need_kva - element.c2_kva)
    if kind == "seg":
        seg = model.segments[element_id]
        required_kva = element.rating_kva + missing
        return _reconductor(model, element_id, seg.lines, required_kva, rules)
    if kind == "fd":
        lam = element.load_rate_limit or 1.0
        required_kva = element.rating_kva + missing / lam
        trunk = trunk_lines(model, [element_id]).get(element_id, ())
        return _reconductor(model, element_id, trunk, required_kva, rules)
    if kind == "dt":
        dt = model.distribution_transformers[element_id]
        lam = element.load_rate_limit or 1.0
        return _transformer(model, element_id, dt.sn_kva + missing / lam, "distribution", rules)
    if kind in ("bs", "mt"):
        mt_id = element_id if kind == "mt" else _section_unit(model, element_id)
        if mt_id is None:
            return None
        mt = model.main_transformers[mt_id]
        unit = capacity.elements.get(mt_id)
        lam = (unit.load_rate_limit if unit else element.load_rate_limit) or 1.0
        return _transformer(model, mt_id, mt.sn_mva * 1000.0 + missing / lam, "main", rules)
    return None


def _section_unit(model: GridModel, section_id: str) -> str | None:
    units = model.bus_sections[section_id].main_transformer_ids
    if not units:
        return None
    return min(units, key=lambda m: model.main_transformers[m].sn_mva)


def _ac_project(
    model: GridModel,
    capacity: RuleCapacity,
    what: str,
    need_kva: float,
    rules: Rules,
    point_bus: int | None = None,
) -> Project | None:
    table, _, index = what.partition(":")
    if not index.lstrip("-").isdigit():
        return None
    idx = int(index)
    if table == "line" and idx in model.net.line.index:
        lt = model.net.line.loc[idx]
        u_kv = float(model.net.bus.at[int(lt["from_bus"]), "vn_kv"])
        rating = _SQRT3 * u_kv * float(lt["max_i_ka"]) * 1000.0
        owner = next((s.id for s in model.segments.values() if idx in s.lines), f"line:{idx}")
        return _reconductor(model, owner, (idx,), rating + need_kva, rules)
    if table == "vm":
        return _voltage_project(model, idx, point_bus, rules)
    if table == "trafo":
        for dt in model.distribution_transformers.values():
            if dt.trafo == idx:
                return project_for(model, capacity, dt.id, need_kva, rules)
        for mt in model.main_transformers.values():
            if mt.trafo == idx:
                return project_for(model, capacity, mt.id, need_kva, rules)
    return None


def _voltage_project(
    model: GridModel, vm_bus: int, point_bus: int | None, rules: Rules
) -> Project | None:
    """A voltage limit: the lines from the source of the point's network (its distribution
    transformer at LV, its feeder's head at MV) to the binding bus and to the point,
    reconductored to the largest permitted conductor of their kind (lower impedance)."""
    import networkx as nx

    graph = model.graph
    source: int | None = None
    for bus in (point_bus, vm_bus):
        if bus is None:
            continue
        dt_id = model.lv_bus_transformer.get(bus)
        if dt_id is not None:
            source = model.distribution_transformers[dt_id].lv_bus
            break
        feeder = model.bus_feeder.get(bus)
        if feeder is not None:
            source = model.feeders[feeder].head_bus
            break
    if source is None:
        return None
    lines: list[int] = []
    for target in {vm_bus, point_bus} - {None}:
        try:
            path = nx.shortest_path(graph, source, target)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            continue
        for a, b in zip(path, path[1:], strict=False):
            for data in graph.get_edge_data(a, b, default={}).values():
                if data.get("element") == "line":
                    lines.append(int(data["index"]))
    if not lines:
        return None
    return _reconductor(model, f"bus:{vm_bus}", sorted(set(lines)), math.inf, rules)


def _reconductor(
    model: GridModel,
    element_id: str,
    lines: Sequence[int],
    required_kva: float,
    rules: Rules,
) -> Project | None:
    """Replace the lines of ``lines`` rated below ``required_kva`` by the smallest permitted
    conductor of the same kind that carries it (at nominal rating; the recomputation
    applies the seasons)."""
    r = rules.get("scheme")
    cat = load_catalogue()
    line = model.net.line
    lv_max = float(rules.get("network_defaults.voltage_levels.lv_max_kv"))
    rows = line.index.get_indexer(list(lines))
    from_kv = model.net.bus["vn_kv"].reindex(line["from_bus"].to_numpy()[rows]).to_numpy(float)
    max_i = line["max_i_ka"].to_numpy(float)[rows]
    lengths = line["length_km"].to_numpy(float)[rows]
    types = line["type"].to_numpy()[rows] if "type" in line else np.full(len(rows), "ol")
    changes: list[tuple[int, str]] = []
    km = cost = 0.0
    for idx, u_kv, i_ka, length, kind_code in zip(
        lines, from_kv.tolist(), max_i.tolist(), lengths.tolist(), types.tolist(), strict=True
    ):
        level = "lv" if u_kv <= lv_max else "mv"
        kind = "cable" if str(kind_code).startswith("cs") else "overhead"
        choices = sorted(
            (cat.line_type(n) for n in r["conductors"][level][kind]), key=lambda t: t.max_i_ka
        )
        fit: LineType | None
        if not math.isfinite(required_kva):  # a voltage limit: the largest, where not yet
            fit = choices[-1]
            if i_ka >= fit.max_i_ka - 1e-9:
                continue
        else:
            need_a = required_kva / (_SQRT3 * u_kv)
            if i_ka * 1000.0 >= need_a:
                continue
            fit = next((t for t in choices if t.max_i_ka * 1000.0 >= need_a), None)
            if fit is None:
                return None
        per_km = float(r["conductors"][level][kind][fit.name])
        per_km += float(r["costs_cny"]["conductor_removal_per_km"])
        if kind == "cable":  # a new cable in the existing duct
            per_km += float(r["civil_cny_per_km"][level]["cable_duct"])
        changes.append((int(idx), fit.name))
        km += length
        cost += per_km * length
    if not changes:
        return None
    types = ", ".join(sorted({t for _, t in changes}))
    return Project(
        "reconductor",
        element_id,
        f"{element_id} 导线改造 {km:.2f} km → {types}",
        cost,
        int(r["upgrade_durations_workdays"]["reconductor"]),
        tuple(changes),
        km,
    )


def _transformer(
    model: GridModel, element_id: str, required_kva: float, role: str, rules: Rules
) -> Project | None:
    """The next standard size of the same insulation rated at least ``required_kva``."""
    r = rules.get("scheme")
    cat = load_catalogue()
    if role == "distribution":
        dt = model.distribution_transformers[element_id]
        current = cat.transformer_types.get(dt.std_type or "")
        insulation = current.insulation if current else "oil"
        sizes = sorted(
            (
                t
                for t in cat.transformer_types.values()
                if t.role == "distribution" and t.insulation == insulation and t.sn_kva > dt.sn_kva
            ),
            key=lambda t: t.sn_kva,
        )
        fit = next((t for t in sizes if t.sn_kva >= required_kva), None)
        if fit is None:
            return None
        costs = r["costs_cny"]
        cost = (
            costs["distribution_transformer_swap"]
            + costs["distribution_transformer_per_kva"] * fit.sn_kva
        )
        return Project(
            "distribution_transformer_replacement",
            element_id,
            f"{dt.name} 增容 {dt.sn_kva:.0f} → {fit.sn_kva:.0f} kVA ({fit.name})",
            float(cost),
            int(r["upgrade_durations_workdays"]["distribution_transformer_replacement"]),
            transformer=(element_id, fit.name),
        )
    mt = model.main_transformers[element_id]
    sizes = sorted(
        (t for t in cat.transformer_types.values() if t.role == "main" and t.sn_mva > mt.sn_mva),
        key=lambda t: t.sn_kva,
    )
    fit = next((t for t in sizes if t.sn_kva >= required_kva), None)
    if fit is None:
        return None
    return Project(
        "main_transformer_replacement",
        element_id,
        f"{mt.name} 增容 {mt.sn_mva:.1f} → {fit.sn_mva:.1f} MVA ({fit.name})",
        float(r["costs_cny"]["main_transformer_per_mva"]) * fit.sn_mva,
        int(r["upgrade_durations_workdays"]["main_transformer_replacement"]),
        transformer=(element_id, fit.name),
    )


@dataclass(frozen=True, slots=True)
class GapPlan:
    """Projects that give a point ``need_kva``, each with the point's openable capacity
    recomputed with it (and those before it) in place; ``remaining_kva`` > 0 when the
    catalogue runs out before the gap is closed."""

    connection_point_id: str
    need_kva: float
    projects: tuple[Project, ...]
    capacity_after_kva: tuple[float, ...]
    before_kva: float
    after: PointAfter

    @property
    def closed(self) -> bool:
        return self.after.openable_kva >= self.need_kva - 1e-6

    @property
    def remaining_kva(self) -> float:
        return max(0.0, self.need_kva - self.after.openable_kva)

    @property
    def cost_cny(self) -> float:
        return sum(p.cost_cny for p in self.projects)

    @property
    def duration_workdays(self) -> int:
        """Projects on one path run one after another only if they share an element; the
        catalogue's projects touch different elements, so they run side by side."""
        return max((p.duration_workdays for p in self.projects), default=0)


def close_gap(
    model: GridModel,
    connection_point_id: str,
    need_kva: float,
    reservations: Sequence[Reservation] = (),
    *,
    rules: Rules,
    criteria: HostingCriteria | None = None,
    start: PointAfter | None = None,
    max_projects: int = 6,
    base: RuleCapacity | None = None,
    reserved: Mapping[str, float] | None = None,
    memo: AcMemo | None = None,
) -> GapPlan:
    """Add the project for whatever binds the point until it offers ``need_kva`` or no
    project helps; every step is a recomputation (rule-based; AC too when ``criteria``).
    ``start``: the point's capacity as already computed (saves the first recomputation);
    ``base`` and ``reserved``: recompute the rules along the point's path alone (see
    :func:`point_capacity_after`)."""
    projects: list[Project] = []
    after_each: list[float] = []
    again = {
        "rules": rules,
        "criteria": criteria,
        "base": base,
        "reserved": reserved,
        "memo": memo,
    }
    current = start or point_capacity_after(
        model,
        connection_point_id,
        (),
        reservations,
        **again,  # type: ignore[arg-type]
    )
    ac_before = current.ac_kva
    before = current.openable_kva
    seen: set[str] = set()
    cp = model.connection_points[connection_point_id]
    while current.openable_kva < need_kva - 1e-6 and len(projects) < max_projects:
        patched = with_projects(model, projects)
        if base is not None and base.seasons is not None:
            path = path_after(patched, base, reserved or {}, connection_point_id, rules)
            rc = replace(base, elements=path)
        else:
            subs = [cp.substation_id] if cp.substation_id else None
            rc = rule_capacity(patched, reservations, rules=rules, substations=subs)
        project = project_for(patched, rc, current.limited_by, need_kva, rules, cp.bus)
        if project is None or project.element_id + project.kind in seen:
            break
        seen.add(project.element_id + project.kind)
        trial = point_capacity_after(
            model,
            connection_point_id,
            [*projects, project],
            reservations,
            rules=rules,
            criteria=criteria,
            ac_before_kva=ac_before,
            base=base,
            reserved=reserved,
            memo=memo,
        )
        if trial.openable_kva <= current.openable_kva + 1e-6:
            break  # it does not help here: leave it out and say what remains
        projects.append(project)
        current = trial
        if trial.ac_kva is not None:
            # projects only add capacity: the AC figure with more of them is at least this,
            # so the next step needs no AC search unless its rule-based figure exceeds it
            ac_before = max(ac_before or 0.0, trial.ac_kva)
        after_each.append(current.openable_kva)
    return GapPlan(
        connection_point_id, need_kva, tuple(projects), tuple(after_each), before, current
    )
