"""What-if studies (规划推演): a scenario applied to a copy of the network, capacity diffed.

A scenario (YAML or a mapping) may hold:

```yaml
name: 核心区负荷增长8%
load_growth:            # percent, by scope: all | area_class | substation | feeder
  - {scope: area_class, id: city_centre, percent: 8}
added_loads:            # new loads at connection points (kVA at a power factor)
  - {connection_point_id: cp:309, kva: 500, power_factor: 0.95, load_class: commercial}
switches:               # normal-state changes
  - {switch: 1477, closed: true}
reconductor:            # every MV line of a feeder (or listed lines) to a catalogue type
  - {feeder_id: fd:68, std_type: JKLYJ-240}
transformer_replacement:
  - {trafo: 5, std_type: S13-M-630/10}
```

A multi-year study (:func:`capacity.run_study`) adds ``years``, ``growth_per_year`` (percent a
year per area class; the rules file's ``study.growth_per_year_percent`` when left out),
``planned_projects`` (``{year, kind, …}`` in the shapes the project library produces) and an
optional ``year`` on ``added_loads``; the other changes take effect in year 1.

The network itself is never changed; :func:`what_if` says what changed, and proposes for every
element red after the scenario a catalogue project checked by recomputation (or says why none
closes it).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandapower as pp
import yaml

from capacity._errors import CapacityError
from capacity._rules_based import Reservation, rule_capacity
from grid_models import (
    AREA_CLASSES,
    GridModel,
    Rules,
    geodesic_m,
    load_catalogue,
    load_rules,
    model_from_net,
    register_std_types,
)

SCOPES = ("all", "area_class", "substation", "feeder")


class ScenarioError(CapacityError):
    """A what-if scenario has invalid entries; ``problems`` names each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Scenario:
    """A validated what-if scenario (see the module docstring for the fields)."""

    name: str = "what-if"
    load_growth: tuple[dict[str, Any], ...] = ()
    added_loads: tuple[dict[str, Any], ...] = ()
    switches: tuple[dict[str, Any], ...] = ()
    reconductor: tuple[dict[str, Any], ...] = ()
    transformer_replacement: tuple[dict[str, Any], ...] = ()
    new_feeders: tuple[dict[str, Any], ...] = ()
    # applications expected to connect (储备项目): carried for the scheme layer, which runs
    # them through the batch optimiser on the changed network
    reserve_pool: tuple[dict[str, Any], ...] = ()
    # a multi-year study (capacity.run_study): 0 = a single snapshot
    years: int = 0
    growth_per_year: Mapping[str, float] = field(default_factory=dict)
    planned_projects: tuple[dict[str, Any], ...] = ()


@dataclass
class WhatIfResult:
    """Capacity before and after, per element, and what the scenario changed."""

    scenario: Scenario
    rows: list[dict[str, Any]]
    newly_constrained: list[str]
    changes: list[str]
    network_version_after: str
    model_after: GridModel = field(repr=False)
    #: for every element red (or short) after the scenario, the project that closes it,
    #: checked by recomputing the whole network with every project in place
    upgrades: list[dict[str, Any]] = field(default_factory=list)
    #: red elements no catalogue project closes, each with the reason
    not_closable: list[dict[str, Any]] = field(default_factory=list)
    #: the network after the scenario with the upgrades built
    model_with_upgrades: GridModel | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        lights = {}
        for side in ("before", "after"):
            counts: dict[str, int] = {}
            for r in self.rows:
                if r[f"light_{side}"]:
                    counts[r[f"light_{side}"]] = counts.get(r[f"light_{side}"], 0) + 1
            lights[side] = counts
        for side in ("with_upgrades",):
            counts = {}
            for r in self.rows:
                if r.get(f"light_{side}"):
                    counts[r[f"light_{side}"]] = counts.get(r[f"light_{side}"], 0) + 1
            lights[side] = counts
        return {
            "scenario": self.scenario.name,
            "changes": self.changes,
            "upgrades": len(self.upgrades),
            "upgrade_cost_cny": sum(
                u["cost_cny"] or 0 for u in self.upgrades if u.get("funding") != "customer"
            ),
            "upgrade_cost_customer_cny": sum(
                u["cost_cny"] or 0 for u in self.upgrades if u.get("funding") == "customer"
            ),
            "not_closable": len(self.not_closable),
            "elements": len(self.rows),
            "newly_constrained": len(self.newly_constrained),
            "lights": lights,
            "network_version_after": self.network_version_after,
        }


