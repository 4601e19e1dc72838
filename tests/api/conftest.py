"""The API tests' clock: dates in requests are checked against a window around today
(rules ``input.dates``), so the tests run on the day their fixed dates were written for."""

from __future__ import annotations

import datetime as dt

import pytest

import api._service

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api._service, "_today", lambda: TODAY)
