"""What the API tests share.

- The clock: dates in requests are checked against a window around today (rules
  ``input.dates``), so the tests run on the day their fixed dates were written for.
- ``client``: for a module that defines an ``app`` fixture, a client with fresh rate-limit
  counters at the rules file's rates and the service's day frozen.
- ``browser``: Debian's Chromium driven by Playwright (skipped, with the reason, if either
  is missing; nothing is downloaded at run time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api._service
from api._limits import RateLimits

TODAY = dt.date(2026, 12, 1)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api._service, "_today", lambda: TODAY)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    app.state.limits = RateLimits(app.state.service.rules.get("service.rate_limits"))
    app.state.service.today = lambda: TODAY
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install playwright; "
        "the browser is Debian's chromium, never `playwright install`)",
    )
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