def _scope_problems(where: str, growth: Mapping[str, Any], model: GridModel) -> list[str]:
    """A growth's ``id`` must name something of its scope in this network (a growth on an
    unknown feeder would silently grow nothing)."""
    scope, sid = growth.get("scope", "all"), growth.get("id")
    kinds: dict[str, Collection[str]] = {
        "substation": model.substations.keys(),
        "feeder": model.feeders.keys(),
        "area_class": AREA_CLASSES,
    }
    known = kinds.get(str(scope))
    if known is None:
        return [f"{where}.id: scope 'all' takes no id"] if sid not in (None, "") else []
    if sid in (None, ""):
        return [f"{where}.id: required for scope {scope!r}"]
    if sid not in known:
        return [f"{where}.id: no {scope} {sid!r} in network {model.id}"]
    return []


def load_scenario(source: str | Path | Mapping[str, Any], model: GridModel) -> Scenario:
    """Read and validate a scenario; every problem is listed in one :class:`ScenarioError`."""
    if isinstance(source, str | Path):
        try:
            raw = yaml.safe_load(Path(source).read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ScenarioError([f"{source}: not a readable YAML file ({exc})"]) from exc
    else:
        raw = dict(source)
    if not isinstance(raw, Mapping):
        raise ScenarioError(["the scenario must be a mapping of fields"])
    problems: list[str] = []
    known = {
        "name",
        "load_growth",
        "added_loads",
        "switches",
        "reconductor",
        "transformer_replacement",
        "new_feeders",
        "reserve_pool",
        "years",
        "growth_per_year",
        "planned_projects",
    }
    problems += [f"{k}: not a scenario field" for k in raw if k not in known]
    lists = {k: raw.get(k) or [] for k in known - {"name", "years", "growth_per_year"}}
    for k, v in lists.items():
        if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
            problems.append(f"{k}: must be a list of mappings")
            lists[k] = []
    net = model.net
    catalogue = load_catalogue()
    for i, g in enumerate(lists["load_growth"]):
        if g.get("scope", "all") not in SCOPES:
            problems.append(f"load_growth[{i}].scope: must be one of {', '.join(SCOPES)}")
        if not _number(g.get("percent")) or not -100 <= float(g["percent"]) <= 500:
            problems.append(f"load_growth[{i}].percent: a number between -100 and 500")
        problems += _scope_problems(f"load_growth[{i}]", g, model)
    for i, a in enumerate(lists["added_loads"]):
        if a.get("connection_point_id") not in model.connection_points:
            problems.append(f"added_loads[{i}].connection_point_id: not in the network")
        if not _number(a.get("kva")) or float(a["kva"]) <= 0:
            problems.append(f"added_loads[{i}].kva: a positive number")
    for i, sw in enumerate(lists["switches"]):
        if sw.get("switch") not in net.switch.index:
            problems.append(f"switches[{i}].switch: no switch {sw.get('switch')!r}")
        if not isinstance(sw.get("closed"), bool):
            problems.append(f"switches[{i}].closed: true or false")
    for i, rc in enumerate(lists["reconductor"]):
        if rc.get("std_type") not in catalogue.line_types:
            problems.append(f"reconductor[{i}].std_type: not a catalogue line type")
        if rc.get("feeder_id") not in model.feeders and not rc.get("lines"):
            problems.append(f"reconductor[{i}]: needs a known feeder_id or lines")
    for i, tr in enumerate(lists["transformer_replacement"]):
        if tr.get("trafo") not in net.trafo.index:
            problems.append(
                f"transformer_replacement[{i}].trafo: no transformer {tr.get('trafo')!r}"
            )
        if tr.get("std_type") not in catalogue.transformer_types:
            problems.append(f"transformer_replacement[{i}].std_type: not a catalogue type")
    for i, nf in enumerate(lists["new_feeders"]):
        if nf.get("bus_section_id") not in model.bus_sections:
            problems.append(f"new_feeders[{i}].bus_section_id: not a bus section")
        elif not model.bus_sections[nf["bus_section_id"]].bays_free:
            problems.append(f"new_feeders[{i}].bus_section_id: no free bay")
        if nf.get("to_connection_point_id") not in model.connection_points:
            problems.append(f"new_feeders[{i}].to_connection_point_id: not in the network")
        if nf.get("std_type", "YJV22-3x300") not in catalogue.line_types:
            problems.append(f"new_feeders[{i}].std_type: not a catalogue line type")
    years, growth, study_problems = _study_fields(raw, lists, model)
    problems += study_problems
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(raw.get("name") or "what-if"),
        years=years,
        growth_per_year=growth,
        **{k: tuple(dict(x) for x in v) for k, v in lists.items()},
    )


