"""The service on a real database: applications, reservations, auth, errors.

Runs on SQLite (embedded default) and on PostgreSQL when a server is reachable at
127.0.0.1:5432 (database ``test``, as in CI); otherwise the PostgreSQL run is skipped with
the reason.
"""

from __future__ import annotations

import math
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from grid_models import load_model


@cache
def anyang():
    return load_model("builtin:anyang")


def postgres_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _fresh_postgres(url: str) -> str:
    from sqlalchemy import create_engine, text

    schema = f"t{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDCAP_PLANNER_API_KEY", "planner-secret")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gridcap.sqlite3'}"
    else:
        base = postgres_url()
        if base is None:
            pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (CI has one)")
        url = _fresh_postgres(base)
    with TestClient(create_app(anyang(), database_url=url)) as c:
        yield c


def application(lon: float, lat: float, kva: float = 300) -> dict:
    return {
        "customer_name": "安阳市某某有限公司",
        "customer_type": "non_resident",
        "business": "new",
        "industry": "commercial",
        "ownership": "chain_branch",
        "location": {"lon": lon, "lat": lat},
        "capacity_kva": kva,
        "application_date": "2026-11-30",
    }


def scarce_point(client: TestClient, low: float, high: float) -> dict:
    rows = client.get("/api/v1/capacity", params={"level": "connection_point"}).json()
    return next(
        r
        for r in rows
        if r["kind"] == "ring_main_unit" and r["lon_deg"] and low <= r["openable_kva"] <= high
    )


def test_apply_read_select_cancel_and_capacity_follows(client):
    point = scarce_point(client, 900, 3000)
    body = application(point["lon_deg"] + 0.0001, point["lat_deg"], 400)
    created = client.post("/api/v1/applications", json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["status"] == "scheme_offered" and data["scheme"]["options"]
    app_id, token = data["application_id"], data["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/applications/{app_id}").status_code == 401
    assert (
        client.get(
            f"/api/v1/applications/{app_id}", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/applications/{app_id}", headers={"X-API-Key": "planner-secret"}
        ).status_code
        == 200
    )
    got = client.get(f"/api/v1/applications/{app_id}", headers=auth).json()
    assert got["network_version"] == anyang().version and got["rules_version"]
    option = data["scheme"]["options"][0]
    cp = option["sources"][0]["connection_point_id"]
    # the reservation holds the maximum demand: 400 kVA × 0.75 (commercial) = 300 kVA
    assert data["scheme"]["demand_kva"] == 300.0
    assert option["sources"][0]["carries_kva"] == 300.0
    before = _openable(client, cp)
    chosen = client.post(
        f"/api/v1/applications/{app_id}/select", json={"option_id": "A"}, headers=auth
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["reserved_kva"] == 300.0
    assert _openable(client, cp) == pytest.approx(before - 300, abs=1.0)
    again = client.post(
        f"/api/v1/applications/{app_id}/select", json={"option_id": "A"}, headers=auth
    )
    assert again.status_code == 409
    cancelled = client.post(f"/api/v1/applications/{app_id}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert _openable(client, cp) == pytest.approx(before, abs=1.0)


def _openable(client: TestClient, cp: str) -> float:
    rows = client.get("/api/v1/capacity", params={"level": "connection_point"}).json()
    return next(r["openable_kva"] for r in rows if r["id"] == cp)


def test_concurrent_selections_never_promise_the_same_capacity_twice(client):
    point = scarce_point(client, 700, 1400)
    kva = 300.0
    ids = []
    for _ in range(8):
        body = application(point["lon_deg"] + 0.00005, point["lat_deg"], kva)
        data = client.post("/api/v1/applications", json=body).json()
        src = data["scheme"]["options"][0]["sources"][0]["connection_point_id"]
        if src == point["id"]:
            ids.append((data["application_id"], data["access_token"]))
    assert len(ids) >= 4
    demand = kva * 0.75  # commercial demand factor: what each selection reserves
    fits = math.floor(point["openable_kva"] / demand)

    def choose(pair):
        app_id, token = pair
        return client.post(
            f"/api/v1/applications/{app_id}/select",
            json={"option_id": "A"},
            headers={"Authorization": f"Bearer {token}"},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(choose, ids))
    ok = [r for r in results if r.status_code == 200]
    conflicts = [r for r in results if r.status_code == 409]
    assert len(ok) == min(fits, len(ids)) and len(ok) + len(conflicts) == len(ids)
    for r in conflicts:
        assert r.json()["capacity_left_kva"] < demand


def test_bad_input_names_every_field(client):
    bad = application(114.35, 36.10)
    bad.update({"capacity_kva": -3, "industry": "mining"})
    bad["location"] = {"lon": 114.35, "lat": 99}
    r = client.post("/api/v1/schemes/preview", json=bad)
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["detail"]}
    assert {"capacity_kva", "industry", "location.lat"} <= fields
    far = client.post("/api/v1/schemes/preview", json=application(115.2, 36.8))
    assert far.status_code == 422 and far.json()["detail"][0]["field"] == "location"
    # a customer's token cannot tell an unknown id from another customer's application
    assert (
        client.get("/api/v1/applications/nope", headers={"Authorization": "Bearer x"}).status_code
        == 403
    )


def test_health_and_openapi(client):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["database"] == "ok"
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/capacity",
        "/api/v1/capacity/nearby",
        "/api/v1/schemes/preview",
        "/api/v1/applications",
        "/api/v1/applications/{app_id}/select",
    ):
        assert path in spec["paths"]


def test_what_if_and_energise_need_a_planner(client):
    scenario = {"load_growth": [{"scope": "area_class", "id": "city_centre", "percent": 20}]}
    assert client.post("/api/v1/what-if", json=scenario).status_code == 401
    assert (
        client.post("/api/v1/what-if", json=scenario, headers={"X-API-Key": "wrong"}).status_code
        == 403
    )
    r = client.post("/api/v1/what-if", json=scenario, headers={"X-API-Key": "planner-secret"})
    assert r.status_code == 200, r.text
    rows = r.json()["elements"]
    grown = [
        x
        for x in rows
        if x["c1_kva_after"] is not None and x["c1_kva_after"] < x["c1_kva_before"] - 1
    ]
    assert grown  # city-centre feeders lose capacity when their load grows 20 %
    assert all(x["c1_kva_after"] <= x["c1_kva_before"] + 1e-6 for x in rows)
    assert r.json()["projects"] is None  # planned only when asked (seconds on a big network)
    planned = client.post(
        "/api/v1/what-if",
        json={**scenario, "projects": True},
        headers={"X-API-Key": "planner-secret"},
    ).json()
    red_after = {x["id"] for x in rows if x["light_after"] == "red"}
    assert planned["projects"] or not red_after
    for x in planned["elements"]:  # every feeder red after the growth is closed or said so
        if x["light_after"] == "red":
            closed = x["light_with_upgrades"] in ("green", "yellow")
            assert closed or any(n["id"] == x["id"] for n in planned["not_closable"]), x["id"]
    point = scarce_point(client, 900, 3000)
    data = client.post(
        "/api/v1/applications", json=application(point["lon_deg"] + 0.0001, point["lat_deg"])
    ).json()
    app_id, token = data["application_id"], data["access_token"]
    client.post(
        f"/api/v1/applications/{app_id}/select",
        json={"option_id": "A"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert client.post(f"/api/v1/applications/{app_id}/energise").status_code == 401
    done = client.post(
        f"/api/v1/applications/{app_id}/energise", headers={"X-API-Key": "planner-secret"}
    )
    assert done.status_code == 200 and done.json()["status"] == "energised"
