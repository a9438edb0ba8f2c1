"""Deadlines of approval steps: a step with `deadline_days` is due that many days (24-hour days)
after the review entered it; a step entered again (after a rejection) starts again.

A reminder that the deadline is near goes out `DUE_SOON` before it — or halfway through, for a
step allowed less than twice that — and another once it has passed. Everything here is a pure
function of the step, the time it was entered and `now`, so that tests need not wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.models import ConfigVersion
from ..notify import utc
from .models import Review

DUE_SOON = dt.timedelta(days=1)
#: the earliest a reminder can be due after a step is entered (a one-day step, reminded halfway)
EARLIEST_REMINDER = dt.timedelta(days=1) / 2


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    #: when the "due soon" reminder goes out
    remind_at: dt.datetime

    def overdue(self, now: dt.datetime) -> bool:
        return now >= self.due_at

    def reminder(self, now: dt.datetime) -> str | None:
        """The reminder due at `now`: overdue, due_soon, or none yet."""
        if now >= self.due_at:
            return "overdue"
        if now >= self.remind_at:
            return "due_soon"
        return None


def step_deadline(step: dict | None, entered_at: dt.datetime | None) -> Deadline | None:
    """The deadline of a step entered at `entered_at`, if the step has one."""
    days = (step or {}).get("deadline_days")
    if not days or entered_at is None:
        return None
    allowed = dt.timedelta(days=days)
    due_at = utc(entered_at) + allowed
    return Deadline(due_at, due_at - min(DUE_SOON, allowed / 2))


def flow_steps(session: Session, flows: Iterable[tuple[int, str]]) -> dict[tuple[int, str], dict[str, dict]]:
    """(version number, flow) → step name → step, reading each version's snapshot once."""
    flows = set(flows)
    versions = {number for number, _ in flows}
    snapshots: dict[int, dict] = (
        dict(
            session.execute(
                sa.select(ConfigVersion.number, ConfigVersion.snapshot).where(ConfigVersion.number.in_(versions))
            ).all()
        )
        if versions
        else {}
    )
    return {
        (number, flow): {
            step["name"]: step
            for step in (snapshots.get(number) or {}).get("approval_flows", {}).get(flow, {}).get("steps", [])
        }
        for number, flow in flows
    }


def review_deadlines(session: Session, reviews: Iterable[Review]) -> dict[int, Deadline]:
    """The deadline of each review's current step, by review id, for those that have one."""
    at_step = [(review, review.step) for review in reviews if review.state == "in_review" and review.step]
    steps = flow_steps(session, {(review.version_number, review.flow) for review, _ in at_step})
    found: dict[int, Deadline] = {}
    for review, step in at_step:
        deadline = step_deadline(steps[(review.version_number, review.flow)].get(step), review.step_started_at)
        if deadline is not None:
            found[review.id] = deadline
    return found
