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
        """The ``days``-th working day after ``start`` (``start`` itself is day 0).

        Day by day while the official schedule or the overrides know the days, whole
        weeks arithmetically beyond; ``days`` above :data:`MAX_WORKDAYS` is refused."""
        if not 0 <= days <= MAX_WORKDAYS:
            raise ValueError(f"{days} working days is outside 0 … {MAX_WORKDAYS}")
        day, left = start, days
        last = self._last_known()
        while left > 0 and day < last:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        if left > 0:  # beyond what anyone knows: Monday to Friday, whole weeks at once
            self._warn_unknown(day + dt.timedelta(days=1))
            weeks, left = divmod(left, 5)
            day += dt.timedelta(weeks=weeks)
            while left > 0:
                day += dt.timedelta(days=1)
                if day.weekday() < 5:
                    left -= 1
            if weeks:  # a whole week ending on a weekend day moves on to the workday
                while day.weekday() >= 5:
                    day -= dt.timedelta(days=1)
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not
        later). Known days are counted one by one, the rest as Monday to Friday in whole
        weeks: the work is bounded by the calendar's span, never by the dates'."""
        if end <= start:
            return 0
        first, last = self._first_known(), self._last_known()
        count = 0
        lo = max(start, first - dt.timedelta(days=1))
        hi = min(end, last)
        if lo < hi:
            day = lo
            while day < hi:
                day += dt.timedelta(days=1)
                count += self.is_workday(day)
        if start < first - dt.timedelta(days=1):  # before the span
            count += _weekdays(start, min(end, first - dt.timedelta(days=1)))
        if end > last:  # after the span
            self._warn_unknown(max(start, last) + dt.timedelta(days=1))
            count += _weekdays(max(start, last), end)
        return count

    def _first_known(self) -> dt.date:
        return min([_OFFICIAL_FIRST, *self.overrides])

    def _last_known(self) -> dt.date:
        return max([_OFFICIAL_LAST, *self.overrides])

    def _warn_unknown(self, day: dt.date) -> None:
        self.warnings.add(f"{day.year}年起尚无官方节假日安排：按周一至周五为工作日计算")


#: The most working days any time limit or project in the rules can ask for (ten years).
MAX_WORKDAYS = 2_600

_OFFICIAL_FIRST = dt.date(min(chinese_calendar.holidays).year, 1, 1)
_OFFICIAL_LAST = dt.date(max(chinese_calendar.holidays).year, 12, 31)


def _weekdays(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end``."""
    span = (end - start).days
    if span <= 0:
        return 0
    weeks, rest = divmod(span, 7)
    count = weeks * 5
    wd = start.weekday()
    for k in range(1, rest + 1):
        count += (wd + k) % 7 < 5
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
