"""Alembic environment: run migrations on the connection the service hands over."""

from __future__ import annotations

from alembic import context

from api._db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - command-line use
    from sqlalchemy import create_engine

    connection = create_engine(str(config.get_main_option("sqlalchemy.url"))).connect()
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
