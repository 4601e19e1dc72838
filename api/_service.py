"""The service's use cases: preview, apply, select (reserve), cancel, read."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api._db import ApplicationRow, Database, EventRow, ReservationRow
from api._ledger import Ledger, LiveCapacity, points_of
from capacity import HostingCriteria, Reservation
from grid_models import GridModel, Rules
from scheme_generator import (
    WARNING_ORDER,
    SchemeContext,
    calendar_from_rules,
    generate_scheme,
    parse_application,
    step_due_dates,
    warning_level,
)


class ServiceError(Exception):
    """Root of the service's own errors (mapped to HTTP in one place)."""


class Starting(ServiceError):
    """The service is still computing the network's capacity; ask again shortly."""


class NotFound(ServiceError):
    """No application with that id."""


class Unauthorized(ServiceError):
    """No credentials, or credentials that are not valid for anything."""


class Forbidden(ServiceError):
    """Valid credentials that do not give access to this application."""


class PlannerUnauthorized(Unauthorized):
    """A planner's route without an ``X-API-Key``."""


class PlannerForbidden(Forbidden):
    """A planner's route with an ``X-API-Key`` that is not one of the planners' keys."""


class UnknownOption(ServiceError):
    """The scheme has no option with that id."""

    def __init__(self, option_id: str) -> None:
        super().__init__(option_id)
        self.option_id = option_id


@dataclass
class Conflict(ServiceError):
    """The request clashes with the application's state or with the capacity left."""

    message: str
    capacity_left_kva: float | None = None

    def __str__(self) -> str:
        return self.message


