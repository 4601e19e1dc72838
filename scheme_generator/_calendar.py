"""Chinese working days (工作日): holidays and make-up working days (调休).

``chinese_calendar`` knows the official schedule for the years it has data for; an
override table in the rules file adds or corrects days; beyond both, Monday–Friday is
assumed and the answer carries a warning, so a due date is never silently wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar


@dataclass
class WorkCalendar:
    """Working-day arithmetic with an override table (date → is a working day)."""

    overrides: dict[dt.date, bool] = field(default_factory=dict)
    warnings: set[str] = field(default_factory=set)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        official = _official_workday(day)
        if official is None:
            self.warnings.add(
                f"{day.year}年尚无官方节假日安排：{day.year}年按周一至周五为工作日计算"
            )
            return day.weekday() < 5
        return official

    def add_workdays(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself is day 0)."""
        day = start
        left = days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


@lru_cache(maxsize=8192)
def _official_workday(day: dt.date) -> bool | None:
    """The official schedule's answer for ``day``; None for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def calendar_from_rules(overrides: dict[str, bool] | None) -> WorkCalendar:
    return WorkCalendar({dt.date.fromisoformat(k): bool(v) for k, v in (overrides or {}).items()})
