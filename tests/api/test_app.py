"""The service skeleton: health names the loaded network."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from api._app import create_app
from grid_models import load_model


def test_health_reports_the_loaded_network(tmp_path):
    model = load_model("pandapower:mv_oberrhein")
    with TestClient(create_app(model, database_url=f"sqlite:///{tmp_path / 'h.db'}")) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["network"] == {"id": model.id, "version": model.version}


def test_until_ready_health_says_starting_and_schemes_wait(tmp_path, monkeypatch):
    """The capacity is computed before the service answers schemes: meanwhile /health
    says starting and a preview gets 503 with Retry-After, never a lazy build."""
    from api._service import Service

    gate = threading.Event()
    real_start = Service.start

    def held_start(self):  # noqa: ANN001, ANN202 - the real start, once the test lets it
        gate.wait(30)
        real_start(self)

    monkeypatch.setattr(Service, "start", held_start)
    model = load_model("pandapower:mv_oberrhein")
    web = create_app(model, database_url=f"sqlite:///{tmp_path / 's.db'}", wait_ready=False)
    with TestClient(web) as client:
        assert client.get("/health").json()["status"] == "starting"
        early = client.get("/api/v1/capacity", params={"level": "connection_point"})
        assert early.status_code == 503 and early.headers["Retry-After"] == "5"
        gate.set()
        for _ in range(600):
            if client.get("/health").json()["status"] == "ok":
                break
            time.sleep(0.1)
        assert client.get("/health").json()["status"] == "ok"
        rows = client.get("/api/v1/capacity", params={"level": "connection_point"})
        assert rows.status_code == 200 and rows.json()
