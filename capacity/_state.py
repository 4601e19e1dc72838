"""Openable capacity kept current by reservations (在途容量台账), without recomputing the network.

The network's capacity without reservations is computed once: every element's C1 and
each connection point's supply path (rule-based), and the AC capacity at every point's
bus. A reservation then only adds its kVA to the elements on its point's path, so keeping
the figures current costs the path's length, never a sweep of the network:

- a point's rule-based figure is the smallest ``C1 − reserved`` along its path;
- its AC figure is the last AC search's answer at its bus, less what has been reserved
  since on the element that holds the search's limit (the point's distribution
  transformer, feeder or bus section: its *carrier*) — conservative, since that load flows
  through or beside the limit. A fresh AC search with the reservations as loads
  (:meth:`CapacityState.with_ac`) replaces it, off the request path;
- the point offers the smaller: ``openable_kva``, the one number a scheme offers, a
  selection checks and the capacity publication shows.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from capacity._criteria import HostingCriteria
from capacity._hosting import BusCapacity
from capacity._islands import island_of
from capacity._projects import AcMemo
from capacity._publish import PointCapacity, point_capacities
from capacity._rules_based import Reservation, RuleCapacity, apply_inflight
from grid_models import GridModel


@dataclass(frozen=True, slots=True)
class AcSnapshot:
    """AC searches at the points' buses: each point's capacity (kVA) and what binds it."""

    kva: dict[str, float]
    limiting: dict[str, str]

    @classmethod
    def of(
        cls, model: GridModel, found: Mapping[int, BusCapacity], power_factor: float
    ) -> AcSnapshot:
        kva: dict[str, float] = {}
        limiting: dict[str, str] = {}
        for cp_id, cp in model.connection_points.items():
            got = found.get(cp.bus)
            if got is None:
                continue
            kva[cp_id] = got.p_mw_max * 1000.0 / power_factor
            limiting[cp_id] = got.limiting
        return cls(kva, limiting)


@dataclass(frozen=True, slots=True)
class _AcBase:
    """A point's last AC search: its answer (kVA) and what bound it, where that limit sits
    (its carrier) and what was reserved on the carrier when the search ran."""

    kva: float
    limiting: str
    carrier: tuple[str, ...]
    reserved_at: float


@dataclass
class CapacityState:
    """Capacity of one network with the reservations in force, kept by totals per element.

    ``reserved`` holds the kVA reserved on every element and point (the ledger's totals).
    """

    model: GridModel
    base: RuleCapacity
    points: dict[str, PointCapacity]  # without reservations: names, kinds, bays, places
    power_factor: float
    reserved: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    version: int = 0
    #: per point: the last AC search's answer (one record, replaced whole)
    _ac: dict[str, _AcBase] = field(default_factory=dict, repr=False)
    _materialised: tuple[int, RuleCapacity] | None = field(default=None, repr=False)
    #: per island: how many changes of reservations it has seen, and the AC searches with
    #: projects made since the last one (each copy of a state starts its own)
    _island_changes: dict[int, int] = field(
        default_factory=lambda: defaultdict(int), init=False, repr=False
    )
    _memos: dict[int, AcMemo] = field(default_factory=dict, init=False, repr=False)
    _listed: tuple[int, tuple[Reservation, ...]] | None = field(
        default=None, init=False, repr=False
    )
    #: held while totals change and while they are copied whole (requests read single
    #: figures without it: each is a value from just before or just after a change)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    @classmethod
    def build(
        cls,
        model: GridModel,
        base: RuleCapacity,
        ac: Mapping[int, BusCapacity],
        criteria: HostingCriteria,
    ) -> CapacityState:
        """From the capacity without reservations (rules and AC)."""
        found = dict(ac)
        points = {
            p.id: p for p in point_capacities(model, base, found, None, criteria.power_factor)
        }
        state = cls(model, base, points, criteria.power_factor)
        state.with_ac(AcSnapshot.of(model, found, criteria.power_factor), {})
        return state

    # ------------------------------------------------------------------ the ledger's totals
    def add(self, connection_point_id: str, kva: float) -> None:
        """Reserve (or, negative, release) ``kva`` at a point: every element on its path."""
        cp = self.model.connection_points.get(connection_point_id)
        with self._lock:
            for eid in self.path(connection_point_id):
                self.reserved[eid] += kva
            self.reserved[connection_point_id] += kva
            if cp is not None:
                self._island_changes[island_of(self.model, cp.bus)] += 1
            self.version += 1

    def totals(self) -> dict[str, float]:
        """A copy of the totals in force (taken between changes)."""
        with self._lock:
            return dict(self.reserved)

    def path(self, connection_point_id: str) -> tuple[str, ...]:
        """The elements a point's load flows through (the point and substation left out)."""
        return self.base.point_paths.get(connection_point_id, ())

    def reservations(self) -> tuple[Reservation, ...]:
        """The reservations in force as one per point (their totals)."""
        with self._lock:
            done = self._listed
            if done is None or done[0] != self.version:
                listed = tuple(
                    Reservation(cp, kva)
                    for cp, kva in self.reserved.items()
                    if cp in self.points and abs(kva) > 1e-9
                )
                done = self._listed = (self.version, listed)
        return done[1]

    def reset(self, totals: Mapping[str, float]) -> None:
        """Replace the totals (the ledger re-added)."""
        with self._lock:
            self.reserved = defaultdict(float, totals)
            self._memos = {}
            for island in list(self._island_changes):
                self._island_changes[island] += 1
            self.version += 1

    def ac_memo(self, connection_point_id: str) -> AcMemo:
        """Where AC searches with projects for this point's island are kept while its
        reservations stay as they are now."""
        island = island_of(self.model, self.model.connection_points[connection_point_id].bus)
        version = self._island_changes[island]
        memo = self._memos.get(island)
        if memo is None or memo.version != version:
            memo = AcMemo(version)
            self._memos[island] = memo
        return memo

    # ------------------------------------------------------------------ one number
    def rules_kva(
        self, connection_point_id: str, reserved: Mapping[str, float] | None = None
    ) -> float:
        """The smallest C2 along the point's path (``reserved``: other totals to use)."""
        totals = self.reserved if reserved is None else reserved
        elements = self.base.elements
        path = self.path(connection_point_id)
        if not path:
            return math.nan
        return min(elements[e].c1_kva - totals.get(e, 0.0) for e in path)

    def ac_kva(
        self, connection_point_id: str, reserved: Mapping[str, float] | None = None
    ) -> float:
        """The last AC search's figure less what has been reserved since where it binds."""
        totals = self.reserved if reserved is None else reserved
        ac = self._ac.get(connection_point_id)
        if ac is None:
            return math.inf
        now = sum(totals.get(e, 0.0) for e in ac.carrier)
        return ac.kva - (now - ac.reserved_at)

    def openable_kva(
        self, connection_point_id: str, reserved: Mapping[str, float] | None = None
    ) -> float:
        """The one number: the smaller of the rule-based and the AC figure."""
        return min(
            self.rules_kva(connection_point_id, reserved),
            self.ac_kva(connection_point_id, reserved),
        )

    def point(self, connection_point_id: str) -> PointCapacity:
        """The point as published now (the same figure a selection checks)."""
        p = self.points[connection_point_id]
        path = self.path(connection_point_id)
        elements = self.base.elements
        rules = self.rules_kva(connection_point_id)
        found = self._ac.get(connection_point_id)
        # Taken off conservatively, what others reserved beside the limit can push the AC
        # figure below zero before the next AC search; the search cannot answer less than
        # zero (every selection was checked against it), so neither does the publication.
        ac = max(self.ac_kva(connection_point_id), min(0.0, found.kva if found else 0.0))
        after = min(rules, ac)
        worst = min(path, key=lambda e: elements[e].c1_kva - self.reserved.get(e, 0.0))
        limited = worst if rules <= ac else f"ac:{found.limiting if found else ''}"
        c1 = min(elements[e].c1_kva for e in path)
        light = "red" if c1 <= 0 else ("green" if rules > 0 else "yellow")
        if light == "green" and after <= 0:
            light = "yellow" if min(c1, p.ac_kva_before) > 0 else "red"
        return replace(
            p,
            rules_kva=rules,
            ac_kva=ac,
            openable_kva=after,
            openable_mw=after * self.power_factor / 1000.0,
            limited_by=limited,
            light=light,
        )

    def shortfall(
        self, adds: Sequence[tuple[str, float]], reserved: Mapping[str, float]
    ) -> tuple[str, float] | None:
        """Whether adding ``adds`` (point, kVA) to the totals ``reserved`` would take any
        point below zero (and so any element on its path, the AC figure included): the
        first point that does not fit and what it had left, or None. Sources sharing an
        element count together; an element already short may not get worse."""
        after: dict[str, float] = defaultdict(float, reserved)
        for cp, kva in adds:
            for e in self.path(cp):
                after[e] += kva
            after[cp] += kva
        for cp, _ in adds:
            if self.openable_kva(cp, after) < -1e-6:
                return cp, max(0.0, self.openable_kva(cp, reserved))
        return None

    # ------------------------------------------------------------------ views
    def rule_capacity(self) -> RuleCapacity:
        """Every element's C1/C2/light with the totals in force (cached per version)."""
        done = self._materialised
        if done is None or done[0] != self.version:
            with self._lock:
                version, totals = self.version, dict(self.reserved)
            if any(abs(v) > 1e-12 for v in totals.values()):
                done = (version, apply_inflight(self.base, totals))
            else:  # nothing reserved: the base is that already
                done = (version, self.base)
            self._materialised = done
        return done[1]

    # ------------------------------------------------------------------ AC searches
    def with_ac(
        self,
        ac: AcSnapshot,
        reserved_then: Mapping[str, float],
        points: Iterable[str] | None = None,
    ) -> None:
        """Take newer AC searches for ``points`` (all ``ac`` holds when None), made with the
        totals ``reserved_then`` as loads, as those points' base."""
        fresh: dict[str, _AcBase] = {}
        for cp in ac.kva if points is None else points:
            if cp not in ac.kva:
                continue
            carrier = self._carriers_of(cp, ac.limiting[cp])
            reserved_at = sum(reserved_then.get(e, 0.0) for e in carrier)
            fresh[cp] = _AcBase(ac.kva[cp], ac.limiting[cp], carrier, reserved_at)
        with self._lock:
            self._ac.update(fresh)  # each point's record replaced whole
            self.version += 1

    def carrier(self, connection_point_id: str) -> tuple[str, ...]:
        ac = self._ac.get(connection_point_id)
        return ac.carrier if ac else ()

    def points_carried_by(self, element_ids: Iterable[str]) -> list[str]:
        """The points whose AC limit sits in any of ``element_ids``."""
        wanted = set(element_ids)
        with self._lock:
            records = list(self._ac.items())
        return [cp for cp, ac in records if wanted.intersection(ac.carrier)]

    def copy_without_reservations(self) -> CapacityState:
        """The same network and AC figures with nothing reserved yet."""
        return replace(
            self,
            reserved=defaultdict(float),
            version=0,
            _ac=dict(self._ac),
            _materialised=None,
        )

    def _carriers_of(self, connection_point_id: str, limiting: str) -> tuple[str, ...]:
        """The innermost element on the point's path that holds its AC limit: its
        distribution transformer (the transformer or a line of its LV network), else its
        feeder (a line of it), else its bus section (a voltage limit, a main transformer,
        the source, or a bay)."""
        model = self.model
        cp = model.connection_points[connection_point_id]
        table, _, index = limiting.partition(":")
        idx = int(index) if index.lstrip("-").isdigit() else None
        dt_id = cp.distribution_transformer_id
        if dt_id is not None and idx is not None:
            dt = model.distribution_transformers[dt_id]
            if table == "trafo" and idx == dt.trafo:
                return (dt_id,)
            ends = self._line_ends(idx) if table == "line" else ()
            if ends and all(model.lv_bus_transformer.get(b) == dt_id for b in ends):
                return (dt_id,)
        feeder = cp.feeder_id
        # a voltage limit feels every load behind the same main transformer: its section
        if (
            table != "vm"
            and feeder is not None
            and idx is not None
            and self._in_feeder(feeder, table, idx)
        ):
            return (feeder,)
        section = cp.bus_section_id
        if section is not None:
            return (section,)
        return (feeder,) if feeder is not None else ()

    def _in_feeder(self, feeder_id: str, table: str, idx: int) -> bool:
        fd = self.model.feeders[feeder_id]
        if table == "line":
            return idx in fd.lines or all(
                self._feeder_of_bus(b) == feeder_id for b in self._line_ends(idx)
            )
        return False

    def _feeder_of_bus(self, bus: int) -> str | None:
        model = self.model
        dt_id = model.lv_bus_transformer.get(bus)
        if dt_id is not None:
            return model.distribution_transformers[dt_id].feeder_id
        return model.bus_feeder.get(bus)

    def _line_ends(self, line: int) -> tuple[int, ...]:
        table = self.model.net.line
        if line not in table.index:
            return ()
        return (int(table.at[line, "from_bus"]), int(table.at[line, "to_bus"]))