def _today() -> dt.date:
    """The service's clock (one place, so tests can set it)."""
    return dt.date.today()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Service:
    """One loaded network, one database."""

    def __init__(
        self, model: GridModel, db: Database, rules: Rules, planner_keys: tuple[str, ...]
    ) -> None:
        self.model = model
        self.db = db
        self.rules = rules
        self.planner_keys = planner_keys
        self.today = lambda: _today()  # replaceable: tests freeze the clock
        self.calendar = calendar_from_rules(rules.get("scheme.workday_overrides"))
        self.criteria = HostingCriteria.from_rules(rules)
        self._ctx: SchemeContext | None = None
        self.live: LiveCapacity | None = None
        self.ledger: Ledger | None = None
        self.ready = threading.Event()
        self.failed: str | None = None
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.plan: list[dict[str, Any]] | None = None  # the grid plan, once computed
        self.plan_failed: str | None = None
        self.corridors: list[dict[str, Any]] | None = None  # by kind, once computed

    # ---------------------------------------------------------------- capacity state
    def start(self) -> None:
        """Compute the network's capacity, bring the ledger's totals to this network, apply
        every entry, run the AC searches with the reservations as loads — then ready. No
        request pays for any of it."""
        try:
            ctx = SchemeContext.build(self.model, rules=self.rules)
            self.ledger = Ledger(self.db, self.model, ctx.state)
            self.ledger.rebuild_if_stale()
            self.live = LiveCapacity(self.db, ctx.state, self.rules, self.criteria)
            self.live.load()
            self._release_carried()
            self.live.sync()
            if ctx.state.reservations():
                self.live.refresh_ac(None)
            self._ctx = ctx
            self.sweep_expired()
            self.ready.set()
            self.live.start()
            self._sweeper = threading.Thread(target=self._sweep_loop, daemon=True)
            self._sweeper.start()
            threading.Thread(target=self._publish_plan, name="gridcap-plan", daemon=True).start()
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            raise

    def _publish_plan(self) -> None:
        """What the publication adds that never changes while the network is loaded,
        worked out once after start-up (not before: a province's corridors take seconds):
        the corridors by kind, and the grid plan's projects with the capacity each adds
        (a recomputation per project); /api/v1/planning answers from it."""
        from capacity import public_only, published_plan
        from grid_models import corridor_summary

        public_only(self.model, [])  # its private sets are kept with the model
        self.corridors = corridor_summary(self.model.net)
        try:
            self.plan = published_plan(self.model, self.rules, today=self.today())
        except Exception as exc:  # noqa: BLE001 - the plan is published without figures
            logging.getLogger("gridcap.api").exception("grid plan could not be computed")
            self.plan_failed = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self._stop.set()
        if self.live is not None:
            self.live.stop()

    def context(self) -> SchemeContext:
        """The scheme context with every ledger entry applied (the path's length each)."""
        if not self.ready.is_set() or self._ctx is None or self.live is None:
            raise Starting()
        self.live.sync()
        return self._ctx

    def computed_at(self) -> str | None:
        """When the published figures were last computed: the last AC refresh, else the
        start (ISO time, UTC)."""
        return self.live.computed_at() if self.live is not None else None

    @property
    def state(self) -> Any:
        return self.context().state

    def active_reservations(self) -> tuple[Reservation, ...]:
        """The reservations in force, one per point (their totals)."""
        return self.context().state.reservations()

    # ---------------------------------------------------------------- auth
    def is_planner(self, api_key: str | None) -> bool:
        return bool(api_key) and any(
            hmac.compare_digest(api_key or "", k) for k in self.planner_keys
        )

    def _authorise(
        self, row: ApplicationRow, token: str | None, api_key: str | None, planner_allowed: bool
    ) -> None:
        if planner_allowed and self.is_planner(api_key):
            return
        if token is None:
            if api_key:
                raise Forbidden()
            raise Unauthorized()
        if not hmac.compare_digest(_hash(token), row.token_hash):
            raise Forbidden()

    # ---------------------------------------------------------------- use cases
    def _parse(self, raw: dict[str, Any]) -> Any:
        """A new request: dated today unless it says otherwise (contract); its dates must
        fall in the rules file's window around today."""
        if raw.get("application_date") is None:
            raw = {**raw, "application_date": self.today().isoformat()}
        return parse_application(raw, today=self.today(), rules=self.rules)

    def preview(self, raw: dict[str, Any]) -> dict[str, Any]:
        return generate_scheme(self.context(), self._parse(raw))

    def apply(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        app = self._parse(raw)
        scheme = generate_scheme(self.context(), app)
        app_id = secrets.token_hex(8)
        token = secrets.token_urlsafe(24)
        validity = int(scheme.get("validity_months", 12))
        with self.db.sessions.begin() as s:
            s.add(
                ApplicationRow(
                    id=app_id,
                    token_hash=_hash(token),
                    status="scheme_offered",
                    application=app.to_dict(),
                    scheme=scheme,
                    network_id=self.model.id,
                    network_version=self.model.version,
                    rules_version=self.rules.version,
                    valid_until=self.today() + dt.timedelta(days=30 * validity),
                )
            )
            s.add(
                EventRow(
                    application_id=app_id,
                    from_status=None,
                    to_status="scheme_offered",
                    actor="customer",
                )
            )
        return app_id, token, scheme

    def _find(
        self, s: Session, app_id: str, token: str | None, api_key: str | None, lock: bool = False
    ) -> Any:
        """The application, after the credentials: without any, 401 whether or not the id
        exists; a customer's token on an unknown id gets 403 like another's application
        (only a planner learns that an id does not exist)."""
        if token is None and not api_key:
            raise Unauthorized()
        row = s.get(ApplicationRow, app_id, with_for_update=lock)
        if row is None:
            if self.is_planner(api_key):
                raise NotFound()
            raise Forbidden()
        self._authorise(row, token, api_key, planner_allowed=True)
        return row

    def get(self, app_id: str, token: str | None, api_key: str | None) -> dict[str, Any]:
        with self.db.reads() as s:
            row = self._find(s, app_id, token, api_key)
            res = (
                s.execute(select(ReservationRow).where(ReservationRow.application_id == app_id))
                .scalars()
                .all()
            )
            return {
                "application_id": row.id,
                "status": _status(row, self.today()),
                "selected_option": row.selected_option,
                "network_id": row.network_id,
                "network_version": row.network_version,
                "rules_version": row.rules_version,
                "application": row.application,
                "scheme": row.scheme,
                "progress": self.progress(row),
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "from": e.from_status,
                        "to": e.to_status,
                        "actor": e.actor,
                    }
                    for e in s.execute(
                        select(EventRow)
                        .where(EventRow.application_id == app_id)
                        .order_by(EventRow.id)
                    ).scalars()
                ],
                "reservations": [
                    {
                        "connection_point_id": r.connection_point_id,
                        "kva": r.kva,
                        "active": bool(r.active),
                        "expires_on": r.expires_on.isoformat() if r.expires_on else None,
                    }
                    for r in res
                ],
            }

    def select_option(self, app_id: str, token: str | None, option_id: str) -> dict[str, Any]:
        """Reserve what the option's sources carry. Only the ledger rows of their supply
        paths are locked (in one order) and checked: the same ``openable_kva`` the scheme
        offered and the capacity publication shows, after every reservation in force."""
        ctx = self.context()
        assert self.ledger is not None and self.live is not None
        if token is None:
            raise Unauthorized()
        with self.db.sessions.begin() as s:
            row = s.get(ApplicationRow, app_id, with_for_update=True)
            if row is None:
                raise Forbidden()
            self._authorise(row, token, None, planner_allowed=False)
            if _status(row, self.today()) != "scheme_offered":
                raise Conflict(
                    f"the application is {_status(row, self.today())}; "
                    "only an offered scheme can be chosen"
                )
            option = next((o for o in row.scheme["options"] if o["option_id"] == option_id), None)
            if option is None:
                raise UnknownOption(option_id)
            held = [(cp, kva) for cp, kva in points_of(option) if cp in ctx.state.points]
            totals = self.db.lock_totals(s, self.ledger.path_ids(cp for cp, _ in held))
            short = ctx.state.shortfall(held, totals)
            if short is not None:
                raise Conflict(
                    "the capacity of this option is no longer available",
                    capacity_left_kva=round(short[1], 1),
                )
            self.ledger.record(s, app_id, held, "select")
            expires = self._expiry(row)
            for cp, kva in held:
                s.add(
                    ReservationRow(
                        application_id=app_id,
                        connection_point_id=cp,
                        kva=kva,
                        active=1,
                        expires_on=expires,
                    )
                )
            self._event(s, row, "option_selected", "customer")
            row.selected_option = option_id
        self.live.sync()
        return {
            "application_id": app_id,
            "status": "option_selected",
            "selected_option": option_id,
            "reserved_kva": round(sum(kva for _, kva in held), 1),
            "reserved_until": expires.isoformat() if expires else None,
        }

    def _expiry(self, row: ApplicationRow) -> dt.date | None:
        """A reservation lasts until the scheme's validity ends or the customer-works
        deadline after the selection (rules file), whichever is first."""
        hold = self.rules.get("service.reservation_hold_months")
        hv = float(row.scheme.get("supply_voltage_kv", 0.4)) >= 1.0
        months = int(hold["hv" if hv else "lv"])
        deadline = self.today() + dt.timedelta(days=round(30.4 * months))
        return min(deadline, row.valid_until) if row.valid_until else deadline

    def _event(self, s: Session, row: ApplicationRow, to: str, actor: str) -> None:
        s.add(EventRow(application_id=row.id, from_status=row.status, to_status=to, actor=actor))
        row.status = to
        row.updated_at = dt.datetime.now(dt.UTC)

    def _release(self, s: Session, row: ApplicationRow, reason: str) -> float:
        """Release every active reservation of an application: ledger entries (negative),
        totals, the reservation rows; inside the caller's transaction."""
        assert self.ledger is not None
        active = (
            s.execute(
                select(ReservationRow).where(
                    ReservationRow.application_id == row.id, ReservationRow.active == 1
                )
            )
            .scalars()
            .all()
        )
        if not active:
            return 0.0
        changes = [(r.connection_point_id, -float(r.kva)) for r in active]
        known = [(cp, kva) for cp, kva in changes if cp in self.ledger.state.points]
        self.db.lock_totals(s, self.ledger.path_ids(cp for cp, _ in known))
        self.ledger.record(s, row.id, known, reason)
        for r in active:
            r.active = 0
        return -sum(kva for _, kva in changes)

    def energise(self, app_id: str, api_key: str | None) -> dict[str, Any]:
        """A planner marks a selected application connected (装表接电 done); its
        reservation stays in force until the network data carry the new load."""
        self._planner(api_key)
        with self.db.sessions.begin() as s:
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound()
            chosen = row.selected_option
            if row.status != "option_selected":
                raise Conflict(
                    f"the application is {_status(row, self.today())}; "
                    "only a selected option can be energised"
                )
            self._event(s, row, "energised", "planner")
            # the reservation stays until a network version carries the load
            row.energised_network_version = self.model.version
        return {"application_id": app_id, "status": "energised", "selected_option": chosen}

    def cancel(self, app_id: str, token: str | None, api_key: str | None) -> dict[str, Any]:
        self.context()
        with self.db.sessions.begin() as s:
            row = self._find(s, app_id, token, api_key, lock=True)
            if row.status in ("energised", "cancelled", "expired"):
                raise Conflict(f"the application is already {row.status}")
            self._release(s, row, "cancel")
            actor = "planner" if self.is_planner(api_key) else "customer"
            self._event(s, row, "cancelled", actor)
        assert self.live is not None
        self.live.sync()
        return {"application_id": app_id, "status": "cancelled", "reserved_kva": 0.0}

    def sweep_expired(self) -> int:
        """Release the reservations past their date (the application expires); each
        release in its own transaction, re-checked under lock. Returns how many."""
        today = self.today()
        with self.db.reads() as s:
            due = (
                s.execute(
                    select(ReservationRow.application_id)
                    .join(ApplicationRow, ApplicationRow.id == ReservationRow.application_id)
                    .where(
                        ReservationRow.active == 1,
                        ReservationRow.expires_on < today,
                        ApplicationRow.status == "option_selected",
                    )
                    .distinct()
                )
                .scalars()
                .all()
            )
        done = 0
        for app_id in due:
            with self.db.sessions.begin() as s:
                row = s.get(ApplicationRow, app_id, with_for_update=True)
                if row is None or row.status != "option_selected":
                    continue
                self._release(s, row, "expire")
                self._event(s, row, "expired", "system")
                done += 1
        if done and self.live is not None:
            self.live.sync()
        return done

    def _release_carried(self) -> None:
        """Energised applications whose load a newer network version now carries: their
        reservations are released (the network data hold the load itself)."""
        with self.db.reads() as s:
            ids = (
                s.execute(
                    select(ApplicationRow.id).where(
                        ApplicationRow.status == "energised",
                        ApplicationRow.energised_network_version.is_not(None),
                        ApplicationRow.energised_network_version != self.model.version,
                    )
                )
                .scalars()
                .all()
            )
        for app_id in ids:
            with self.db.sessions.begin() as s:
                row = s.get(ApplicationRow, app_id, with_for_update=True)
                if row is not None:
                    self._release(s, row, "carried")

    def _sweep_loop(self) -> None:
        period = float(self.rules.get("service.expiry_sweep_seconds"))
        while not self._stop.wait(period):
            try:
                self.sweep_expired()
            except Exception:  # noqa: BLE001 - the next sweep tries again
                logging.getLogger("gridcap.api").exception("expiry sweep failed")

    # ---------------------------------------------------------------- progress
    def progress(self, row: ApplicationRow) -> dict[str, Any]:
        """Each step's due date and state, and the warning level today."""
        scheme = row.scheme
        chosen = row.selected_option or scheme.get("recommended_option_id")
        option = next((o for o in scheme.get("options", []) if o["option_id"] == chosen), None)
        steps = _due_dates(scheme, option, row.application, self.calendar, self.rules)
        status = _status(row, self.today())
        done_upto = {
            "scheme_offered": {"application", "scheme_reply"},
            "option_selected": {"application", "scheme_reply", "external_works"},
            "energised": {"application", "scheme_reply", "external_works", "metering_connection"},
        }.get(status, set())
        today = self.today()
        open_ = status in ("scheme_offered", "option_selected")
        out_steps = []
        current = None
        for code, due, party in steps:
            done = code in done_upto
            level = (
                None
                if done or not open_ or due is None
                else warning_level(due, today, self.calendar, self.rules)
            )
            if not done and current is None:
                current = code
            out_steps.append(
                {
                    "step": code,
                    "party": party,
                    "due_date": due.isoformat() if due else None,
                    "done": done,
                    "warning": level,
                }
            )
        due = dt.date.fromisoformat(option["due_date"] if option else scheme["due_date"])
        whole = warning_level(due, today, self.calendar, self.rules) if open_ else None
        supporting = None
        if option and option.get("supporting_project_contract_date"):
            contract = dt.date.fromisoformat(option["supporting_project_contract_date"])
            supporting = {
                "contract_date": contract.isoformat(),
                "warning": warning_level(contract, today, self.calendar, self.rules)
                if open_
                else None,
            }
        return {
            "status": status,
            "current_step": current,
            "steps": out_steps,
            "due_date": scheme["due_date"],
            "warning": whole,
            "supporting_project": supporting,
            "today": today.isoformat(),
        }

    def warnings(self, api_key: str | None) -> list[dict[str, Any]]:
        """Open applications by warning level (worst first): the 预警督办 list."""
        self._planner(api_key)
        with self.db.reads() as s:
            rows = (
                s.execute(
                    select(ApplicationRow).where(
                        ApplicationRow.status.in_(("scheme_offered", "option_selected"))
                    )
                )
                .scalars()
                .all()
            )
            out = []
            for row in rows:
                p = self.progress(row)
                step_levels = [x["warning"] for x in p["steps"] if x["warning"]]
                if p["supporting_project"]:
                    step_levels.append(p["supporting_project"]["warning"])
                level = _worst([p["warning"], *step_levels])
                if level:
                    out.append(
                        {
                            "application_id": row.id,
                            "customer": row.application["customer_name"],
                            "status": p["status"],
                            "current_step": p["current_step"],
                            "due_date": p["due_date"],
                            "warning": level,
                        }
                    )
        return sorted(out, key=lambda r: WARNING_ORDER.index(r["warning"]))

    def restricted(self, api_key: str | None) -> list[dict[str, Any]]:
        """Capacity-constrained customers and when each must be reported (2 working days)."""
        self._planner(api_key)
        with self.db.reads() as s:
            rows = (
                s.execute(
                    select(ApplicationRow).where(
                        ApplicationRow.status.in_(("scheme_offered", "option_selected"))
                    )
                )
                .scalars()
                .all()
            )
            out = []
            for row in rows:
                plan = row.scheme.get("transition_plan")
                if not row.scheme.get("constrained") or not plan:
                    continue
                due = dt.date.fromisoformat(plan["restricted_report_due"])
                out.append(
                    {
                        "application_id": row.id,
                        "customer": row.application["customer_name"],
                        "capacity_kva": row.application["capacity_kva"],
                        "interim_capacity_kva": plan["interim_capacity_kva"],
                        "report_due": plan["restricted_report_due"],
                        "warning": warning_level(due, self.today(), self.calendar, self.rules),
                    }
                )
        return out

    def _planner(self, api_key: str | None) -> None:
        if not self.is_planner(api_key):
            raise PlannerForbidden() if api_key else PlannerUnauthorized()


