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

The network itself is never changed; :func:`what_if` says what changed.
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
from capacity._rules_based import Reservation, RuleCapacity, rule_capacity
from grid_models import (
    AREA_CLASSES,
    GridModel,
    Rules,
    load_catalogue,
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


@dataclass
class WhatIfResult:
    """Capacity before and after, per element, and what the scenario changed."""

    scenario: Scenario
    rows: list[dict[str, Any]]
    newly_constrained: list[str]
    changes: list[str]
    network_version_after: str
    model_after: GridModel = field(repr=False)
    upgrades: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lights = {}
        for side in ("before", "after"):
            counts: dict[str, int] = {}
            for r in self.rows:
                if r[f"light_{side}"]:
                    counts[r[f"light_{side}"]] = counts.get(r[f"light_{side}"], 0) + 1
            lights[side] = counts
        return {
            "scenario": self.scenario.name,
            "changes": self.changes,
            "upgrades": len(self.upgrades),
            "upgrade_cost_cny": sum(u["cost_cny"] or 0 for u in self.upgrades),
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
    }
    problems += [f"{k}: not a scenario field" for k in raw if k not in known]
    lists = {k: raw.get(k) or [] for k in known - {"name"}}
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
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(raw.get("name") or "what-if"),
        **{k: tuple(dict(x) for x in v) for k, v in lists.items()},
    )


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
    from grid_models import geodesic_m

    section = model.bus_sections[nf["bus_section_id"]]
    cp = model.connection_points[nf["to_connection_point_id"]]
    sub = model.substations[section.substation_id]
    length = nf.get("length_km")
    if length is None:
        length = max(
            0.05, float(geodesic_m(sub.lon_deg, sub.lat_deg, cp.lon_deg, cp.lat_deg)) / 1000 * 1.3
        )
    std = nf.get("std_type", "YJV22-3x300")
    line = pp.create_line(
        net, section.buses[0], cp.bus, float(length), std, name=nf.get("name", "新出线")
    )
    pp.create_switch(net, section.buses[0], line, "l", closed=True, type="CB")
    entry = model.segment_entry_line(cp.segment_id)
    if entry is not None:
        net.line.loc[entry, "in_service"] = False
    return f"新出10千伏线路：{section.name} → {cp.name}，{std} {float(length):.2f} km" + (
        f"，断开原供电线路 {entry}" if entry is not None else ""
    )


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
) -> WhatIfResult:
    """Rule-based capacity before and after the scenario, element by element."""
    net, changes = apply_scenario(model, scenario)
    after_model = model_from_net(net, model_id=f"{model.id}+{scenario.name}", rules=rules)
    before = rule_capacity(model, reservations, rules=rules)
    valid = [r for r in reservations if r.connection_point_id in after_model.connection_points]
    after = rule_capacity(after_model, valid, rules=rules)
    rows = []
    for eid, b in before.elements.items():
        if b.kind not in kinds:
            continue
        a = after.elements.get(eid)
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
                "rating_kva": round(b.rating_kva, 1) if math.isfinite(b.rating_kva) else None,
                "load_rate_limit": b.load_rate_limit if math.isfinite(b.load_rate_limit) else None,
                "peak_kva_before": round(b.peak_kva, 1) if math.isfinite(b.peak_kva) else None,
                "peak_kva_after": round(a.peak_kva, 1) if a and math.isfinite(a.peak_kva) else None,
                "lon_deg": b.lon_deg if math.isfinite(b.lon_deg) else None,
                "lat_deg": b.lat_deg if math.isfinite(b.lat_deg) else None,
            }
        )
    newly = [
        str(r["id"])
        for r in rows
        if r["light_before"] == "green" and r["light_after"] in ("yellow", "red")
    ]
    return WhatIfResult(
        scenario,
        rows,
        newly,
        changes,
        after_model.version,
        after_model,
        _implied_upgrades(after_model, after, rows, rules),
    )


def _implied_upgrades(
    model: GridModel, after: RuleCapacity, rows: list[dict[str, Any]], rules: Rules | None
) -> list[dict[str, Any]]:
    """What the scenario asks of the grid: every feeder or main transformer red after it
    that was not red before, with the catalogue project that removes the shortfall
    (:func:`capacity.project_for`: limiting conductors to the next size, the next standard
    transformer), or a note that the catalogue has none (a new feeder or substation)."""
    from capacity._projects import project_for
    from grid_models import load_rules

    rules = rules or load_rules()
    out = []
    for row in rows:
        if row["light_after"] != "red" or row["light_before"] == "red":
            continue
        if row["kind"] not in ("feeder", "main_transformer"):
            continue
        shortfall = round(-min(row["c1_kva_after"] or 0.0, 0.0), 1)
        project = project_for(model, after, row["id"], 0.0, rules)
        base = {"element_id": row["id"], "name": row["name"], "shortfall_kva": shortfall}
        if project is None:
            out.append(
                base
                | {
                    "kind": "new_feeder" if row["kind"] == "feeder" else "new_substation",
                    "cost_cny": None,
                    "duration_workdays": None,
                    "note": "beyond the catalogue's largest conductor or transformer",
                }
            )
            continue
        out.append(
            base
            | {
                "kind": project.kind,
                "description": project.description,
                "cost_cny": round(project.cost_cny),
                "duration_workdays": project.duration_workdays,
            }
        )
    return out


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


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
