"""What is published adds up (issue 14): a substation never publishes more than its main
transformers can take, the district is the sum of its substations, areas are not added,
one customer's largest figure never exceeds its substation's, and no customer-owned
asset is published."""

from __future__ import annotations

from functools import cache

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from grid_models import load_model


@cache
def anyang():
    return load_model("builtin:anyang")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pub') / 'p.sqlite3'}"
    with TestClient(create_app(anyang(), database_url=url)) as c:
        yield c


def test_substations_publish_at_most_their_main_transformers(client):
    app_state = client.app.state.service
    rule_cap = app_state.context().rule_cap
    pub = client.get("/api/v1/capacity/publication").json()
    mains: dict[str, float] = {}
    for e in rule_cap.by_kind("main_transformer"):
        mains[e.substation_id] = mains.get(e.substation_id, 0.0) + max(e.openable_kva, 0.0)
    assert pub["by_substation"]
    for row in pub["by_substation"]:
        assert row["openable_kva"] == pytest.approx(mains[row["substation"]], abs=0.1)
        assert row["openable_kva_max"] <= row["openable_kva"] + 0.1
        assert row["limited_by"].startswith("main_transformers:")
        assert row["computed_at"]
    assert pub["district"]["openable_kva"] == pytest.approx(sum(mains.values()), abs=0.5)
    for row in pub["by_area_class"]:
        assert row["openable_kva"] is None and row["limited_by"] == "not_additive"
    assert "openable_kva_total" not in str(pub)


def test_no_customer_owned_asset_is_published(client):
    model = anyang()
    private = {d.id for d in model.distribution_transformers.values() if d.ownership == "customer"}
    assert private, "the embedded network has customer-owned transformers (专变)"
    below = {
        cp.id
        for cp in model.connection_points.values()
        if cp.distribution_transformer_id in private
    }
    pub = client.get("/api/v1/capacity/publication").json()
    counted = sum(r["elements"] for r in pub["by_substation"])
    public_points = [cp for cp in model.connection_points if cp not in below]
    assert counted == len(public_points)
    rows = client.get("/api/v1/capacity?level=transformer").json()
    assert rows and not {r["id"] for r in rows} & private
    points = client.get("/api/v1/capacity?level=connection_point").json()
    assert not {r["id"] for r in points} & below


def test_corridors_are_published(client):
    import time

    for _ in range(120):  # worked out just after start-up
        pub = client.get("/api/v1/capacity/publication").json()
        if pub["corridors"]:
            break
        time.sleep(0.5)
    kinds = {c["kind"]: c for c in pub["corridors"]}
    assert "cable_duct" in kinds and kinds["cable_duct"]["length_km"] > 0
    assert all(c["name"] and c["count"] > 0 for c in pub["corridors"])


def test_no_bus_of_a_customer_network_is_published(client):
    from capacity._publish import private_buses

    private = private_buses(anyang())
    assert private
    rows = client.get("/api/v1/capacity?level=bus&voltage=lv&limit=10000").json()
    assert rows and not {r["bus"] for r in rows} & private


def test_the_grid_plan_is_published_with_the_capacity_each_project_adds(client):
    import time

    for _ in range(120):  # worked out in the background after start-up
        r = client.get("/api/v1/planning")
        assert r.status_code == 200
        if r.json()["status"] == "ready":
            break
        assert r.json()["status"] == "computing" and r.headers["Retry-After"]
        time.sleep(0.5)
    projects = r.json()["projects"]
    by_kind = {p["kind"]: p for p in projects}
    assert [p["year"] for p in projects] == sorted(p["year"] for p in projects)
    # a new feeder adds feeder capacity, a bigger main transformer adds substation capacity
    assert by_kind["new_feeder"]["adds_kva"]["feeders"] > 0
    assert by_kind["main_transformer_replacement"]["adds_kva"]["main_transformers"] > 0
    assert all(p["cost_cny"] > 0 and p["name"] for p in projects)
