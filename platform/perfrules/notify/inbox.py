"""The in-app inbox: a user's own notifications, read in their language, marked read. Every
query here is scoped to one user: nobody reaches another's notifications by id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..org.models import Employee
from .messages import render
from .models import Notification


@dataclass(frozen=True)
class InboxItem:
    notification: Notification
    employee_code: str | None
    subject: str
    body: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _mine(user_id: int, unread_only: bool):
    condition = Notification.user_id == user_id
    return sa.and_(condition, Notification.read_at.is_(None)) if unread_only else condition


def count(session: Session, user_id: int, unread_only: bool = False) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(Notification).where(_mine(user_id, unread_only))
    ).scalar_one()


def items(
    session: Session, user_id: int, language: str, *, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> list[InboxItem]:
    """The user's notifications, newest first, rendered in `language` (zh or en)."""
    rows = session.execute(
        sa.select(Notification, Employee.code)
        .outerjoin(Employee, Employee.id == Notification.employee_id)
        .where(_mine(user_id, unread_only))
        .order_by(Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        InboxItem(notification, code, *render(notification.kind, notification.params, language))
        for notification, code in rows
    ]


def item(session: Session, user_id: int, notification_id: int, language: str) -> InboxItem | None:
    """One of the user's notifications; None for one that is not theirs (or not there)."""
    row = session.execute(
        sa.select(Notification, Employee.code)
        .outerjoin(Employee, Employee.id == Notification.employee_id)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
    ).first()
    if row is None:
        return None
    notification, code = row
    return InboxItem(notification, code, *render(notification.kind, notification.params, language))


def mark_read(
    session: Session, user_id: int, notification_id: int | None = None, now: dt.datetime | None = None
) -> int:
    """Mark one of the user's notifications read (or all of them, without an id); how many
    changed. Nothing is committed."""
    condition = _mine(user_id, unread_only=True)
    if notification_id is not None:
        condition = sa.and_(condition, Notification.id == notification_id)
    # an UPDATE's result is a CursorResult, which counts the rows it matched
    result = cast(
        sa.CursorResult[Any], session.execute(sa.update(Notification).where(condition).values(read_at=now or _now()))
    )
    return result.rowcount
