"""The derived network model: what a utility engineer knows about a 10 kV network."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from grid_models._errors import Problem
from grid_models._geo import AREA_CLASSES, Area, AreaClass, classify_points, in_overlay

if TYPE_CHECKING:
    import networkx as nx
    import pandapower as pp

    from grid_models._corridors import CorridorNetwork

WiringMode = Literal["radial", "single_tie", "two_ties", "three_ties", "single_ring", "double_ring"]
WIRING_MODES: tuple[WiringMode, ...] = (
    "radial",
    "single_tie",
    "two_ties",
    "three_ties",
    "single_ring",
    "double_ring",
)
ConnectionPointKind = Literal[
    "substation_bay", "switching_station", "ring_main_unit", "pole", "lv_branch_box"
]
TieKind = Literal["feeder_tie", "bus_coupler", "within_feeder", "dead_end"]


@dataclass(frozen=True, slots=True)
class Substation:
    """A 110(35)/10 kV substation (变电站) with its main transformers and 10 kV bus sections."""

    id: str
    name: str
    buses: tuple[int, ...]
    main_transformer_ids: tuple[str, ...]
    bus_section_ids: tuple[str, ...]
    lon_deg: float
    lat_deg: float


@dataclass(frozen=True, slots=True)
class MainTransformer:
    """A main transformer (主变) feeding one or more 10 kV bus sections."""

    id: str
    trafo: int
    name: str
    substation_id: str
    bus_section_id: str | None
    sn_mva: float
    hv_bus: int
    lv_bus: int


@dataclass(frozen=True, slots=True)
class BusSection:
    """A 10 kV bus section (10 kV 母线段): buses joined by closed switches inside a substation."""

    id: str
    name: str
    substation_id: str
    buses: tuple[int, ...]
    main_transformer_ids: tuple[str, ...]
    feeder_ids: tuple[str, ...]
    bays_total: int | None
    bays_free: int | None


@dataclass(frozen=True, slots=True)
class Feeder:
    """A 10 kV feeder (馈线): everything its head line energises in the normal switching state."""

    id: str
    name: str
    substation_id: str
    bus_section_id: str
    head_line: int
    head_bus: int
    wiring_mode: WiringMode
    conductor: Literal["cable", "overhead"]
    tie_ids: tuple[str, ...]
    tie_partner_ids: tuple[str, ...]
    buses: tuple[int, ...]
    lines: tuple[int, ...]
    segment_ids: tuple[str, ...]
    length_km: float
    head_max_i_ka: float

    @property
    def n1_secure(self) -> bool:
        """A feeder with at least one tie can, in principle, transfer its load (N-1)."""
        return self.wiring_mode != "radial"


@dataclass(frozen=True, slots=True)
class Segment:
    """A feeder segment (分段): lines between switches, with the segment feeding it."""

    id: str
    feeder_id: str
    lines: tuple[int, ...]
    buses: tuple[int, ...]
    parent_segment_id: str | None
    length_km: float
    min_max_i_ka: float


@dataclass(frozen=True, slots=True)
class TieSwitch:
    """A normally-open point (联络开关): a switch or an out-of-service line between two sides."""

    id: str
    switch: int | None
    line: int | None
    bus_a: int
    bus_b: int
    side_a: str | None
    side_b: str | None
    kind: TieKind
    between_substations: bool


@dataclass(frozen=True, slots=True)
class DistributionTransformer:
    """A 10/0.4 kV distribution transformer (配变): public (公变) or customer-owned (专变)."""

    id: str
    trafo: int
    name: str
    sn_kva: float
    ownership: Literal["public", "customer"]
    hv_bus: int
    lv_bus: int
    feeder_id: str | None
    segment_id: str | None
    std_type: str | None


@dataclass(frozen=True, slots=True)
class ConnectionPoint:
    """A connection point (接入点): where a customer's line can meet the public grid."""

    id: str
    bus: int
    kind: ConnectionPointKind
    name: str
    station: str | None
    vn_kv: float
    lon_deg: float
    lat_deg: float
    bays_total: int | None
    bays_free: int | None
    substation_id: str | None
    bus_section_id: str | None
    feeder_id: str | None
    segment_id: str | None
    distribution_transformer_id: str | None
    area_class: AreaClass

    @property
    def has_free_bay(self) -> bool:
        return self.bays_free is None or self.bays_free > 0


