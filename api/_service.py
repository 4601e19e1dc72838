"""The service's use cases: preview, apply, select (reserve), cancel, read."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from api._db import ApplicationRow, Database, EventRow, ReservationRow
from capacity import Reservation, rule_capacity
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


class NotFound(ServiceError):
    """No application with that id."""


class Unauthorized(ServiceError):
    """No credentials, or credentials that are not valid for anything."""


class Forbidden(ServiceError):
    """Valid credentials that do not give access to this application."""


@dataclass
class Conflict(ServiceError):
    """The request clashes with the application's state or with the capacity left."""

    message: str
    capacity_left_kva: float | None = None

    def __str__(self) -> str:
        return self.message


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
        self._ctx: SchemeContext | None = None
        self._ctx_version: tuple[Any, ...] | None = None
        self._full: SchemeContext | None = None
        self._full_at = 0.0
        self.today = dt.date.today  # replaceable: tests freeze the clock
        self.calendar = calendar_from_rules(rules.get("scheme.workday_overrides"))
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- capacity state
    def active_reservations(self) -> tuple[Reservation, ...]:
        with self.db.sessions() as s:
            rows = s.execute(select(ReservationRow).where(ReservationRow.active == 1)).scalars()
            return tuple(Reservation(r.connection_point_id, r.kva, r.application_id) for r in rows)

    def _version(self) -> tuple[Any, ...]:
        with self.db.sessions() as s:
            row = s.execute(
                select(
                    func.count(ReservationRow.id),
                    func.max(ReservationRow.id),
                    func.sum(ReservationRow.active),
                )
            ).one()
        return tuple(row)

    def context(self) -> SchemeContext:
        """The scheme context for the reservations now in force.

        A reservation made by any worker is in-flight capacity for the next answer: when
        the reservations change, the rule-based capacity is recomputed at once and the AC
        capacities are adjusted (:meth:`SchemeContext.with_reservations`); the AC searches
        themselves are repeated with the reservations as loads every
        ``service.full_refresh_seconds`` (rules file).
        """
        version = self._version()
        refresh = float(self.rules.get("service.full_refresh_seconds"))
        with self._lock:
            if self._full is None or time.monotonic() - self._full_at > refresh:
                self._full = SchemeContext.build(self.model, self.active_reservations(), self.rules)
                self._full_at = time.monotonic()
                self._ctx, self._ctx_version = self._full, version
            elif version != self._ctx_version or self._ctx is None:
                self._ctx = self._full.with_reservations(self.active_reservations())
                self._ctx_version = version
            return self._ctx

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
    def preview(self, raw: dict[str, Any]) -> dict[str, Any]:
        return generate_scheme(self.context(), parse_application(raw))

    def apply(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        app = parse_application(raw)
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

    def get(self, app_id: str, token: str | None, api_key: str | None) -> dict[str, Any]:
        with self.db.sessions() as s:
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound()
            self._authorise(row, token, api_key, planner_allowed=True)
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
                    }
                    for r in res
                ],
            }

    def select_option(self, app_id: str, token: str | None, option_id: str) -> dict[str, Any]:
        """Reserve the option's capacity, atomically across workers: the check and the
        insert run under one database lock, against every reservation in force."""
        with self.db.sessions.begin() as s:
            self.db.lock(s)
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound()
            self._authorise(row, token, None, planner_allowed=False)
            if _status(row, self.today()) != "scheme_offered":
                raise Conflict(
                    f"the application is {_status(row, self.today())}; "
                    "only an offered scheme can be chosen"
                )
            option = next((o for o in row.scheme["options"] if o["option_id"] == option_id), None)
            if option is None:
                raise Conflict(f"option_id {option_id!r} is not an option of this scheme")
            # each source reserves what it carries (the maximum demand, or a constrained
            # customer's interim load); an option connected only after its projects
            # reserves nothing until they are built
            held = [
                (str(src["connection_point_id"]), float(src.get("carries_kva", 0.0)))
                for src in option["sources"]
                if option.get("stage") != "after_projects"
            ]
            active = (
                s.execute(select(ReservationRow).where(ReservationRow.active == 1)).scalars().all()
            )
            reservations = [Reservation(r.connection_point_id, r.kva) for r in active]
            capacity = rule_capacity(self.model, reservations, rules=self.rules)
            for cp, kva in held:
                left = capacity.elements[cp].openable_kva if cp in capacity.elements else 0.0
                if left < kva - 1e-6:
                    raise Conflict(
                        "the capacity of this option is no longer available",
                        capacity_left_kva=round(max(left, 0.0), 1),
                    )
            for cp, kva in held:
                s.add(
                    ReservationRow(application_id=app_id, connection_point_id=cp, kva=kva, active=1)
                )
            s.add(
                EventRow(
                    application_id=app_id,
                    from_status=row.status,
                    to_status="option_selected",
                    actor="customer",
                )
            )
            row.status = "option_selected"
            row.selected_option = option_id
            row.updated_at = dt.datetime.now(dt.UTC)
        return {
            "application_id": app_id,
            "status": "option_selected",
            "selected_option": option_id,
            "reserved_kva": round(sum(kva for _, kva in held), 1),
        }

    def energise(self, app_id: str, api_key: str | None) -> dict[str, Any]:
        """A planner marks a selected application connected (装表接电 done); its
        reservation stays in force until the network data carry the new load."""
        if not self.is_planner(api_key):
            raise Forbidden() if api_key else Unauthorized()
        with self.db.sessions.begin() as s:
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound()
            if row.status != "option_selected":
                raise Conflict(
                    f"the application is {_status(row, self.today())}; "
                    "only a selected option can be energised"
                )
            s.add(
                EventRow(
                    application_id=app_id,
                    from_status=row.status,
                    to_status="energised",
                    actor="planner",
                )
            )
            row.status = "energised"
            row.updated_at = dt.datetime.now(dt.UTC)
        return {"application_id": app_id, "status": "energised"}

    def cancel(self, app_id: str, token: str | None, api_key: str | None) -> dict[str, Any]:
        with self.db.sessions.begin() as s:
            self.db.lock(s)
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound()
            self._authorise(row, token, api_key, planner_allowed=True)
            if row.status in ("energised", "cancelled"):
                raise Conflict(f"the application is already {row.status}")
            for r in s.execute(
                select(ReservationRow).where(ReservationRow.application_id == app_id)
            ).scalars():
                r.active = 0
            s.add(
                EventRow(
                    application_id=app_id,
                    from_status=row.status,
                    to_status="cancelled",
                    actor="planner" if self.is_planner(api_key) else "customer",
                )
            )
            row.status = "cancelled"
            row.updated_at = dt.datetime.now(dt.UTC)
        return {"application_id": app_id, "status": "cancelled", "reserved_kva": 0.0}

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
        with self.db.sessions() as s:
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
        with self.db.sessions() as s:
            rows = s.execute(select(ApplicationRow)).scalars().all()
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
            raise Forbidden() if api_key else Unauthorized()


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
        model, load_scenario(raw, model), reservations, rules=rules, kinds=(scenario.level,)
    )
    return {
        "level": scenario.level,
        "elements": result.rows,
        "newly_constrained": result.newly_constrained,
        "changes": result.changes,
        "network_version_after": result.network_version_after,
    }


def _status(row: ApplicationRow, today: dt.date | None = None) -> str:
    """Offers past their validity (rules file) have expired."""
    today = today or dt.date.today()
    if row.status == "scheme_offered" and row.valid_until is not None and (row.valid_until < today):
        return "expired"
    return row.status
