"""Deadline reminders, sent by the scheduler at each look: each once per review, step entry and
kind (due soon, overdue), to whoever may still act at the step.

Each reminder is claimed by inserting its `ReviewReminder` row (a unique key) in the same
transaction as its notifications: when two schedulers look at once, one claims and notifies, the
other's insert does nothing; a look that fails notifies nobody and claims nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db.bulk import insert_unless_present
from ..notify import Notice, notify_many
from ..org.models import Employee
from .actors import Directory
from .deadlines import EARLIEST_REMINDER, flow_steps, step_deadline
from .models import Review, ReviewAction, approver
from .notices import Audience, review_params, scorecard_link
from .reminder_models import ReviewReminder

CLAIM_CHUNK = 500


@dataclass(frozen=True)
class _Due:
    review_id: int
    period: str
    employee_id: int
    entry: int
    kind: str
    step: dict
    entered_at: dt.datetime


def _due(session: Session, now: dt.datetime) -> list[_Due]:
    """The reminders due now and not yet sent."""
    reviews = session.execute(
        sa.select(
            Review.id,
            Review.period,
            Review.employee_id,
            Review.version_number,
            Review.flow,
            Review.step,
            Review.entries,
            Review.step_started_at,
        ).where(Review.state == "in_review", Review.step_started_at <= now - EARLIEST_REMINDER)
    ).all()
    if not reviews:
        return []
    sent = set(
        session.execute(
            sa.select(ReviewReminder.review_id, ReviewReminder.kind)
            .join(Review, sa.and_(Review.id == ReviewReminder.review_id, Review.entries == ReviewReminder.step_entry))
            .where(Review.state == "in_review")
        ).all()
    )
    steps = flow_steps(session, {(review.version_number, review.flow) for review in reviews})
    due: list[_Due] = []
    for review in reviews:
        step = steps[(review.version_number, review.flow)].get(review.step)
        if step is None:  # not a step of its flow (any more): it has no deadline to remind of
            continue
        deadline = step_deadline(step, review.step_started_at)
        kind = deadline.reminder(now) if deadline else None
        if kind and (review.id, kind) not in sent:
            due.append(
                _Due(review.id, review.period, review.employee_id, review.entries, kind, step, review.step_started_at)
            )
    return due


def _claim(session: Session, due: list[_Due], now: dt.datetime) -> list[_Due]:
    """The reminders this transaction claimed (the others were claimed by someone else)."""
    claimed: set[tuple[int, str]] = set()
    statement = insert_unless_present(session, ReviewReminder).returning(ReviewReminder.review_id, ReviewReminder.kind)
    for start in range(0, len(due), CLAIM_CHUNK):
        rows = [
            {"review_id": d.review_id, "step_entry": d.entry, "kind": d.kind, "sent_at": now}
            for d in due[start : start + CLAIM_CHUNK]
        ]
        claimed.update((review_id, kind) for review_id, kind in session.execute(statement.values(rows)))
    return [d for d in due if (d.review_id, d.kind) in claimed]


def _approved(session: Session, due: list[_Due]) -> dict[tuple[int, int], set[int]]:
    """(review, step entry) → who has approved that entry already (countersigning)."""
    approved: dict[tuple[int, int], set[int]] = {}
    ids = sorted({d.review_id for d in due})
    for start in range(0, len(ids), CLAIM_CHUNK):
        for review_id, entry, user_id, on_behalf_of in session.execute(
            sa.select(
                ReviewAction.review_id, ReviewAction.step_entry, ReviewAction.user_id, ReviewAction.on_behalf_of
            ).where(ReviewAction.action == "approve", ReviewAction.review_id.in_(ids[start : start + CLAIM_CHUNK]))
        ):
            approved.setdefault((review_id, entry), set()).add(approver(user_id, on_behalf_of))
    return approved


def send_reminders(session: Session, now: dt.datetime) -> int:
    """Claim the reminders due at `now` and notify; how many reminders. Nothing is committed."""
    due = _due(session, now)
    if not due:
        return 0
    claimed = _claim(session, due, now)
    if not claimed:
        return 0
    audience = Audience.load(session, Directory.load(session), now.date())
    approved = _approved(session, claimed)
    people = {
        row.id: row
        for row in session.execute(
            sa.select(Employee.id, Employee.code, Employee.name).where(
                Employee.id.in_(sorted({d.employee_id for d in claimed}))
            )
        )
    }
    notices = []
    for d in claimed:
        person = people[d.employee_id]
        recipients = audience.waiting(d.step["actor"], d.employee_id, approved.get((d.review_id, d.entry), set()))
        notices.append(
            Notice(
                frozenset(recipients),
                f"review.{d.kind}",
                d.period,
                d.employee_id,
                review_params(person.code, person.name, d.period, d.step, d.entered_at),
                scorecard_link(d.period, person.code),
            )
        )
    notify_many(session, notices, now)
    return len(claimed)
