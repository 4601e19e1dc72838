"""The capacity ledger (在途容量台账) in the database, and each worker's live capacity.

Every reservation and every release is an entry (``capacity_ledger``) whose id is the
sequence workers apply entries by; ``capacity_totals`` holds what is reserved on every
element and point of the loaded network. A selection locks only the total rows of its
supply path, in one order, checks them and adds its entries — so selections under
different main transformers never wait for each other. A worker keeps the network's
capacity in memory (:class:`capacity.CapacityState`), applies the entries it has not seen
before it answers (the path's length each), and runs the AC searches with the reservations
as loads in the background, swapping each in when it is done.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from api._db import Database, LedgerRow, TotalRow
from capacity import AcSnapshot, CapacityState, HostingCriteria, island_hosting
from grid_models import GridModel, Rules

log = logging.getLogger("gridcap.ledger")


class Ledger:
    """The ledger's tables for one loaded network."""

    def __init__(self, db: Database, model: GridModel, state: CapacityState) -> None:
        self.db = db
        self.model = model
        self.state = state

    def elements(self) -> list[str]:
        """Every id a total is kept for: the elements and the connection points."""
        ids = [e for e in self.state.base.elements]
        return ids

    def rebuild_if_stale(self) -> bool:
        """Make the totals those of the ledger on this network (after a new network version,
        or the first start): under the ledger lock, so several starting workers do it once.
        Returns whether they were rebuilt."""
        with self.db.sessions.begin() as s:
            self.db.lock(s)
            versions = s.execute(select(TotalRow.network_version).distinct()).scalars().all()
            count = s.execute(select(func.count()).select_from(TotalRow)).scalar_one()
            expected = len(self.elements())
            if versions == [self.model.version] and count == expected:
                return False
            per_point = self.sums(s)
            totals: dict[str, float] = defaultdict(float)
            for cp, kva in per_point.items():
                if cp not in self.state.points:
                    log.warning("ledger names %s, which this network does not have", cp)
                    continue
                for e in self.state.path(cp):
                    totals[e] += kva
                totals[cp] += kva
            s.execute(delete(TotalRow))
            rows = [
                {
                    "element_id": e,
                    "reserved_kva": totals.get(e, 0.0),
                    "network_version": self.model.version,
                }
                for e in self.elements()
            ]
            for k in range(0, len(rows), 5000):
                s.execute(insert(TotalRow), rows[k : k + 5000])
            return True

    @staticmethod
    def sums(session: Session) -> dict[str, float]:
        """The ledger added up per point."""
        q = select(LedgerRow.connection_point_id, func.sum(LedgerRow.kva)).group_by(
            LedgerRow.connection_point_id
        )
        return {cp: float(kva or 0.0) for cp, kva in session.execute(q).all()}

    def record(
        self,
        session: Session,
        application_id: str,
        changes: Sequence[tuple[str, float]],
        reason: str,
    ) -> None:
        """Entries and totals for ``changes`` (point, ±kVA), inside the caller's transaction
        (whose path rows it has locked)."""
        delta: dict[str, float] = defaultdict(float)
        for cp, kva in changes:
            session.add(
                LedgerRow(
                    application_id=application_id,
                    connection_point_id=cp,
                    kva=kva,
                    reason=reason,
                )
            )
            for e in self.state.path(cp):
                delta[e] += kva
            delta[cp] += kva
        for e in sorted(delta):
            session.execute(
                update(TotalRow)
                .where(TotalRow.element_id == e)
                .values(reserved_kva=TotalRow.reserved_kva + delta[e])
            )

    def path_ids(self, points: Iterable[str]) -> list[str]:
        ids: set[str] = set()
        for cp in points:
            ids.update(self.state.path(cp))
            ids.add(cp)
        return sorted(ids)


