"""One capacity number kept by a ledger, on SQLite and PostgreSQL, with two workers.

The story from the issue: a point whose AC capacity is below its rule-based figure
offered one number and a selection checked another; concurrent selections overbooked it.
Here N concurrent selections of x kVA on such a point, sent to two workers sharing one
database, succeed exactly ⌊openable / x⌋ times; afterwards nothing is below zero that was
not before, and the ledger added up from zero equals each worker's figures.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from tests.api.test_service import _fresh_postgres, anyang, postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def workers(request, tmp_path, monkeypatch):
    """Two workers (two app instances) on one database, their background refresh off so
    the figures stay those the burst started from."""
    monkeypatch.setenv("GRIDCAP_PLANNER_API_KEY", "planner-secret")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        base = postgres_url()
        if base is None:
            pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (CI has one)")
        url = _fresh_postgres(base)
    one = create_app(anyang(), database_url=url)
    two = create_app(anyang(), database_url=url)
    with TestClient(one) as a, TestClient(two) as b:
        for web in (one, two):
            web.state.service.live.stop()
        yield (a, one.state.service), (b, two.state.service)


def ac_limited_point(service, low: float, high: float):
    ctx = service.context()
    return next(
        p
        for p in ctx.points.values()
        if p.kind in ("ring_main_unit", "pole")
        and p.limited_by.startswith("ac:")
        and p.rules_kva > p.ac_kva + 50
        and low <= p.openable_kva <= high
    )


def body(point, kva: float) -> dict:
    return {
        "customer_name": "安阳市某某有限公司",
        "customer_type": "non_resident",
        "business": "new",
        "industry": "commercial",
        "ownership": "chain_branch",
        "category": "temporary",  # demand factor 1.0: the demand is the applied kVA
        "location": {"lon": point.lon_deg + 0.00005, "lat": point.lat_deg},
        "capacity_kva": kva,
        "application_date": "2026-11-30",
    }


def test_concurrent_selections_on_an_ac_limited_point_fit_exactly(workers):
    (a, service_a), (b, service_b) = workers
    point = ac_limited_point(service_a, 600, 3000)
    openable = point.openable_kva
    x = round(openable / 3.4, 1)  # three fit, a fourth does not
    mine = []
    for k in range(14):
        client = (a, b)[k % 2]
        made = client.post("/api/v1/applications", json=body(point, x)).json()
        src = made["scheme"]["options"][0]["sources"][0]
        if src["connection_point_id"] == point.id:
            assert src["openable_kva_before"] == pytest.approx(openable, abs=0.1)
            assert src["carries_kva"] == pytest.approx(x)
            mine.append((client, made["application_id"], made["access_token"]))
    assert len(mine) >= 6, "the point was not the first option often enough"
    before = _below_zero(service_a)

    def choose(item):
        client, app_id, token = item
        return client.post(
            f"/api/v1/applications/{app_id}/select",
            json={"option_id": "A"},
            headers={"Authorization": f"Bearer {token}"},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(choose, mine))
    ok = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code == 409]
    assert len(ok) == math.floor(openable / x) == 3
    assert len(ok) + len(refused) == len(mine)
    for r in refused:
        assert r.json()["capacity_left_kva"] < x
    for service in (service_a, service_b):
        ctx = service.context()  # applies what the other worker reserved
        left = ctx.points[point.id].openable_kva
        assert left == pytest.approx(openable - 3 * x, abs=0.2) and left >= 0
        # published: the same number
        assert _below_zero(service) <= before
        replay = service.live.replay()
        mine_totals = {k: v for k, v in ctx.state.reserved.items() if abs(v) > 1e-6}
        assert set(replay) == set(mine_totals)
        for k, v in replay.items():
            assert mine_totals[k] == pytest.approx(v, abs=1e-6)
    published = a.get("/api/v1/capacity", params={"level": "connection_point"}).json()
    row = next(r for r in published if r["id"] == point.id)
    assert row["openable_kva"] == pytest.approx(openable - 3 * x, abs=0.2)


def test_cancel_releases_at_once_and_a_release_is_an_entry(workers):
    (a, service_a), (b, service_b) = workers
    point = ac_limited_point(service_a, 600, 3000)
    openable = point.openable_kva
    made = a.post("/api/v1/applications", json=body(point, 300)).json()
    auth = {"Authorization": f"Bearer {made['access_token']}"}
    app_id = made["application_id"]
    cp = made["scheme"]["options"][0]["sources"][0]["connection_point_id"]
    start = service_b.context().points[cp].openable_kva
    chosen = a.post(f"/api/v1/applications/{app_id}/select", json={"option_id": "A"}, headers=auth)
    assert chosen.status_code == 200, chosen.text
    assert service_b.context().points[cp].openable_kva == pytest.approx(start - 300, abs=0.1)
    assert b.post(f"/api/v1/applications/{app_id}/cancel", headers=auth).status_code == 200
    assert service_a.context().points[cp].openable_kva == pytest.approx(start, abs=0.1)
    assert openable >= start - 1e-6
    reasons = _ledger_reasons(service_a, app_id)
    assert reasons == ["select", "cancel"]


def test_an_expired_reservation_is_released_by_the_sweep(workers):
    import datetime as dt

    (a, service_a), (b, service_b) = workers
    point = ac_limited_point(service_a, 600, 3000)
    made = a.post("/api/v1/applications", json=body(point, 250)).json()
    auth = {"Authorization": f"Bearer {made['access_token']}"}
    app_id = made["application_id"]
    cp = made["scheme"]["options"][0]["sources"][0]["connection_point_id"]
    start = service_a.context().points[cp].openable_kva
    chosen = a.post(f"/api/v1/applications/{app_id}/select", json={"option_id": "A"}, headers=auth)
    assert chosen.status_code == 200, chosen.text
    until = dt.date.fromisoformat(chosen.json()["reserved_until"])
    assert service_a.context().points[cp].openable_kva == pytest.approx(start - 250, abs=0.1)
    service_b.today = lambda: until + dt.timedelta(days=1)
    assert service_b.sweep_expired() == 1
    assert service_a.context().points[cp].openable_kva == pytest.approx(start, abs=0.1)
    got = a.get(f"/api/v1/applications/{app_id}", headers=auth).json()
    assert got["status"] == "expired"
    assert _ledger_reasons(service_a, app_id) == ["select", "expire"]


def _below_zero(service) -> int:
    """Elements and points below zero (C1 − reserved < 0, or the point's one number)."""
    ctx = service.context()
    state = ctx.state
    n = sum(
        1
        for eid, e in state.base.elements.items()
        if e.kind != "connection_point" and e.c1_kva - state.reserved.get(eid, 0.0) < -1e-6
    )
    # the points as published (the figure a selection is refused below)
    return n + sum(1 for cp in state.points if ctx.points[cp].openable_kva < -1e-6)


def _ledger_reasons(service, app_id: str) -> list[str]:
    from sqlalchemy import select

    from api._db import LedgerRow

    with service.db.reads() as s:
        return list(
            s.execute(
                select(LedgerRow.reason)
                .where(LedgerRow.application_id == app_id)
                .order_by(LedgerRow.id)
            ).scalars()
        )
