"""Periods as the scorecard pages list them: in time order, read from the URL, and the periods
of the same cycle (months or quarters) for a trend."""

from __future__ import annotations

from collections.abc import Iterable

from ...engine.periods import Period, PeriodError


def period_key(text: str) -> tuple[int, int, str]:
    """Periods in time order: by their last day, then the longer first (2026-Q4 after 2026-12)."""
    try:
        period = Period.parse(text)
    except PeriodError:
        return (0, 0, "")  # before every real period, whose last day is after day 0
    return (period.end.toordinal(), period.months, text)


def parse_period(text: str | None) -> str | None:
    """The period a URL names, written the one way (None when it names none)."""
    if not text:
        return None
    try:
        return str(Period.parse(text))
    except PeriodError:
        return None


def same_cycle(periods: Iterable[str], period: str) -> list[str]:
    """The periods as long as `period` (months, quarters …), in time order."""
    try:
        months = Period.parse(period).months
    except PeriodError:
        return []
    return sorted((p for p in periods if period_key(p)[1] == months), key=period_key)