class LiveCapacity:
    """A worker's capacity: the state, the ledger entries applied to it, the AC searches."""

    def __init__(
        self, db: Database, state: CapacityState, rules: Rules, criteria: HostingCriteria
    ) -> None:
        self.db = db
        self.state = state
        self.rules = rules
        self.criteria = criteria
        self.lock = threading.RLock()
        self.floor = 0  # every id up to here is applied (or was rolled back)
        self.applied: set[int] = set()  # ids above the floor already applied
        self.missing_since: dict[int, float] = {}
        self.gap_seconds = float(rules.get("service.ledger_gap_seconds"))
        self.changed_points: set[str] = set()
        self.changed_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshes = 0
        self._computed_at = dt.datetime.now(dt.UTC)

    def computed_at(self) -> str:
        """When the AC figures were last swapped in (or the state was built), UTC."""
        return self._computed_at.isoformat(timespec="seconds")

    # ------------------------------------------------------------------ the ledger
    def load(self) -> None:
        """Every entry so far, added up per point (start-up)."""
        with self.db.reads() as s:
            top = s.execute(select(func.max(LedgerRow.id))).scalar() or 0
            sums = Ledger.sums(s)
        with self.lock:
            for cp, kva in sums.items():
                if cp in self.state.points and abs(kva) > 1e-9:
                    self.state.add(cp, kva)
            self.floor = int(top)

    def sync(self) -> int:
        """Apply the entries not seen yet; returns how many were applied."""
        with self.db.reads() as s:
            rows = s.execute(
                select(LedgerRow.id, LedgerRow.connection_point_id, LedgerRow.kva)
                .where(LedgerRow.id > self.floor)
                .order_by(LedgerRow.id)
            ).all()
        if not rows and not self.missing_since:
            return 0
        n = 0
        now = time.monotonic()
        with self.lock:
            for ident, cp, kva in rows:
                if ident <= self.floor or ident in self.applied:
                    continue
                if cp in self.state.points:
                    self.state.add(cp, float(kva))
                    self.changed_points.add(cp)
                    self.changed_at = now
                self.applied.add(int(ident))
                n += 1
            self._advance(now)
        return n

    def _advance(self, now: float) -> None:
        top = max(self.applied, default=self.floor)
        k = self.floor + 1
        while k <= top:
            if k in self.applied:
                self.applied.discard(k)
            else:
                first = self.missing_since.setdefault(k, now)
                if now - first <= self.gap_seconds:
                    break  # maybe a transaction still open: wait for it
                self.missing_since.pop(k, None)  # rolled back: never to come
            self.floor = k
            k += 1

    def replay(self) -> dict[str, float]:
        """The ledger added up from zero along this network's paths (for checks)."""
        with self.db.reads() as s:
            sums = Ledger.sums(s)
        totals: dict[str, float] = defaultdict(float)
        for cp, kva in sums.items():
            if cp in self.state.points:
                for e in self.state.path(cp):
                    totals[e] += kva
                totals[cp] += kva
        return dict(totals)

    # ------------------------------------------------------------------ AC searches
    def refresh_ac(self, points: Iterable[str] | None = None) -> int:
        """AC searches with the reservations as loads, for the points whose figures the
        changes at ``points`` can move (every point when None); swapped in when done.
        Returns how many points were searched."""
        with self.lock:
            state = self.state
            reserved = state.totals()
            reservations = state.reservations()
            if points is None:
                targets = list(state.points)
            else:
                touched = {e for cp in points for e in (*state.path(cp), cp)}
                targets = state.points_carried_by(touched)
        if not targets:
            return 0
        model = state.model
        buses = sorted({model.connection_points[cp].bus for cp in targets})
        extra: dict[int, float] = defaultdict(float)
        for r in reservations:
            bus = model.connection_points[r.connection_point_id].bus
            extra[bus] += r.kva * self.criteria.power_factor / 1000.0
        # each point searched on its own island: a smaller power flow, the same answer
        found = {
            c.bus: c
            for c in island_hosting(
                model, self.criteria, buses, rules=self.rules, extra_load_mw=extra
            )
        }
        fresh = AcSnapshot.of(model, found, self.criteria.power_factor)
        with self.lock:
            state.with_ac(fresh, reserved, targets)
            self._computed_at = dt.datetime.now(dt.UTC)
            self.refreshes += 1
        return len(targets)

    def start(self) -> None:
        """The background loop: AC searches a little after changes, and all of them on the
        rules' period; the ledger re-added against the totals now and then."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="gridcap-capacity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        delay = float(self.rules.get("service.ac_refresh_delay_seconds"))
        period = float(self.rules.get("service.full_refresh_seconds"))
        reconcile = float(self.rules.get("service.reconcile_seconds"))
        last_full = last_check = time.monotonic()
        while not self._stop.wait(0.5):
            try:
                self.sync()
                now = time.monotonic()
                if now - last_full >= period:
                    with self.lock:
                        self.changed_points.clear()
                    self.refresh_ac(None)
                    last_full = now
                elif self.changed_points and now - self.changed_at >= delay:
                    with self.lock:
                        points = set(self.changed_points)
                        self.changed_points.clear()
                    self.refresh_ac(points)
                if now - last_check >= reconcile:
                    self.reconcile()
                    last_check = now
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                log.exception("capacity refresh failed; the last figures stay in force")

    def reconcile(self) -> bool:
        """Re-add the ledger and put the worker right if it ever drifted (an entry missed
        past the gap timeout); returns whether it had."""
        truth = self.replay()
        with self.lock:
            mine = {k: v for k, v in self.state.totals().items() if abs(v) > 1e-6}
            drift = {
                k
                for k in set(truth) | set(mine)
                if abs(truth.get(k, 0.0) - mine.get(k, 0.0)) > 1e-6
            }
            if not drift:
                return False
            log.warning("capacity totals drifted from the ledger on %d ids; re-added", len(drift))
            self.state.reset(truth)
        return True


def points_of(option: dict[str, Any]) -> list[tuple[str, float]]:
    """What an option holds: each source's point and the kVA it carries now (nothing for an
    option connected only once its projects are built)."""
    if option.get("stage") == "after_projects":
        return []
    return [
        (str(src["connection_point_id"]), float(src.get("carries_kva", 0.0)))
        for src in option["sources"]
    ]
