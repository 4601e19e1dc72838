"""What gets published: connection-point capacity, rows per level, summaries, GeoJSON."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from capacity._hosting import BusCapacity
from capacity._rules_based import ElementCapacity, RuleCapacity
from grid_models import GridModel


@dataclass(frozen=True, slots=True)
class PointCapacity:
    """A connection point's openable capacity: min(rule-based path, AC capacity at its bus).

    ``*_before`` ignore in-flight reservations (C1 path, AC of the network as built);
    the plain figures deduct them (C2 path, AC with the reservations connected).
    """

    id: str
    bus: int
    kind: str
    name: str
    rules_kva_before: float
    rules_kva: float
    ac_kva_before: float
    ac_kva: float
    openable_kva_before: float
    openable_kva: float
    openable_mw: float
    limited_by: str
    light: str
    feeder_id: str | None
    substation_id: str | None
    area_class: str
    bays_free: int | None
    lon_deg: float
    lat_deg: float

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, float):
                value = None if math.isnan(value) else round(value, 3)
            out[name] = value
        return out


def point_capacities(
    model: GridModel,
    rules_cap: RuleCapacity,
    ac_before: dict[int, BusCapacity] | None,
    ac_after: dict[int, BusCapacity] | None,
    power_factor: float,
) -> list[PointCapacity]:
    """Combine the rule-based path minimum with the AC capacity at each point's bus."""
    out: list[PointCapacity] = []
    for cp_id, cp in model.connection_points.items():
        rc = rules_cap.elements.get(cp_id)
        if rc is None:
            continue
        rules_before = min(rc.c1_kva, rc.openable_kva + rc.inflight_kva) if rc else math.nan
        ac_b = _ac_kva(ac_before, cp.bus, power_factor)
        ac_a = _ac_kva(ac_after, cp.bus, power_factor) if ac_after is not None else ac_b
        before = min(rules_before, ac_b)
        after = min(rc.openable_kva, ac_a)
        limited_by = rc.limited_by
        if ac_after is not None and cp.bus in ac_after and ac_a < rc.openable_kva:
            limited_by = f"ac:{ac_after[cp.bus].limiting}"
        light = rc.light
        if light == "green" and after <= 0:
            light = "yellow" if before > 0 else "red"
        out.append(
            PointCapacity(
                id=cp_id,
                bus=cp.bus,
                kind=cp.kind,
                name=cp.name,
                rules_kva_before=rules_before,
                rules_kva=rc.openable_kva,
                ac_kva_before=ac_b,
                ac_kva=ac_a,
                openable_kva_before=before,
                openable_kva=after,
                openable_mw=after * power_factor / 1000.0,
                limited_by=limited_by,
                light=light,
                feeder_id=cp.feeder_id,
                substation_id=cp.substation_id,
                area_class=cp.area_class,
                bays_free=cp.bays_free,
                lon_deg=cp.lon_deg,
                lat_deg=cp.lat_deg,
            )
        )
    return out


def _ac_kva(ac: dict[int, BusCapacity] | None, bus: int, power_factor: float) -> float:
    if ac is None or bus not in ac:
        return math.inf
    return ac[bus].p_mw_max / power_factor * 1000.0


def public_only(model: GridModel, rows: Iterable[Any]) -> list[Any]:
    """Rows of public assets only: customer-owned transformers (专变) and whatever hangs
    below them are the customer's, not capacity the utility can publish (seed 三(二)4
    publishes the public grid's openable capacity)."""
    hidden = private_assets(model)
    buses = private_buses(model)
    out = []
    for r in rows:
        rid = r.get("id") if isinstance(r, dict) else getattr(r, "id", None)
        parent = r.get("parent_id") if isinstance(r, dict) else getattr(r, "parent_id", None)
        bus = r.get("bus") if isinstance(r, dict) else None
        if rid in hidden or parent in hidden:
            continue
        if rid is None and bus is not None and int(bus) in buses:
            continue  # a bus row of a customer's own LV network
        out.append(r)
    return out


def private_assets(model: GridModel) -> frozenset[str]:
    """Ids of customer-owned transformers and of the connection points below them (kept
    with the model: every publication asks)."""
    known = model.__dict__.get("_private_assets")
    if known is not None:
        return frozenset(known)
    private = {d.id for d in model.distribution_transformers.values() if d.ownership == "customer"}
    private |= {
        cp.id
        for cp in model.connection_points.values()
        if cp.distribution_transformer_id in private
    }
    result = frozenset(private)
    model.__dict__["_private_assets"] = result
    return result


