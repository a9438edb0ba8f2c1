"""Who may read one scorecard: the one rule the scorecard page, the reviews API (one review, its
forms and its feedback) and the one-scorecard API all ask, outside Flask.

A user may read a scorecard when

- `org.access` lets them see it: their own, their department and the ones below it for a
  manager, everyone's for admin, HR and auditors; or
- its review waits for them at its current step (the flow names them, or someone they stand in
  for that day), or they acted on it (or someone acted on it for them): acting on a scorecard
  needs reading it, and what you acted on stays open to you; or
- an open dispute on it waits for them (routed to them, or to someone they stand in for that
  day), or they resolved one on it (or someone did for them): resolving needs the facts, and
  accepting one is a reopening of the review they then acted on anyway.

Nobody else reads it, whatever they know of its URL. This opens one scorecard at a time: lists
(`GET /api/v1/scorecards`, `GET /api/v1/reviews`, the team table) stay scoped by `org.access`
alone.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..org.access import visibility
from ..org.models import User
from .actors import Directory, delegators
from .dispute_models import Dispute
from .disputes import resolving_authority
from .engine import allowed_actions
from .models import Review, ReviewAction


def _through_review(session: Session, user: User, period: str, employee_id: int, today: dt.date | None) -> bool:
    review = session.scalar(sa.select(Review).where(Review.period == period, Review.employee_id == employee_id))
    if review is None:
        return False
    acted = session.scalar(
        sa.select(ReviewAction.id)
        .where(
            ReviewAction.review_id == review.id,
            sa.or_(ReviewAction.user_id == user.id, ReviewAction.on_behalf_of == user.id),
        )
        .limit(1)
    )
    return acted is not None or bool(allowed_actions(session, review, user, today))


def _through_dispute(session: Session, user: User, period: str, employee_id: int, today: dt.date | None) -> bool:
    disputes = session.scalars(
        sa.select(Dispute).where(Dispute.period == period, Dispute.employee_id == employee_id)
    ).all()
    if any(user.id in (dispute.resolved_by, dispute.on_behalf_of) for dispute in disputes):
        return True
    waiting = [dispute for dispute in disputes if dispute.state == "open"]
    if not waiting:
        return False
    directory = Directory.load(session)
    stood_in_for = delegators(session, user.id, today or dt.date.today())
    return any(resolving_authority(dispute, user, directory, stood_in_for)[0] for dispute in waiting)


def opened_by_workflow(
    session: Session, user: User, period: str, employee_id: int, today: dt.date | None = None
) -> bool:
    """Whether the scorecard's review or one of its disputes opens it to `user` (see above),
    whatever `org.access` says."""
    return _through_review(session, user, period, employee_id, today) or _through_dispute(
        session, user, period, employee_id, today
    )


def may_read_scorecard(
    session: Session,
    user: User,
    period: str,
    employee_id: int,
    department_id: int,
    reporting_line: str | None = None,
    today: dt.date | None = None,
) -> bool:
    """Whether `user` may read the scorecard of `employee_id` for `period`; `department_id` and
    `reporting_line` are what `org.access` judges it by: the scorecard's own, or (for a review
    read without its scorecard) the employee's department today and no line, which means today's
    reporting chain. `today`: the day delegations are counted on."""
    if visibility(user).allows(session, department_id, employee_id, reporting_line):
        return True
    return opened_by_workflow(session, user, period, employee_id, today)
