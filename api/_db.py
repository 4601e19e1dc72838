"""Storage (SQLAlchemy): applications, their schemes, and capacity reservations.

SQLite (a file under a data directory) is the embedded default; PostgreSQL by URL. The
schema is created by Alembic migrations (``api/migrations``), run at start-up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApplicationRow(Base):
    """One application (业扩申请) and the scheme offered to it."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    application: Mapped[dict[str, Any]] = mapped_column(JSON)
    scheme: Mapped[dict[str, Any]] = mapped_column(JSON)
    network_id: Mapped[str] = mapped_column(String(64))
    network_version: Mapped[str] = mapped_column(String(32))
    rules_version: Mapped[str] = mapped_column(String(32))
    selected_option: Mapped[str | None] = mapped_column(String(4), nullable=True)
    energised_network_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReservationRow(Base):
    """Capacity promised to an application's chosen option (在途容量)."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    connection_point_id: Mapped[str] = mapped_column(String(32), index=True)
    kva: Mapped[float] = mapped_column(Float)
    active: Mapped[int] = mapped_column(Integer, default=1, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class LedgerRow(Base):
    """One entry of the capacity ledger (在途容量台账): kVA reserved (positive) or released
    (negative) at a connection point. The id is the sequence workers apply entries by."""

    __tablename__ = "capacity_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    connection_point_id: Mapped[str] = mapped_column(String(32))
    kva: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TotalRow(Base):
    """What is reserved on one element or point of the loaded network: the ledger summed
    along supply paths. A selection locks and updates only its path's rows."""

    __tablename__ = "capacity_totals"

    element_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reserved_kva: Mapped[float] = mapped_column(Float)
    network_version: Mapped[str] = mapped_column(String(32))


class EventRow(Base):
    """A status change of an application (audit trail)."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(20))


class Database:
    """An engine, a session factory, and the one lock that serialises reservations."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30})

            # SQLite: transactions take the write lock when they start (BEGIN IMMEDIATE),
            # so two workers can never both read the same free capacity.
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(conn: Any, _: Any) -> None:
                conn.isolation_level = None
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _begin_immediate(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            # reads take no write lock: a plain (deferred) transaction on a second engine
            self.read_engine: Engine = create_engine(url, connect_args={"timeout": 30})

            @event.listens_for(self.read_engine, "connect")
            def _sqlite_read(conn: Any, _: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

        else:
            self.engine = create_engine(url, pool_pre_ping=True)
            self.read_engine = self.engine.execution_options(postgresql_readonly=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: read-only sessions: progress, lists, the ledger's new entries
        self.reads = sessionmaker(self.read_engine, expire_on_commit=False)

    def migrate(self) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # several workers start at once: one migrates, the others wait and find it done
                conn.execute(text("SELECT pg_advisory_xact_lock(7420)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def lock(self, session: Session) -> None:
        """Serialise the whole ledger (rebuilding totals at start-up; SQLite: the write
        lock already does)."""
        if self.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(7421)"))

    def lock_totals(self, session: Session, element_ids: list[str]) -> dict[str, float]:
        """The totals of ``element_ids``, locked for this transaction in one fixed order
        (row locks on PostgreSQL, so paths that share nothing never wait for each other;
        SQLite's single writer already holds the write lock)."""
        query = (
            select(TotalRow.element_id, TotalRow.reserved_kva)
            .where(TotalRow.element_id.in_(sorted(element_ids)))
            .order_by(TotalRow.element_id)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        return {e: float(v) for e, v in session.execute(query).all()}

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
