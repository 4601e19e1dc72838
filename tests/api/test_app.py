"""The service skeleton: health names the loaded network."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api._app import create_app
from grid_models import load_model


def test_health_reports_the_loaded_network():
    model = load_model("pandapower:mv_oberrhein")
    client = TestClient(create_app(model))
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["network"] == {"id": model.id, "version": model.version}