def private_buses(model: GridModel) -> frozenset[int]:
    """The buses of customers' own LV networks: each customer-owned transformer's LV bus
    and every bus reached from it by lines below 1 kV (kept with the model)."""
    known = model.__dict__.get("_private_buses")
    if known is not None:
        return frozenset(known)
    net = model.net
    starts = [
        d.lv_bus for d in model.distribution_transformers.values() if d.ownership == "customer"
    ]
    found: set[int] = set()
    if starts:
        vn = net.bus["vn_kv"]
        lines = net.line[net.line["in_service"].astype(bool)]
        low = (vn.reindex(lines["from_bus"]).to_numpy() < 1.0) & (
            vn.reindex(lines["to_bus"]).to_numpy() < 1.0
        )
        lv = lines[low]
        adjacent: dict[int, list[int]] = defaultdict(list)
        for a, b in zip(lv["from_bus"].tolist(), lv["to_bus"].tolist(), strict=True):
            adjacent[int(a)].append(int(b))
            adjacent[int(b)].append(int(a))
        stack = [int(b) for b in starts]
        while stack:
            b = stack.pop()
            if b in found:
                continue
            found.add(b)
            stack.extend(adjacent.get(b, ()))
    result = frozenset(found)
    model.__dict__["_private_buses"] = result
    return result


def substation_parents(rules_cap: RuleCapacity) -> dict[str, tuple[float, tuple[str, ...]]]:
    """Per substation: what its main transformers can still take together (the sum of
    their openable capacity, none below zero) and their ids — the binding parent of every
    point it feeds, and the most the substation can ever publish."""
    out: dict[str, tuple[float, tuple[str, ...]]] = {}
    for e in rules_cap.by_kind("main_transformer"):
        if e.substation_id is None:
            continue
        total, ids = out.get(e.substation_id, (0.0, ()))
        out[e.substation_id] = (total + max(e.openable_kva, 0.0), (*ids, e.id))
    return out


def summarise(
    rows: Iterable[ElementCapacity | PointCapacity],
    by: str,
    parents: dict[str, tuple[float, tuple[str, ...]]] | None = None,
    computed_at: str | None = None,
) -> list[dict[str, Any]]:
    """Per substation or per area class (the seed publishes capacity by region and
    substation): counts by light, the largest openable at one element
    (``openable_kva_max``: what one customer can get) and, per substation, what it can
    take at once (``openable_kva``): its main transformers' openable capacity, never the
    sum of its points (points on one feeder share the feeder, feeders share the main
    transformer) and never more than the largest point could be short of it. An area
    class has no such parent: its ``openable_kva`` is None (not additive)."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"elements": 0, "green": 0, "yellow": 0, "red": 0, "openable_kva_max": 0.0}
    )
    for r in rows:
        key = (r.substation_id if by == "substation" else r.area_class) or "unknown"
        g = groups[key]
        g["elements"] += 1
        g[r.light] += 1
        g["openable_kva_max"] = max(g["openable_kva_max"], r.openable_kva)
    out = []
    for k, v in sorted(groups.items()):
        parent = (parents or {}).get(k) if by == "substation" else None
        row: dict[str, Any] = {by: k, **v, "openable_kva_max": round(v["openable_kva_max"], 1)}
        if parent is not None:
            row["openable_kva"] = round(parent[0], 1)
            row["limited_by"] = "main_transformers:" + ",".join(parent[1])
            # one customer can never get more than the substation can take
            row["openable_kva_max"] = round(min(row["openable_kva_max"], parent[0]), 1)
        else:
            row["openable_kva"] = None
            row["limited_by"] = "not_additive" if by != "substation" else "unknown"
        row["computed_at"] = computed_at
        out.append(row)
    return out


def district_total(parents: dict[str, tuple[float, tuple[str, ...]]]) -> float:
    """What the whole network can take at once: its main transformers' openable
    capacity (substations do not share main transformers)."""
    return round(sum(total for total, _ in parents.values()), 1)


def rows_to_csv(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    # every column any row has, in the order first seen (rows may differ: an upgrade with
    # no catalogue project carries a note instead of a description)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def rows_to_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(no rows)"
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def rows_to_geojson(rows: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    feats = []
    for r in rows:
        lon, lat = r.get("lon_deg"), r.get("lat_deg")
        geom = (
            {"type": "Point", "coordinates": [lon, lat]}
            if isinstance(lon, float) and isinstance(lat, float)
            else None
        )
        rid = r.get("id", r.get("bus"))
        feats.append(
            {"type": "Feature", "geometry": geom, "properties": {"kind": kind, **r, "id": str(rid)}}
        )
    return {"type": "FeatureCollection", "features": feats}