PLANNED_KINDS = (
    "reconductor",
    "distribution_transformer_replacement",
    "main_transformer_replacement",
    "new_feeder",
)


def _study_fields(
    raw: Mapping[str, Any], lists: dict[str, Any], model: GridModel
) -> tuple[int, dict[str, float], list[str]]:
    """``years``, ``growth_per_year`` (percent a year by area class, the rules file's
    defaults for the classes left out) and the problems of the multi-year fields."""
    study = load_rules().get("study")
    problems: list[str] = []
    years = raw.get("years")
    if years is None:
        for k in ("growth_per_year", "planned_projects"):
            if raw.get(k):
                problems.append(f"{k}: only in a multi-year study (give years)")
        problems += [
            f"added_loads[{i}].year: only in a multi-year study (give years)"
            for i, a in enumerate(lists["added_loads"])
            if "year" in a
        ]
        return 0, {}, problems
    top = int(study["max_years"])
    if not _whole(years) or not 1 <= int(years) <= top:
        problems.append(f"years: a whole number from 1 to {top}")
        years = top
    growth = {str(k): float(v) for k, v in study["growth_per_year_percent"].items()}
    given = raw.get("growth_per_year") or {}
    if not isinstance(given, Mapping):
        problems.append("growth_per_year: a mapping of area class to percent a year")
        given = {}
    for cls, pct in given.items():
        if cls not in AREA_CLASSES:
            problems.append(f"growth_per_year.{cls}: not an area class ({', '.join(AREA_CLASSES)})")
        elif not _number(pct) or not -50 <= float(pct) <= 100:
            problems.append(f"growth_per_year.{cls}: a number between -50 and 100")
        else:
            growth[str(cls)] = float(pct)
    for i, a in enumerate(lists["added_loads"]):
        if "year" in a and (not _whole(a["year"]) or not 1 <= int(a["year"]) <= int(years)):
            problems.append(f"added_loads[{i}].year: a whole number from 1 to {years}")
    for i, pj in enumerate(lists["planned_projects"]):
        problems += _planned_problems(f"planned_projects[{i}]", pj, int(years), model)
    return int(years), growth, problems


