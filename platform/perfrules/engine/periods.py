"""Appraisal periods (考核周期) and the date windows metrics aggregate over.

A period is a run of whole months: `2026-10` (one month), `2026-Q4`, `2026-H2`, `2026`. Windows
are half-open date ranges `[start, end)` so that adjacent windows never share a day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

Cycle: TypeAlias = Literal["monthly", "quarterly", "half_yearly", "yearly"]
#: the date ranges a metric may aggregate over (see `Period.window`)
Window: TypeAlias = Literal["period", "previous", "last_year", "ytd", "trailing"]

_PATTERN = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?$")
#: cycle → months per period
CYCLE_MONTHS: dict[Cycle, int] = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


class PeriodError(ValueError):
    pass


def _month_start(year: int, month: int) -> dt.date:
    """The first day of a month counted from January of `year` (month may run past 12 or below 1)."""
    year += (month - 1) // 12
    return dt.date(year, (month - 1) % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    #: first month of the period, 1..12
    first_month: int
    #: its length in months: 1, 3, 6 or 12
    months: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise PeriodError(f"'{text}' is not a period: use 2026-10, 2026-Q4, 2026-H2 or 2026")
        year, month, quarter, half = match.groups()
        year = int(year)
        if year < 1900:
            raise PeriodError(f"'{text}' is not a period: the year is out of range")
        if month:
            return cls(year, int(month), 1)
        if quarter:
            return cls(year, 3 * int(quarter) - 2, 3)
        if half:
            return cls(year, 6 * int(half) - 5, 6)
        return cls(year, 1, 12)

    @classmethod
    def of(cls, day: dt.date, cycle: Cycle) -> Period:
        """The period of a cycle that contains a day."""
        length = CYCLE_MONTHS[cycle]
        first = (day.month - 1) // length * length + 1
        return cls(day.year, first, length)

    def __str__(self) -> str:
        if self.months == 1:
            return f"{self.year}-{self.first_month:02d}"
        if self.months == 3:
            return f"{self.year}-Q{(self.first_month + 2) // 3}"
        if self.months == 6:
            return f"{self.year}-H{(self.first_month + 5) // 6}"
        return str(self.year)

    @property
    def cycle(self) -> Cycle:
        cycles: dict[int, Cycle] = {1: "monthly", 3: "quarterly", 6: "half_yearly", 12: "yearly"}
        return cycles[self.months]

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return _month_start(self.year, self.first_month + self.months)

    def shifted(self, periods: int) -> Period:
        start = _month_start(self.year, self.first_month + periods * self.months)
        return Period(start.year, start.month, self.months)

    def previous(self) -> Period:
        return self.shifted(-1)

    def month_numbers(self) -> range:
        """The calendar months (1..12) the period covers."""
        return range(self.first_month, self.first_month + self.months)

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def window(self, kind: Window, months: int | None = None) -> tuple[dt.date, dt.date]:
        """The date range a metric with this window aggregates over."""
        if kind == "period":
            return self.start, self.end
        if kind == "previous":
            previous = self.previous()
            return previous.start, previous.end
        if kind == "last_year":
            return _month_start(self.year - 1, self.first_month), _month_start(
                self.year - 1, self.first_month + self.months
            )
        if kind == "ytd":
            return dt.date(self.year, 1, 1), self.end
        if kind == "trailing":
            if not months:
                raise PeriodError("a trailing window needs a number of months")
            return _month_start(self.year, self.first_month + self.months - months), self.end
        raise PeriodError(f"unknown window '{kind}'")


def last_complete(cycle: Cycle, today: dt.date) -> Period:
    """The latest period of a cycle that has ended before `today`."""
    return Period.of(today, cycle).previous()


#: words for the latest period that has ended
LAST_PERIODS: dict[str, Cycle] = {
    "last-month": "monthly",
    "last-quarter": "quarterly",
    "last-half": "half_yearly",
    "last-year": "yearly",
}


def period_from_text(text: str, today: dt.date | None = None) -> Period:
    """`2026-10`, `2026-Q4`, `2026-H2`, `2026`, or last-month, last-quarter, last-half, last-year."""
    if text in LAST_PERIODS:
        return last_complete(LAST_PERIODS[text], today or dt.date.today())
    return Period.parse(text)
