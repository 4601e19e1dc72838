"""The service as a careful attacker tries it: each row of issue 12 with the answer expected.

Most rows go through the application in-process; the rows about sockets (slow heads,
bodies that never end, oversized bodies) go through a real uvicorn server with the
service's guarded protocol. Rows that once took minutes (far dates, floods) are answered
before any unbounded work can start: a 422 at parse time, a 429 from the rate limiter, a
working-day count bounded by the calendar's span; bench/bench_hostile.py times them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import select
import socket
import threading
import time
import uuid
from functools import cache
from typing import Any

import pytest
import uvicorn

from api._app import create_app
from api._http import GuardedH11Protocol
from api._limits import RateLimits
from grid_models import load_model
from scheme_generator import WorkCalendar
from tests.api.conftest import TODAY

KEY = "planner-secret"
PLANNER = {"X-API-Key": KEY}
NAME = "安阳市测试保密餐饮有限公司"


@cache
def anyang():
    return load_model("builtin:anyang")


def application(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_name": NAME,
        "customer_type": "non_resident",
        "business": "new",
        "location": {"lon": 114.35, "lat": 36.10},
        "capacity_kva": 120,
        "application_date": TODAY.isoformat(),
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GRIDCAP_PLANNER_API_KEY", KEY)
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'gridcap.sqlite3'}"
    web = create_app(anyang(), database_url=url)
    yield web
    mp.undo()


def fields(response) -> dict[str, str]:
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


# ---------------------------------------------------------------- rows 1–3: dates
def test_row1_far_date_is_refused_at_parse_time(client):
    r = client.post("/api/v1/applications", json=application(application_date="9999-12-29"))
    assert r.status_code == 422
    assert "between" in fields(r)["application_date"]


def test_row1_working_day_counts_are_bounded_by_the_calendar():
    cal = WorkCalendar()
    calls = 0
    known = cal.is_workday

    def counted(day: dt.date) -> bool:
        nonlocal calls
        calls += 1
        return known(day)

    cal.is_workday = counted  # type: ignore[method-assign]
    n = cal.workdays_between(dt.date(1, 1, 1), dt.date(9999, 12, 29))
    assert n > 2_600_000  # every Monday–Friday of 9 999 years, counted
    assert calls < 366 * 30  # but only the calendar's known span day by day


def test_row2_restricted_lists_only_open_applications(client):
    big = application(capacity_kva=12000, location={"lon": 114.1778, "lat": 36.1728})
    r = client.post("/api/v1/applications", json=big)
    assert r.status_code == 201 and r.json()["scheme"]["constrained"]
    app_id, token = r.json()["application_id"], r.json()["access_token"]
    listed = {
        x["application_id"]
        for x in client.get("/api/v1/planner/restricted", headers=PLANNER).json()
    }
    assert app_id in listed
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/applications/{app_id}/cancel", headers=auth).status_code == 200
    listed = {
        x["application_id"]
        for x in client.get("/api/v1/planner/restricted", headers=PLANNER).json()
    }
    assert app_id not in listed
    r = client.post("/api/v1/applications", json=application(application_date="0001-01-01"))
    assert r.status_code == 422 and "application_date" in fields(r)


@pytest.mark.parametrize("path", ["/api/v1/schemes/preview", "/api/v1/applications"])
def test_row3_last_date_is_422_not_500(client, path):
    for day in ("9999-12-31", "0001-01-01"):
        r = client.post(path, json=application(application_date=day))
        assert r.status_code == 422, r.text
        assert "application_date" in fields(r)
    r = client.post(path, json=application(customer_works_date="9999-12-31"))
    assert r.status_code == 422 and "customer_works_date" in fields(r)


# ---------------------------------------------------------------- row 4: floods
def test_row4_apply_and_select_are_rate_limited(client, app):
    app.state.limits = RateLimits({"apply": "5/minute", "select": "3/minute"})
    codes = [client.post("/api/v1/applications", json=application()).status_code for _ in range(8)]
    assert codes[:5] == [201] * 5 and set(codes[5:]) == {429}
    r = client.post("/api/v1/applications", json=application())
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert "too many apply requests" in r.json()["detail"]
    # the limiter runs before the body is read: a rejected flood costs no validation
    assert client.post("/api/v1/applications", content=b"{}", headers=_json).status_code == 429
    picks = [
        client.post(
            "/api/v1/applications/x/select", json={"option_id": "A"}, headers=_bearer("t")
        ).status_code
        for _ in range(5)
    ]
    assert picks[:3] == [403] * 3 and set(picks[3:]) == {429}


_json = {"Content-Type": "application/json"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379"
    except OSError:
        return None


def test_row4_limits_shared_through_redis():
    url = redis_url()
    if url is None:
        pytest.skip("no Redis server at 127.0.0.1:6379 (CI has one)")
    rates = {"apply": "4/minute"}
    worker_a, worker_b = RateLimits(rates, url), RateLimits(rates, url)
    client = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    for w in (worker_a, worker_b, worker_a, worker_b):
        w.hit("apply", client)
    from api._limits import RateLimited

    with pytest.raises(RateLimited) as hit:
        worker_b.hit("apply", client)  # the fifth, counted across both workers
    assert hit.value.retry_after >= 1


# ---------------------------------------------------------------- rows 5, 6, 14: sockets
class _FastGuards(GuardedH11Protocol):
    header_seconds = 1.0
    body_seconds = 1.0


@pytest.fixture(scope="module")
def server(app):
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=_FastGuards, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield port
    srv.should_exit = True
    thread.join(10)


def _read_all(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """What the server sends until it closes the socket, and when it did."""
    sock.settimeout(limit_s)
    t0, data = time.monotonic(), b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, math_inf()
    except ConnectionResetError:  # closed on us while we were still sending: cut off
        return data or b"<reset>", time.monotonic() - t0
    return data, time.monotonic() - t0


def math_inf() -> float:
    return float("inf")


def test_row5_slow_header_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        for k in range(10):  # one header line every 0.4 s: never a complete head
            readable, _, _ = select.select([s], [], [], 0.4)
            if readable:  # the server answered (and closes)
                break
            try:
                s.sendall(f"X-Slow-{k}: 1\r\n".encode())
            except OSError:  # already closed by the server
                break
        answered_after = time.monotonic() - t0
        data, _ = _read_all(s, 3)
    # the 408 answer, or (when a line crossed the close) a reset: either way cut off
    assert data.startswith(b"HTTP/1.1 408") or data == b"<reset>", data[:80]
    assert answered_after < 3  # the deadline is 1 s here; the slow client needed 4 s


def test_row5_partial_body_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(
            b"POST /api/v1/schemes/preview HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"customer'
        )
        data, after = _read_all(s, 5)
    assert after < 4, "the socket stayed open"
    assert data in (b"", b"<reset>") or data.startswith(b"HTTP/1.1 408"), data[:80]


def test_row6_oversized_body_is_413_before_it_is_read(server):
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(
            b"POST /api/v1/applications HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{"
        )
        data, after = _read_all(s, 5)
    assert data.startswith(b"HTTP/1.1 413"), data[:80]
    assert after < 4


def test_row6_oversized_stream_is_413(client):
    def chunks():
        for _ in range(40):
            yield b" " * 65536

    r = client.post("/api/v1/applications", content=chunks(), headers=_json)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_row14_head_answers_like_get(server):
    for path in ("/health", "/"):
        with socket.create_connection(("127.0.0.1", server)) as s:
            s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data, _ = _read_all(s, 10)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:80]
        assert body == b""


# ---------------------------------------------------------------- rows 7, 8: what-if
@pytest.mark.parametrize(
    "growth, field",
    [
        ({"scope": "feeder", "id": "fd:99999", "percent": 5}, "load_growth[0].id"),
        ({"scope": "substation", "id": "sub:NOPE", "percent": 5}, "load_growth[0].id"),
        ({"scope": "feeder", "percent": 5}, "load_growth[0].id"),
        ({"scope": "area_class", "id": "moon", "percent": 5}, "load_growth[0].id"),
    ],
)
def test_row7_what_if_names_unknown_ids(client, growth, field):
    r = client.post("/api/v1/what-if", json={"load_growth": [growth]}, headers=PLANNER)
    assert r.status_code == 422
    assert field in fields(r)


def test_row8_planner_key_before_the_body(client):
    bad = {"load_growth": "lots", "colour": 1}
    r = client.post("/api/v1/what-if", json=bad)
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    r = client.post("/api/v1/what-if", json=bad, headers={"X-API-Key": "wrong"})
    assert r.status_code == 403 and "X-API-Key" in r.json()["detail"]


# ---------------------------------------------------------------- rows 9–11: strict JSON
@pytest.mark.parametrize("value", [True, "120", None, [120], {"kva": 120}])
def test_row9_capacity_must_be_a_json_number(client, value):
    r = client.post("/api/v1/schemes/preview", json=application(capacity_kva=value))
    assert r.status_code == 422 and "capacity_kva" in fields(r)


def test_row9_tiny_capacity_is_refused(client):
    r = client.post("/api/v1/schemes/preview", json=application(capacity_kva=1e-320))
    assert r.status_code == 422 and "capacity_kva" in fields(r)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_row10_non_finite_numbers(client, token):
    text = json.dumps(application()).replace('"capacity_kva": 120', f'"capacity_kva": {token}')
    r = client.post("/api/v1/applications", content=text, headers=_json)
    assert r.status_code == 422
    assert fields(r) == {"capacity_kva": "must be a finite number (NaN and Infinity are not JSON)"}
    text = json.dumps(application()).replace('"lon": 114.35', f'"lon": {token}')
    r = client.post("/api/v1/schemes/preview", content=text, headers=_json)
    assert "location.lon" in fields(r)


def test_row11_duplicate_keys(client):
    text = json.dumps(application())[:-1] + ', "capacity_kva": 9000}'
    r = client.post("/api/v1/applications", content=text, headers=_json)
    assert r.status_code == 422
    assert "more than once" in fields(r)["capacity_kva"]


# ---------------------------------------------------------------- row 12: existence
def test_row12_no_existence_test(client):
    real = client.post("/api/v1/applications", json=application()).json()["application_id"]
    for creds in ({}, _bearer("guess")):
        unknown = client.get("/api/v1/applications/0123456789abcdef", headers=creds)
        known = client.get(f"/api/v1/applications/{real}", headers=creds)
        assert unknown.status_code == known.status_code in (401, 403)
        assert unknown.json() == known.json()
    # a planner may learn that an id does not exist
    assert client.get("/api/v1/applications/nope", headers=PLANNER).status_code == 404


# ---------------------------------------------------------------- row 13: headers, docs
def test_row13_security_headers(client):
    created = client.post("/api/v1/applications", json=application()).json()
    for path, headers in [
        ("/health", {}),
        ("/api/v1/capacity?level=feeder", {}),
        (f"/api/v1/applications/{created['application_id']}", _bearer(created["access_token"])),
        ("/api/v1/planner/warnings", PLANNER),
    ]:
        r = client.get(path, headers=headers)
        assert r.status_code == 200, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        if headers:
            assert r.headers["cache-control"] == "no-store", path


def test_row13_docs_need_no_cdn(client):
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "jsdelivr" not in page
    scripts = [s.split('"')[1] for s in page.split("src=")[1:]]
    assert scripts and all(s.startswith("/") for s in scripts)
    for asset in scripts:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 200


# ---------------------------------------------------------------- row 15: planner messages
def test_row15_planner_messages_name_the_key(client):
    for path in ("/api/v1/planner/warnings", "/api/v1/planner/restricted"):
        r = client.get(path)
        assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
        r = client.get(path, headers={"X-API-Key": "wrong"})
        assert r.status_code == 403 and "X-API-Key" in r.json()["detail"]
        assert "access token" not in r.text


# ---------------------------------------------------------------- row 16: options
def test_row16_unknown_option_and_energise_answer(client):
    created = client.post("/api/v1/applications", json=application()).json()
    app_id, auth = created["application_id"], _bearer(created["access_token"])
    r = client.get(f"/api/v1/applications/{app_id}/reply-sheet?option_id=ZZ", headers=auth)
    assert r.status_code == 404 and "ZZ" in r.json()["detail"]
    r = client.post(f"/api/v1/applications/{app_id}/select", json={"option_id": "ZZ"}, headers=auth)
    assert r.status_code == 404
    chosen = created["scheme"]["options"][0]["option_id"]
    r = client.post(
        f"/api/v1/applications/{app_id}/select", json={"option_id": chosen}, headers=auth
    )
    assert r.status_code == 200
    r = client.post(f"/api/v1/applications/{app_id}/energise", headers=PLANNER)
    assert r.status_code == 200 and r.json()["selected_option"] == chosen


# ---------------------------------------------------------------- row 17: not JSON
def test_row17_messages_a_person_understands(client):
    r = client.post("/api/v1/applications", content=b"customer=me", headers=_json)
    assert r.status_code == 422
    msg = fields(r)["body"]
    assert msg.startswith("the body is not valid JSON") and "line 1" in msg
    r = client.post(
        "/api/v1/applications",
        content=json.dumps(application()),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


# ---------------------------------------------------------------- logs
def test_nothing_personal_in_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    created = client.post("/api/v1/applications", json=application()).json()
    app_id, token = created["application_id"], created["access_token"]
    auth = _bearer(token)
    option = created["scheme"]["options"][0]["option_id"]
    client.post(f"/api/v1/applications/{app_id}/select", json={"option_id": option}, headers=auth)
    client.get(f"/api/v1/applications/{app_id}", headers=auth)
    client.get("/api/v1/planner/warnings", headers=PLANNER)
    client.get("/api/v1/planner/restricted", headers=PLANNER)
    client.post(f"/api/v1/applications/{app_id}/cancel", headers=auth)
    client.post("/api/v1/applications", json=application(capacity_kva="x"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (NAME, token, KEY):
        assert secret not in text


def test_application_date_defaults_to_the_service_day(client):
    body = application()
    del body["application_date"]
    r = client.post("/api/v1/applications", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["scheme"]["customer"]["application_date"] == TODAY.isoformat()