def _planned_problems(where: str, pj: Mapping[str, Any], years: int, model: GridModel) -> list[str]:
    """A planned project in the shape the project library produces (``kind``,
    ``element_id``, ``std_type`` / ``new_type``; a new feeder's ``bus_section_id`` and
    ``to_connection_point_id``) entering service in ``year``."""
    catalogue = load_catalogue()
    lv_max_kv = float(load_rules().get("network_defaults.voltage_levels.lv_max_kv"))
    out: list[str] = []
    if not _whole(pj.get("year")) or not 1 <= int(pj["year"]) <= years:
        out.append(f"{where}.year: a whole number from 1 to {years}")
    kind = pj.get("kind")
    if kind not in PLANNED_KINDS:
        return [*out, f"{where}.kind: one of {', '.join(PLANNED_KINDS)}"]
    if "cost_cny" in pj and (not _number(pj["cost_cny"]) or float(pj["cost_cny"]) < 0):
        out.append(f"{where}.cost_cny: a number of yuan, 0 or more")
    eid = pj.get("element_id")
    if kind == "reconductor":
        if eid not in model.feeders and eid not in model.segments:
            out.append(f"{where}.element_id: not a feeder or segment of the network")
        if pj.get("std_type") not in catalogue.line_types:
            out.append(f"{where}.std_type: not a catalogue line type")
    elif kind in ("distribution_transformer_replacement", "main_transformer_replacement"):
        role = "distribution" if kind.startswith("distribution") else "main"
        units = (
            model.distribution_transformers if role == "distribution" else model.main_transformers
        )
        if eid not in units:
            out.append(f"{where}.element_id: not a {role} transformer of the network")
        tt = catalogue.transformer_types.get(str(pj.get("new_type")))
        if tt is None or tt.role != role:
            out.append(f"{where}.new_type: not a catalogue {role} transformer type")
    else:
        if pj.get("bus_section_id") not in model.bus_sections:
            out.append(f"{where}.bus_section_id: not a bus section")
        elif not model.bus_sections[pj["bus_section_id"]].bays_free:
            out.append(f"{where}.bus_section_id: no free bay")
        cp = model.connection_points.get(str(pj.get("to_connection_point_id")))
        if cp is None or cp.vn_kv <= lv_max_kv or cp.segment_id is None:
            out.append(f"{where}.to_connection_point_id: not a 10 kV point on a feeder")
        if "std_type" in pj and pj["std_type"] not in catalogue.line_types:
            out.append(f"{where}.std_type: not a catalogue line type")
        if "length_km" in pj and (not _number(pj["length_km"]) or float(pj["length_km"]) <= 0):
            out.append(f"{where}.length_km: a positive number")
    return out


def apply_scenario(model: GridModel, scenario: Scenario) -> tuple[pp.pandapowerNet, list[str]]:
    """A changed copy of the model's net, and a sentence per change."""
    net = copy.deepcopy(model.net)
    register_std_types(net)
    changes: list[str] = []
    for g in scenario.load_growth:
        rows = _loads_in_scope(model, g.get("scope", "all"), g.get("id"))
        factor = 1 + float(g["percent"]) / 100
        net.load.loc[rows, "p_mw"] *= factor
        net.load.loc[rows, "q_mvar"] *= factor
        changes.append(
            f"负荷增长 {g['percent']:+g} %（{len(rows)} 个负荷，"
            f"范围 {g.get('scope', 'all')} {g.get('id') or ''}）"
        )
    for a in scenario.added_loads:
        cp = model.connection_points[a["connection_point_id"]]
        pf = float(a.get("power_factor", 0.95))
        p = float(a["kva"]) * pf / 1000
        pp.create_load(
            net, cp.bus, p, p * math.tan(math.acos(pf)), name=a.get("name", "what-if load")
        )
        if "load_class" in net.load:
            net.load.loc[net.load.index[-1], "load_class"] = a.get("load_class", "commercial")
        changes.append(f"新增负荷 {a['kva']:g} kVA（{cp.name}）")
    for sw in scenario.switches:
        net.switch.loc[sw["switch"], "closed"] = sw["closed"]
        changes.append(f"开关 {sw['switch']} {'合上' if sw['closed'] else '断开'}")
    for rc in scenario.reconductor:
        lt = load_catalogue().line_type(rc["std_type"])
        lines = list(
            rc.get("lines")
            or [
                i
                for i in model.feeders[rc["feeder_id"]].lines
                if net.bus.at[net.line.at[i, "from_bus"], "vn_kv"] > 1
            ]
        )
        for col, value in (
            ("r_ohm_per_km", lt.r_ohm_per_km),
            ("x_ohm_per_km", lt.x_ohm_per_km),
            ("c_nf_per_km", lt.c_nf_per_km),
            ("max_i_ka", lt.max_i_ka),
            ("std_type", lt.name),
            ("type", lt.pandapower_type),
        ):
            net.line.loc[lines, col] = value
        changes.append(f"{len(lines)} 段线路换线为 {lt.name}")
    for tr in scenario.transformer_replacement:
        tt = load_catalogue().transformer_type(tr["std_type"])
        data = tt.to_std_type()
        for col in ("sn_mva", "vk_percent", "vkr_percent", "pfe_kw", "i0_percent"):
            net.trafo.loc[tr["trafo"], col] = data[col]
        net.trafo.loc[tr["trafo"], "std_type"] = tt.name
        changes.append(f"变压器 {tr['trafo']} 更换为 {tt.name}")
    for nf in scenario.new_feeders:
        changes.append(_new_feeder(model, net, nf))
    return net, changes


