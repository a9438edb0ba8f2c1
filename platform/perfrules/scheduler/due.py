"""When schedules fire and what each firing evaluates. Pure functions of the clock.

A schedule fires on its cron expression in its time zone. A firing evaluates the last complete
period of the schedule's cycle (`evaluate: previous`, "on the 1st at 02:00, evaluate the previous
month") or the period in progress (`evaluate: current`). Firings missed while no scheduler was
running are caught up when one starts again, each period once; how far back is bounded by
`CATCH_UP`, so a schedule added today does not evaluate years of history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from ..cron import cron_trigger
from ..engine.periods import Period, last_complete

CATCH_UP = dt.timedelta(days=400)


@dataclass(frozen=True)
class Due:
    schedule: str
    period: Period
    fired_at: dt.datetime
    templates: tuple[str, ...]
    #: `evaluate: current` re-evaluates the period in progress at each firing; `previous` once
    each_firing: bool = False

    @property
    def claim(self) -> str:
        base = f"schedule:{self.schedule}:{self.period}"
        return f"{base}@{self.fired_at.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}" if self.each_firing else base


def _trigger(schedule: dict) -> CronTrigger:
    return cron_trigger(schedule["cron"], ZoneInfo(schedule["timezone"]))


def latest_firing(trigger: CronTrigger, after: dt.datetime, until: dt.datetime) -> dt.datetime | None:
    """The last fire time in (after, until]. Looks back from `until` in doubling steps, so an
    every-minute cron costs a few steps, not one per minute."""
    width = dt.timedelta(minutes=1)
    while True:
        start = max(after, until - width)
        fire = trigger.get_next_fire_time(None, start + dt.timedelta(microseconds=1))
        if fire is not None and fire <= until:
            latest = fire
            while True:  # at most a doubling's worth of firings
                following = trigger.get_next_fire_time(latest, latest + dt.timedelta(seconds=1))
                if following is None or following > until:
                    return latest
                latest = following
        if start == after:
            return None
        width *= 2


def firing_period(schedule: dict, fired_at: dt.datetime) -> Period:
    local_day = fired_at.astimezone(ZoneInfo(schedule["timezone"])).date()
    if schedule.get("evaluate", "previous") == "current":
        return Period.of(local_day, schedule["cycle"])
    return last_complete(schedule["cycle"], local_day)


def due(schedules: dict[str, dict], now: dt.datetime, last_fired: dict[str, dt.datetime]) -> list[Due]:
    """What to run now: per schedule, each period whose firing has come since the schedule last
    fired (the latest firing per period), oldest first.

    `last_fired` holds, per schedule, the fire time of its latest claimed run. A schedule that
    never ran catches up only its most recent firing.
    """
    result: list[Due] = []
    for slug, schedule in sorted(schedules.items()):
        if not schedule.get("enabled", True):
            continue
        trigger, zone = _trigger(schedule), ZoneInfo(schedule["timezone"])
        since = max(last_fired.get(slug, now - CATCH_UP), now - CATCH_UP)
        # the cycle's calendar periods the window (since, now] touches, newest first
        calendar = Period.of(now.astimezone(zone).date(), schedule["cycle"])
        first = Period.of(since.astimezone(zone).date(), schedule["cycle"])
        found: list[tuple[Period, dt.datetime]] = []
        while calendar >= first:
            start = dt.datetime.combine(calendar.start, dt.time(), zone)
            end = dt.datetime.combine(calendar.end, dt.time(), zone) - dt.timedelta(microseconds=1)
            fire = latest_firing(trigger, max(since, start - dt.timedelta(microseconds=1)), min(now, end))
            if fire is not None:
                found.append((firing_period(schedule, fire), fire))
                if slug not in last_fired:
                    break
            calendar = calendar.previous()
        each_firing = schedule.get("evaluate", "previous") == "current"
        result.extend(
            Due(slug, period, fire, tuple(schedule["templates"]), each_firing) for period, fire in reversed(found)
        )
    return result