def _due_dates(
    scheme: dict[str, Any],
    option: dict[str, Any] | None,
    application: dict[str, Any],
    cal: Any,
    rules: Rules,
) -> list[tuple[str, dt.date | None, str]]:
    """Each step's due date and who does it: from the option's schedule (the customer's
    own works have a date only when the customer gave one); schemes stored before
    schedules existed share the limit among the steps."""
    schedule = (option or {}).get("schedule") or scheme.get("schedule")
    if schedule:
        dated = {st["step"]: st for st in schedule["steps"]}
        return [
            (
                code,
                dt.date.fromisoformat(dated[code]["due_date"])
                if dated.get(code, {}).get("due_date")
                else None,
                str(dated.get(code, {}).get("party", "utility")),
            )
            for code in scheme["steps"]
        ]
    start = dt.date.fromisoformat(application["application_date"])
    total = int(scheme["time_limit_workdays"])
    return [
        (code, due, "utility")
        for code, due in step_due_dates(list(scheme["steps"]), start, total, cal, rules)
    ]


def _worst(levels: list[Any]) -> Any:
    present = [lv for lv in levels if lv]
    return min(present, key=WARNING_ORDER.index) if present else None


def what_if(
    model: GridModel, rules: Rules, scenario: Any, reservations: tuple[Reservation, ...]
) -> dict[str, Any]:
    """The planner's scenario (API form) run by :func:`capacity.what_if`."""
    from capacity import load_scenario
    from capacity import what_if as run

    raw = {
        "name": "api",
        "load_growth": [g.model_dump() for g in scenario.load_growth],
        "switches": [sw.model_dump() for sw in scenario.switches],
    }
    result = run(
        model,
        load_scenario(raw, model),
        reservations,
        rules=rules,
        kinds=(scenario.level,),
        projects=scenario.projects,
    )
    return {
        "level": scenario.level,
        "elements": result.rows,
        "newly_constrained": result.newly_constrained,
        "changes": result.changes,
        "network_version_after": result.network_version_after,
        # with projects: true, the project for every element left red, checked by
        # recomputation, and what no catalogue project closes
        "projects": result.upgrades if scenario.projects else None,
        "not_closable": result.not_closable if scenario.projects else None,
    }


def _status(row: ApplicationRow, today: dt.date | None = None) -> str:
    """Offers past their validity (rules file) have expired."""
    today = today or dt.date.today()
    if row.status == "scheme_offered" and row.valid_until is not None and (row.valid_until < today):
        return "expired"
    return row.status