def _new_feeder(model: GridModel, net: pp.pandapowerNet, nf: dict[str, Any]) -> str:
    """A new 10 kV feeder from a bus section's free bay to a connection point; the line that
    fed the point's segment is opened so the point and what lies beyond it move over."""
    section = model.bus_sections[nf["bus_section_id"]]
    cp = model.connection_points[nf["to_connection_point_id"]]
    length = nf.get("length_km")
    if length is None:
        length = route_km(model, section.substation_id, cp.id)
    std = nf.get("std_type", "YJV22-3x300")
    entry = model.segment_entry_line(cp.segment_id)
    build_new_feeder(
        net, section.buses[0], cp.bus, float(length), std, entry, nf.get("name", "新出线")
    )
    return f"新出10千伏线路：{section.name} → {cp.name}，{std} {float(length):.2f} km" + (
        f"，断开原供电线路 {entry}" if entry is not None else ""
    )


def route_km(model: GridModel, substation_id: str, connection_point_id: str) -> float:
    """A new line's length from a substation to a point: crow-fly × the rules' route factor
    (``scheme.candidates.route_factor``), at least 50 m."""
    sub = model.substations[substation_id]
    cp = model.connection_points[connection_point_id]
    factor = float(load_rules().get("scheme.candidates.route_factor"))
    crow_m = float(geodesic_m(sub.lon_deg, sub.lat_deg, cp.lon_deg, cp.lat_deg))
    return max(0.05, crow_m / 1000.0 * factor)


def build_new_feeder(
    net: pp.pandapowerNet,
    from_bus: int,
    to_bus: int,
    length_km: float,
    std_type: str,
    open_line: int | None,
    name: str,
) -> int:
    """Build a new feeder in ``net``: a line of ``std_type`` from a bus-section bus with its
    breaker, the line that fed the far end taken out (it becomes the normally-open tie
    between the old feeder and the new one); returns the new line's index."""
    line = int(pp.create_line(net, from_bus, to_bus, float(length_km), std_type, name=name))
    pp.create_switch(net, from_bus, line, "l", closed=True, type="CB")
    if open_line is not None:
        net.line.loc[open_line, "in_service"] = False
    return line