@dataclass
class GridModel:
    """The pandapower net plus what is derived from its topology.

    Build one with :func:`grid_models.derive_model` or :func:`grid_models.load_model`;
    the collections are keyed by element id (see docs/network-model.md).
    """

    net: pp.pandapowerNet
    id: str
    version: str
    substations: dict[str, Substation]
    main_transformers: dict[str, MainTransformer]
    bus_sections: dict[str, BusSection]
    feeders: dict[str, Feeder]
    segments: dict[str, Segment]
    tie_switches: dict[str, TieSwitch]
    bus_couplers: dict[str, TieSwitch]
    distribution_transformers: dict[str, DistributionTransformer]
    connection_points: dict[str, ConnectionPoint]
    areas: list[Area]
    problems: list[Problem]
    # Per-bus lookups (pandapower bus index → id), the base of supply paths.
    bus_feeder: dict[int, str] = field(repr=False)
    bus_segment: dict[int, str] = field(repr=False)
    bus_section_of_bus: dict[int, str] = field(repr=False)
    lv_bus_transformer: dict[int, str] = field(repr=False)
    mv_buses: tuple[int, ...] = field(repr=False)
    lv_buses: tuple[int, ...] = field(repr=False)

    # ------------------------------------------------------------------ queries
    def supply_path(self, element_id: str) -> tuple[str, ...]:
        """Ids from a connection point, bus (``cp:``/``bus:``) or segment up to the substation.

        Order: the point itself, the LV distribution transformer when the point is on the
        LV side, the segments from the point upward, the feeder, the bus section, its main
        transformers, the substation ("下级服从上级": the point can offer no more than any).
        """
        path: list[str] = []
        if element_id.startswith(("cp:", "bus:")):
            bus = int(element_id.split(":", 1)[1])
            path.append(element_id)
            dt_id = self.lv_bus_transformer.get(bus)
            if dt_id is not None:
                path.append(dt_id)
                bus = self.distribution_transformers[dt_id].hv_bus
            seg_id = self.bus_segment.get(bus)
            section_id = self.bus_section_of_bus.get(bus)
            feeder_id = self.bus_feeder.get(bus)
        elif element_id in self.segments:
            seg_id = element_id
            feeder_id = self.segments[element_id].feeder_id
            section_id = None
        else:
            raise KeyError(f"{element_id!r} is neither a connection point, a bus nor a segment")
        while seg_id is not None:
            path.append(seg_id)
            seg_id = self.segments[seg_id].parent_segment_id
        if feeder_id is not None:
            path.append(feeder_id)
            section_id = self.feeders[feeder_id].bus_section_id
        if section_id is not None:
            section = self.bus_sections[section_id]
            path.append(section_id)
            path.extend(section.main_transformer_ids)
            path.append(section.substation_id)
        return tuple(path)

    def segment_entry_line(self, segment_id: str | None) -> int | None:
        """The line through which a segment is fed: the one touching its parent segment
        (or, for a feeder's first segment, its bus section); None if none touches."""
        if segment_id is None:
            return None
        seg = self.segments[segment_id]
        parent = seg.parent_segment_id
        upstream = (
            set(self.segments[parent].buses)
            if parent
            else set(self.bus_sections[self.feeders[seg.feeder_id].bus_section_id].buses)
        )
        line = self.net.line
        for idx in seg.lines:
            if {int(line.at[idx, "from_bus"]), int(line.at[idx, "to_bus"])} & upstream:
                return int(idx)
        return None

    def area_class_at(self, lon_deg: float, lat_deg: float) -> AreaClass:
        """The area class (市中心区/市区/城镇/农村) at a place; ``rural`` outside every polygon."""
        cls = classify_points(self.areas, np.array([lon_deg]), np.array([lat_deg]))[0]
        return str(cls)  # type: ignore[return-value]

    def in_area_overlay(self, kind: str, lon_deg: float, lat_deg: float) -> bool:
        """Whether a place lies in a ``provincial_park`` or ``urban_planning_area`` polygon."""
        return bool(in_overlay(self.areas, kind, np.array([lon_deg]), np.array([lat_deg]))[0])

    def feeders_by_wiring_mode(self) -> dict[str, int]:
        counts = Counter(f.wiring_mode for f in self.feeders.values())
        return {mode: counts.get(mode, 0) for mode in WIRING_MODES}

    def iter_problems(self, severity: str | None = None) -> Iterator[Problem]:
        return (p for p in self.problems if severity is None or p.severity == severity)

    @cached_property
    def corridors(self) -> CorridorNetwork | None:
        """The corridor layer (roads, cable ducts, crossings) routes follow; None if the
        network carries none (routes then fall back to crow-fly × a factor)."""
        from grid_models._corridors import corridors_of

        return corridors_of(self.net)

    @cached_property
    def graph(self) -> nx.MultiGraph:
        """The normal-state topology as a networkx MultiGraph (buses as nodes).

        Edges carry ``element`` (``line``/``trafo``/``switch``) and ``index``; open switches
        and out-of-service elements are left out, so connected components are what is
        energised together.
        """
        from grid_models._topology import normal_state_graph

        return normal_state_graph(self.net)

    def feeder_rows(self) -> list[dict[str, Any]]:
        """One row per feeder: name, substation, section, wiring mode, ties and size."""
        return [
            {
                "id": f.id,
                "name": f.name,
                "substation_id": f.substation_id,
                "bus_section_id": f.bus_section_id,
                "wiring_mode": f.wiring_mode,
                "conductor": f.conductor,
                "tie_partner_ids": list(f.tie_partner_ids),
                "tie_ids": list(f.tie_ids),
                "buses": len(f.buses),
                "segments": len(f.segment_ids),
                "length_km": round(f.length_km, 3),
            }
            for f in self.feeders.values()
        ]

    def tie_rows(self) -> list[dict[str, Any]]:
        """One row per tie switch: the open point and the two sides it joins."""
        return [
            {
                "id": t.id,
                "switch": t.switch,
                "line": t.line,
                "side_a": t.side_a,
                "side_b": t.side_b,
                "between_substations": t.between_substations,
            }
            for t in self.tie_switches.values()
        ]

    def summary(self, *, detail: bool = False) -> dict[str, Any]:
        """Counts, wiring modes and problems: what ``gridcap network info`` prints."""
        n_bus = len(self.net.bus)
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "substations": len(self.substations),
            "main_transformers": len(self.main_transformers),
            "bus_sections": len(self.bus_sections),
            "feeders": len(self.feeders),
            "segments": len(self.segments),
            "tie_switches": len(self.tie_switches),
            "tie_switches_between_substations": sum(
                t.between_substations for t in self.tie_switches.values()
            ),
            "bus_couplers": len(self.bus_couplers),
            "distribution_transformers": len(self.distribution_transformers),
            "distribution_transformers_public": sum(
                d.ownership == "public" for d in self.distribution_transformers.values()
            ),
            "connection_points": len(self.connection_points),
            "connection_points_by_kind": dict(
                sorted(Counter(c.kind for c in self.connection_points.values()).items())
            ),
            "buses": n_bus,
            "mv_buses": len(self.mv_buses),
            "lv_buses": len(self.lv_buses),
            "lines": len(self.net.line),
            "loads": len(self.net.load),
            "areas": dict(sorted(Counter(a.kind for a in self.areas).items())),
            "area_classes_present": [
                c for c in AREA_CLASSES if any(a.kind == c for a in self.areas)
            ],
            "wiring_modes": self.feeders_by_wiring_mode(),
            "problems": [p.to_dict() for p in self.problems],
        }
        if detail:
            out["feeder_list"] = self.feeder_rows()
            out["tie_switch_list"] = self.tie_rows()
        return out


def ids_of(items: Sequence[Any]) -> tuple[str, ...]:
    return tuple(i.id for i in items)
