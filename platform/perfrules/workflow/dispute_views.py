"""Reading disputes: which ones a user may see, and each as a plain object for the API and the
pages. A user sees the disputes on the scorecards they may see (`org.access`) and the ones
waiting for them (a delegate's, whose scorecards they may not otherwise see)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..engine.scorecards import item_definitions
from ..org.access import visibility
from ..org.models import Employee, User
from .actors import Directory, delegators
from .dispute_models import Dispute
from .disputes import disputes_for, resolving_authority
from .models import Review
from .steps import version_config


def visible_query(session: Session, user: User, today: dt.date | None = None):
    """SELECT Dispute, Employee.code, Employee.name for the disputes `user` may see."""
    waiting = [dispute.id for dispute in disputes_for(session, user, today)]
    return (
        sa.select(Dispute, Employee.code, Employee.name)
        .join(Employee, Employee.id == Dispute.employee_id)
        .where(
            sa.or_(
                visibility(user).condition(Employee.department_id, Dispute.employee_id),
                Dispute.id.in_(waiting),
            )
        )
    )


def dispute_objects(session: Session, rows, user: User, today: dt.date | None = None) -> list[dict]:
    """Each (Dispute, employee code, employee name) row as a plain object, with what `user` may
    do with it now; in a handful of queries, whatever the number of rows."""
    rows = list(rows)
    if not rows:
        return []
    user_ids = {i for dispute, *_ in rows for i in (dispute.raised_by, dispute.resolved_by, dispute.on_behalf_of) if i}
    logins = dict(session.execute(sa.select(User.id, User.login).where(User.id.in_(sorted(user_ids)))).all())
    reviews = {
        review.id: review
        for review in session.scalars(
            sa.select(Review).where(Review.id.in_(sorted({dispute.review_id for dispute, *_ in rows})))
        )
    }
    definitions: dict[tuple[int, str], dict] = {}
    directory = Directory.load(session)
    stood_in_for = delegators(session, user.id, today or dt.date.today())
    objects = []
    for dispute, code, name in rows:
        review = reviews[dispute.review_id]
        key = (review.version_number, review.template)
        if key not in definitions:
            definitions[key] = item_definitions(version_config(session, review.version_number), review.template)
        definition = definitions[key].get(dispute.item, {})
        resolvable = dispute.state == "open" and resolving_authority(dispute, user, directory, stood_in_for)[0]
        objects.append(
            {
                "id": dispute.id,
                "period": dispute.period,
                "employee": code,
                "employee_name": name,
                "item": dispute.item,
                "item_label": definition.get("label"),
                "item_kind": definition.get("kind", "kpi"),
                "points_raised": dispute.points_raised,
                "review_state": dispute.review_state,
                "reason": dispute.reason,
                "raised_by": logins.get(dispute.raised_by),
                "raised_at": dispute.raised_at,
                "state": dispute.state,
                "routed_to": dispute.routed_to,
                "resolved_by": logins.get(dispute.resolved_by),
                "on_behalf_of": logins.get(dispute.on_behalf_of),
                "resolved_at": dispute.resolved_at,
                "resolution": dispute.resolution,
                "correction": dispute.correction,
                "may_resolve": resolvable,
                "may_withdraw": dispute.state == "open" and user.employee_id == dispute.employee_id,
            }
        )
    return objects


def disputes_of_scorecard(session: Session, period: str, employee_id: int, user: User) -> list[dict]:
    """Every dispute on one scorecard, newest first (the caller has checked the user may see it)."""
    rows = session.execute(
        sa.select(Dispute, Employee.code, Employee.name)
        .join(Employee, Employee.id == Dispute.employee_id)
        .where(Dispute.period == period, Dispute.employee_id == employee_id)
        .order_by(Dispute.raised_at.desc(), Dispute.id.desc())
    ).all()
    return dispute_objects(session, rows, user)
