"""POST /api/v1/advice/capacity: the capacity advisor (容量测算) over HTTP."""

from __future__ import annotations

from functools import cache

import pytest

from api._app import create_app
from api._limits import RateLimits
from grid_models import load_model

URL = "/api/v1/advice/capacity"
WORKSHOP = {
    "loads": [
        {"kind": "lighting", "kw": 20, "count": 1},
        {"kind": "motors", "kw": 15, "count": 2},
        {"kind": "air_conditioning", "kw": 10, "count": 3},
    ]
}


@cache
def anyang():
    return load_model("builtin:anyang")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('advisor') / 'gridcap.sqlite3'}"
    return create_app(anyang(), database_url=url)


def fields(response) -> dict[str, str]:
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


def test_a_list_of_loads_gets_the_advice(client):
    # 18 + 22.5 + 22.5 = 63 kW × 0.9 = 56.7 kW → 57 kW at 380 V (tests/scheme_generator/
    # test_advisor.py works it through)
    r = client.post(URL, json=WORKSHOP)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["demand_kw"] == pytest.approx(56.7)
    assert body["demand_kva"] == pytest.approx(63.0)
    assert (body["applied_capacity"], body["applied_capacity_unit"]) == (57.0, "kW")
    assert (body["supply_voltage_kv"], body["transformers"]) == (0.38, None)
    assert "照明 20 kW × 需要系数 0.9 = 18 kW" in body["reasoning"]
    assert [c["name_zh"] for c in body["by_class"]][0] == "照明"


def test_a_factory_gets_its_transformer(client):
    r = client.post(URL, json={"loads": [{"kind": "motors", "kw": 55, "count": 8}]})
    # 440 × 0.75 × 0.9 = 297 kW; ÷ 0.9 = 330 kVA; ÷ 0.85 = 388.2 → one 400 kVA unit
    assert r.status_code == 200, r.text
    t = r.json()["transformers"]
    assert (t["count"], t["sn_kva"], r.json()["applied_capacity"]) == (1, 400.0, 400.0)


def test_count_may_be_left_out(client):
    r = client.post(URL, json={"loads": [{"kind": "lighting", "kw": 5}]})
    assert r.status_code == 200 and r.json()["installed_kw"] == 5.0


@pytest.mark.parametrize(
    "load, field",
    [
        ({"kind": "lighting", "kw": -20, "count": 1}, "loads.0.kw"),
        ({"kind": "lighting", "kw": 0, "count": 1}, "loads.0.kw"),
        ({"kind": "lighting", "kw": "20", "count": 1}, "loads.0.kw"),
        ({"kind": "lighting", "kw": True, "count": 1}, "loads.0.kw"),
        ({"kind": "lighting", "kw": 1e300, "count": 1}, "loads.0.kw"),
        ({"kind": "lighting", "kw": 20, "count": 1.5}, "loads.0.count"),
        ({"kind": "lighting", "kw": 20, "count": 0}, "loads.0.count"),
        ({"kind": "lighting", "kw": 20, "count": "2"}, "loads.0.count"),
        ({"kind": "toaster", "kw": 20, "count": 1}, "loads.0.kind"),
        ({"kind": "lighting", "kw": 20, "count": 1, "colour": "red"}, "loads.0.colour"),
    ],
)
def test_a_bad_load_is_422_naming_its_field(client, load, field):
    r = client.post(URL, json={"loads": [load]})
    assert r.status_code == 422, r.text
    assert field in fields(r), fields(r)


@pytest.mark.parametrize("loads", [[], [{"kind": "lighting", "kw": 1}] * 201])
def test_an_empty_or_too_long_list_is_422(client, loads):
    r = client.post(URL, json={"loads": loads})
    assert r.status_code == 422 and "loads" in fields(r)


def test_a_second_bad_row_is_named_by_its_index(client):
    body = {"loads": [{"kind": "lighting", "kw": 20}, {"kind": "motors", "kw": -1}]}
    r = client.post(URL, json=body)
    assert r.status_code == 422 and list(fields(r)) == ["loads.1.kw"]


def test_a_load_beyond_every_supply_voltage_is_422_on_the_list(client):
    # 3000 × 100 000 kW × 0.75 × 0.9 ÷ 0.9 = 225 000 000 kVA: the advisor's own refusal
    r = client.post(URL, json={"loads": [{"kind": "motors", "kw": 100_000, "count": 3000}]})
    assert r.status_code == 422 and "loads" in fields(r)


def test_nan_is_refused_before_the_route(client):
    r = client.post(
        URL,
        content=b'{"loads": [{"kind": "lighting", "kw": NaN}]}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_the_advisor_is_rate_limited_as_previews_are(client, app):
    app.state.limits = RateLimits({"preview": "3/minute"})
    codes = [client.post(URL, json=WORKSHOP).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.post("/api/v1/schemes/preview", json={}).status_code == 429
