"""Progress and warnings with a frozen clock, across the 2026 Mid-Autumn and National Day
holidays (chinese_calendar: 09-25…27 and 10-01…07 off, 09-20 and 10-10 worked)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from api._app import create_app
from tests.api.test_service import anyang
from tests.scheme_generator.test_scheme import context, full_transformer_boxes, resident_beside

PLANNER = {"X-API-Key": "planner-secret"}


def test_statuses_and_warning_levels_on_the_right_working_days(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDCAP_PLANNER_API_KEY", "planner-secret")
    web = create_app(anyang(), database_url=f"sqlite:///{tmp_path / 'p.db'}")
    service = web.state.service
    clock = {"today": dt.date(2026, 9, 8)}
    service.today = lambda: clock["today"]
    point = next(
        p for p in context().points.values() if p.kind == "ring_main_unit" and p.openable_kva > 1500
    )
    body = {
        "customer_name": "某酒店",
        "customer_type": "non_resident",
        "business": "new",
        "industry": "commercial",
        "ownership": "chain_branch",
        "location": {"lon": point.lon_deg + 0.0002, "lat": point.lat_deg},
        "capacity_kva": 630,
        "application_date": "2026-09-08",
    }
    with TestClient(web) as client:
        made = client.post("/api/v1/applications", json=body).json()
        app_id, token = made["application_id"], made["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # 16 working days from Tue 09-08, by hand: 09-09…11 (3), 09-14…18 (8), Sun 09-20
        # make-up (9), 09-21…24 (13), 09-25…27 off, 09-28 (14), 09-29 (15), 09-30 (16).
        assert made["scheme"]["due_date"] == "2026-09-30"

        def level(day: dt.date) -> str | None:
            clock["today"] = day
            return client.get(f"/api/v1/applications/{app_id}", headers=auth).json()["progress"][
                "warning"
            ]

        assert level(dt.date(2026, 9, 24)) is None  # 09-28, 29, 30 left: 3
        assert level(dt.date(2026, 9, 25)) is None  # a holiday: still 3 working days left
        assert level(dt.date(2026, 9, 28)) == "blue"  # 09-29, 09-30 left
        assert level(dt.date(2026, 9, 29)) == "orange"  # 09-30 left
        assert level(dt.date(2026, 10, 7)) is None  # 7 calendar days late, 0 working days
        assert level(dt.date(2026, 10, 8)) == "yellow"  # 1 working day overdue
        assert level(dt.date(2026, 10, 9)) == "yellow"  # 2
        assert level(dt.date(2026, 10, 10)) == "red"  # Saturday make-up day: 3
        listed = client.get("/api/v1/planner/warnings", headers=PLANNER).json()
        assert listed[0]["application_id"] == app_id and listed[0]["warning"] == "red"
        assert client.get("/api/v1/planner/warnings").status_code == 401

        # walk the statuses: offered → selected → energised, each one recorded
        clock["today"] = dt.date(2026, 9, 10)
        assert (
            client.post(
                f"/api/v1/applications/{app_id}/select", json={"option_id": "A"}, headers=auth
            ).status_code
            == 200
        )
        client.post(f"/api/v1/applications/{app_id}/energise", headers=PLANNER)
        got = client.get(f"/api/v1/applications/{app_id}", headers=auth).json()
        assert [e["to"] for e in got["events"]] == [
            "scheme_offered",
            "option_selected",
            "energised",
        ]
        assert got["status"] == "energised" and got["progress"]["warning"] is None
        assert all(s["done"] for s in got["progress"]["steps"])

        # another: offered → cancelled; a third: offered → expired (validity, rules file)
        other = client.post("/api/v1/applications", json=body).json()
        client.post(
            f"/api/v1/applications/{other['application_id']}/cancel",
            headers={"Authorization": f"Bearer {other['access_token']}"},
        )
        assert (
            client.get(f"/api/v1/applications/{other['application_id']}", headers=PLANNER).json()[
                "status"
            ]
            == "cancelled"
        )
        late = client.post("/api/v1/applications", json=body).json()
        clock["today"] = dt.date(2027, 12, 1)
        assert (
            client.get(f"/api/v1/applications/{late['application_id']}", headers=PLANNER).json()[
                "status"
            ]
            == "expired"
        )


def test_supporting_project_contract_date_and_its_own_warning(tmp_path, monkeypatch):
    """A resident behind a full transformer: the replacement (10 working days) is the
    supporting project; its contract date is its own end, and it warns on its own."""
    monkeypatch.setenv("GRIDCAP_PLANNER_API_KEY", "planner-secret")
    web = create_app(anyang(), database_url=f"sqlite:///{tmp_path / 's.db'}")
    service = web.state.service
    clock = {"today": dt.date(2026, 3, 2)}
    service.today = lambda: clock["today"]
    full = full_transformer_boxes(context())
    with TestClient(web) as client:
        for point in full:
            body = resident_beside(point)
            made = client.post("/api/v1/applications", json=body).json()
            if made["scheme"]["constrained"] and made["scheme"]["options"]:
                break
        scheme = made["scheme"]
        option = scheme["options"][0]
        assert option["supporting_project"]
        work = next(s for s in option["schedule"]["steps"] if s["step"] == "supporting_project")
        # 契约制: the date agreed for the project is when it can be done, not earlier
        assert option["supporting_project_contract_date"] == work["due_date"]
        contract = dt.date.fromisoformat(work["due_date"])
        auth = {"Authorization": f"Bearer {made['access_token']}"}
        calendar = service.calendar
        day_before = contract - dt.timedelta(days=1)
        while not calendar.is_workday(day_before):
            day_before -= dt.timedelta(days=1)
        clock["today"] = day_before  # the contract date is the next working day
        p = client.get(f"/api/v1/applications/{made['application_id']}", headers=auth).json()[
            "progress"
        ]
        assert p["supporting_project"]["warning"] == "orange"
        clock["today"] = calendar.add_workdays(contract, 4)  # 4 working days late
        p = client.get(f"/api/v1/applications/{made['application_id']}", headers=auth).json()[
            "progress"
        ]
        assert p["supporting_project"]["warning"] == "red"
        restricted = client.get("/api/v1/planner/restricted", headers=PLANNER).json()
        assert any(r["report_due"] == "2026-03-04" for r in restricted)
