"""Notifications: tell people what waits for them and what happened to their scorecards.

`notify(session, recipients, kind, …)` writes one inbox row per recipient, in the caller's
transaction (nothing is committed here), so a change that rolls back notifies nobody;
`notify_many` writes many notices in one insert. External channels (e-mail, webhooks — plugins,
see `perfrules.plugins`) send them later, after commit: `outbox.deliver_pending`.

    notify(session, [user_id], "review.waiting", period="2026-10", employee_id=7,
           params={"employee": "王伟", "step": {"zh": "上级评分", "en": "Manager review"}},
           link="/scorecards/2026-10/E007")

The kind names its text in `messages.MESSAGES`; the text is rendered in each reader's language
when it is read or sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from sqlalchemy.orm import Session

from ..db.bulk import driver_insert, driver_timestamp
from .messages import MESSAGES
from .models import Notification

COLUMNS = ("user_id", "kind", "period", "employee_id", "params", "link", "created_at")
#: one notification's values for `COLUMNS`, in the driver's terms (`db.bulk`)
NotificationRow = tuple[int, str, str | None, int | None, str, str | None, str | dt.datetime]


@dataclass(frozen=True)
class Notice:
    """One thing to tell a set of users."""

    recipients: frozenset[int]
    kind: str
    period: str | None = None
    employee_id: int | None = None
    params: dict = field(default_factory=dict)
    link: str | None = None


def utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC time (SQLite gives them back without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_app_path(link: str) -> bool:
    """A path inside the web app: never another site (`//host`, and `/\\host`, which browsers
    read the same way)."""
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


def _check(notice: Notice) -> None:
    if notice.kind not in MESSAGES:
        raise ValueError(f"unknown notification kind '{notice.kind}': add its text to notify.messages.MESSAGES")
    if notice.link is not None and not is_app_path(notice.link):
        raise ValueError(f"a notification links to a path inside the app, not {notice.link!r}")


def notify(
    session: Session,
    recipients: Iterable[int],
    kind: str,
    *,
    period: str | None = None,
    employee_id: int | None = None,
    params: dict | None = None,
    link: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Tell each of `recipients` (user ids) about `kind`; how many notifications were written."""
    return notify_many(session, [Notice(frozenset(recipients), kind, period, employee_id, params or {}, link)], now)


def notify_many(session: Session, notices: Iterable[Notice], now: dt.datetime | None = None) -> int:
    """Write every notice, one row per recipient, in one insert; nothing is committed."""
    connection = session.connection()
    created = driver_timestamp(connection, utc(now or _now()))
    rows: list[NotificationRow] = []
    for notice in notices:
        _check(notice)
        params = orjson.dumps(notice.params).decode()
        rows.extend(
            (user_id, notice.kind, notice.period, notice.employee_id, params, notice.link, created)
            for user_id in sorted(notice.recipients)
        )
    if not rows:
        return 0
    session.flush()  # rows the caller added through the session go first (foreign keys)
    return driver_insert(connection, Notification.__tablename__, COLUMNS, rows)


__all__ = ["Notice", "is_app_path", "notify", "notify_many", "utc"]
