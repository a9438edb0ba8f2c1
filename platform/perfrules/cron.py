"""Cron expressions as people write them, for APScheduler 3.x.

APScheduler 3 numbers weekdays from Monday = 0, where cron numbers them from Sunday = 0 (and 7),
so `0 6 * * 1` would fire on Tuesdays. The weekday field is translated to day names first.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

#: cron's weekday numbers (0 and 7 are Sunday) → APScheduler's day names
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekdays(field: str) -> str:
    """'1-5' → 'mon,tue,wed,thu,fri', '*/3' → 'sun,wed,sat'; '*' and names (which mean the same
    to both) are left as they are."""
    if field in ("*", "?") or any(ch.isalpha() for ch in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            low, high = 0, 6
        elif "-" in span:
            low, high = (int(x) for x in span.split("-", 1))
        elif span.isdigit():
            low = int(span)
            high = 7 if step_text else low
        else:
            raise ValueError(f"weekday '{part}' is not a number, a range or a day name")
        if not (0 <= low <= 7 and 0 <= high <= 7 and low <= high and step > 0):
            raise ValueError(f"weekday '{part}' is not within 0–7 (0 and 7 are Sunday)")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def cron_trigger(expression: str, timezone: dt.tzinfo | None = None) -> CronTrigger:
    """A trigger for a five-field cron expression (minute hour day month weekday)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(weekday), timezone=timezone
    )
