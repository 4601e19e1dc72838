"""What one client may ask for: rate limits per client address and kind of request.

Counted by the ``limits`` library (moving windows) in this worker's memory, or in a shared
store when ``GRIDCAP_RATE_LIMIT_STORAGE`` names one (``redis://127.0.0.1:6379``): then every
worker and host counts together. The rates are the rules file's ``service.rate_limits``;
``GRIDCAP_RATE_LIMITS=off`` switches them off (load benches send from one address).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

STORAGE_ENV = "GRIDCAP_RATE_LIMIT_STORAGE"
SWITCH_ENV = "GRIDCAP_RATE_LIMITS"


@dataclass
class RateLimited(Exception):
    """Too many requests of one kind from one client; ask again after ``retry_after`` s."""

    kind: str
    retry_after: int

    def __str__(self) -> str:
        return f"too many {self.kind} requests from this client"


class RateLimits:
    """Per-client limits by kind of request (``apply``, ``select`` …)."""

    def __init__(self, rates: Mapping[str, str], storage_url: str | None = None) -> None:
        self.items: dict[str, list[RateLimitItem]] = {k: parse_many(v) for k, v in rates.items()}
        self.storage_url = storage_url or "memory://"
        self.limiter = MovingWindowRateLimiter(storage_from_string(self.storage_url))

    @classmethod
    def from_settings(cls, rates: Mapping[str, str]) -> RateLimits | None:
        """The limits the environment asks for; None when switched off."""
        if os.environ.get(SWITCH_ENV, "on").strip().lower() in ("off", "0", "false", "no"):
            return None
        return cls(rates, os.environ.get(STORAGE_ENV) or None)

    def hit(self, kind: str, client: str) -> None:
        """Count one request of ``kind`` from ``client``; :class:`RateLimited` past a rate."""
        for item in self.items.get(kind, ()):
            if not self.limiter.hit(item, "gridcap", kind, client):
                reset = self.limiter.get_window_stats(item, "gridcap", kind, client).reset_time
                raise RateLimited(kind, max(1, math.ceil(reset - time.time())))
