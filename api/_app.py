"""The FastAPI application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from grid_models import GridModel

DEFAULT_DATABASE_URL = f"sqlite:///{Path('data') / 'gridcap.sqlite3'}"


def create_app(model: GridModel, *, database_url: str | None = None) -> FastAPI:
    """The service for one loaded network."""
    web = FastAPI(
        title="gridcap",
        version="0.1.0",
        description="Openable capacity and automatic supply schemes (业扩报装).",
    )
    web.state.model = model
    web.state.database_url = database_url or DEFAULT_DATABASE_URL

    @web.get("/health", summary="Liveness and the loaded network")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "network": {"id": model.id, "version": model.version},
            "feeders": len(model.feeders),
        }

    return web