def what_if(
    model: GridModel,
    scenario: Scenario,
    reservations: Sequence[Reservation] = (),
    *,
    rules: Rules | None = None,
    kinds: Sequence[str] = (
        "main_transformer",
        "bus_section",
        "feeder",
        "segment",
        "distribution_transformer",
        "connection_point",
    ),
    projects: bool = True,
) -> WhatIfResult:
    """Rule-based capacity before and after the scenario, element by element, and, with
    ``projects``, the projects that close every element red after it
    (:func:`capacity.close_red`: a recomputation per project, seconds on a large network)."""
    from capacity._study import Closure, close_red

    net, changes = apply_scenario(model, scenario)
    after_model = model_from_net(net, model_id=f"{model.id}+{scenario.name}", rules=rules)
    before = rule_capacity(model, reservations, rules=rules)
    valid = [r for r in reservations if r.connection_point_id in after_model.connection_points]
    after = rule_capacity(after_model, valid, rules=rules)
    closure = (
        close_red(net, after_model, after, valid, rules=rules)
        if projects
        else Closure([], {}, [], net, after_model, after)
    )
    built = closure.capacity.elements if projects else {}
    rows = []
    for eid, b in before.elements.items():
        if b.kind not in kinds:
            continue
        a = after.elements.get(eid)
        u = built.get(eid)
        rows.append(
            {
                "id": eid,
                "kind": b.kind,
                "name": b.name,
                "substation_id": b.substation_id,
                "c1_kva_before": round(b.c1_kva, 1),
                "c2_kva_before": round(b.c2_kva, 1),
                "light_before": b.light,
                "c1_kva_after": round(a.c1_kva, 1) if a else None,
                "c2_kva_after": round(a.c2_kva, 1) if a else None,
                "light_after": a.light if a else None,
                "c2_kva_with_upgrades": round(u.c2_kva, 1) if u else None,
                "light_with_upgrades": u.light if u else None,
                "rating_kva": round(b.rating_kva, 1) if math.isfinite(b.rating_kva) else None,
                "load_rate_limit": b.load_rate_limit if math.isfinite(b.load_rate_limit) else None,
                "peak_kva_before": round(b.peak_kva, 1) if math.isfinite(b.peak_kva) else None,
                "peak_kva_after": round(a.peak_kva, 1) if a and math.isfinite(a.peak_kva) else None,
                "peak_kva_with_upgrades": (
                    round(u.peak_kva, 1) if u and math.isfinite(u.peak_kva) else None
                ),
                "lon_deg": b.lon_deg if math.isfinite(b.lon_deg) else None,
                "lat_deg": b.lat_deg if math.isfinite(b.lat_deg) else None,
            }
        )
    newly = [
        str(r["id"])
        for r in rows
        if r["light_before"] == "green" and r["light_after"] in ("yellow", "red")
    ]
    upgrades = []
    for p in closure.projects:
        e = after.elements.get(p.element_id)
        was = before.elements.get(p.element_id)
        upgrades.append(
            p.to_dict()
            | {
                "shortfall_kva": round(-min(e.c2_kva, 0.0), 1) if e else None,
                "red_before": bool(was is not None and was.light == "red"),
            }
        )
    return WhatIfResult(
        scenario,
        rows,
        newly,
        changes,
        after_model.version,
        after_model,
        upgrades,
        closure.unresolved,
        closure.model,
    )


def _loads_in_scope(model: GridModel, scope: str, ident: str | None) -> list[int]:
    out = []
    for idx, bus in zip(model.net.load.index, model.net.load["bus"].astype(int), strict=True):
        dt_id = model.lv_bus_transformer.get(bus)
        mv = model.distribution_transformers[dt_id].hv_bus if dt_id else bus
        feeder = model.bus_feeder.get(mv)
        substation = model.feeders[feeder].substation_id if feeder else None
        cp = model.connection_points.get(f"cp:{mv}")
        area = cp.area_class if cp is not None else None
        matched = {
            "all": True,
            "feeder": feeder == ident,
            "substation": substation == ident,
            "area_class": area == ident,
        }[scope]
        if matched:
            out.append(idx)
    return out


def _whole(value: Any) -> bool:
    return _number(value) and float(value) == int(value)


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
