"""The outbox: notifications sent through external channels after their transaction committed.

For each active channel, `deliver_pending` first files a pending delivery for every notification
it has not seen (written since the channel was first active, and in the last `WINDOW`: a channel
switched on, or a scheduler started after days away, does not send old news). It then claims a
batch of pending deliveries that are due — pushing their next attempt ahead by `LEASE` in the
same statement, so that a second scheduler process skips them, and a sender that died mid-batch
is retried once the lease ends — sends them outside any transaction, and records each outcome:
sent; pending again after a back-off; failed after `MAX_ATTEMPTS`; skipped when the recipient
cannot be reached through that channel. One failing message or channel does not stop the rest.

Each claim and each record reads the clock afresh (`clock`, the real time unless a test gives
another): a call that runs for long — slow batches one after another — still writes leases and
back-offs that lie ahead, so another scheduler cannot claim what this one is sending.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ..db.bulk import insert_unless_present
from ..org.models import Employee, User
from . import utc
from .channels import Channel, Outgoing, Undeliverable
from .messages import language_of, render
from .models import Notification, NotificationChannel, NotificationDelivery

log = logging.getLogger("perfrules.notify")

MAX_ATTEMPTS = 5
#: the wait after each failed attempt before the next one
BACK_OFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
LEASE = dt.timedelta(minutes=30)
WINDOW = dt.timedelta(days=2)
BATCH = 100
#: deliveries per channel in one call; the rest wait for the next (the scheduler's next look)
LIMIT = 1000
ERROR_LENGTH = 1000


@dataclass
class ChannelReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.skipped

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, {self.skipped} skipped"


@dataclass
class DeliveryReport:
    channels: dict[str, ChannelReport] = field(default_factory=dict)

    def handled(self) -> int:
        return sum(report.handled() for report in self.channels.values())


#: what answers the time, in UTC, whenever asked
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def clock_from(start: dt.datetime) -> Clock:
    """A clock that reads `start` now and moves on with the real time from there (for a caller
    that was handed a time, such as a test's tick)."""
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


def _file_deliveries(session: Session, channel: str, now: dt.datetime) -> None:
    """A pending delivery through `channel` for each recent notification that has none."""
    session.execute(insert_unless_present(session, NotificationChannel).values(name=channel, active_since=now))
    first_active = session.scalar(
        sa.select(NotificationChannel.active_since).where(NotificationChannel.name == channel)
    )
    assert first_active is not None, f"channel {channel}: its row is there (inserted just above, unless it was)"
    active_since = utc(first_active)
    already = sa.exists().where(
        NotificationDelivery.notification_id == Notification.id, NotificationDelivery.channel == channel
    )
    unseen = sa.select(
        Notification.id,
        sa.literal(channel),
        sa.literal("pending"),
        sa.literal(0),
        sa.literal(now, sa.DateTime(timezone=True)),
        sa.literal(now, sa.DateTime(timezone=True)),
    ).where(Notification.created_at >= max(active_since, now - WINDOW), ~already)
    session.execute(
        insert_unless_present(session, NotificationDelivery).from_select(
            ["notification_id", "channel", "state", "attempts", "next_attempt_at", "created_at"], unseen
        )
    )


def _claim(session: Session, channel: str, now: dt.datetime, size: int) -> list[int]:
    due = (
        sa.select(NotificationDelivery.id)
        .where(
            NotificationDelivery.channel == channel,
            NotificationDelivery.state == "pending",
            NotificationDelivery.next_attempt_at <= now,
        )
        .order_by(NotificationDelivery.id)
        .limit(size)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    # the condition is checked again under the row lock: a concurrent claimant's rows drop out
    return sorted(
        session.scalars(
            sa.update(NotificationDelivery)
            .where(
                NotificationDelivery.id.in_(ids),
                NotificationDelivery.state == "pending",
                NotificationDelivery.next_attempt_at <= now,
            )
            .values(attempts=NotificationDelivery.attempts + 1, next_attempt_at=now + LEASE)
            .returning(NotificationDelivery.id)
        )
    )


def _outgoing(session: Session, ids: list[int], base_url: str | None) -> tuple[list[Outgoing], dict[int, str]]:
    """The messages of the claimed deliveries, each in its recipient's language; and the
    deliveries that cannot go out at all (the recipient was deactivated), with the reason."""
    rows = session.execute(
        sa.select(
            NotificationDelivery.id, Notification, User.login, User.email, User.language, User.active, Employee.code
        )
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .outerjoin(Employee, Employee.id == Notification.employee_id)
        .where(NotificationDelivery.id.in_(ids))
        .order_by(NotificationDelivery.id)
    )
    messages, refused = [], {}
    for delivery_id, notification, login, email, preference, active, code in rows:
        if not active:
            refused[delivery_id] = f"user '{login}' is inactive"
            continue
        language = language_of(preference)
        subject, body = render(notification.kind, notification.params, language)
        link = notification.link
        if link and base_url:
            link = base_url.rstrip("/") + link
        messages.append(
            Outgoing(
                delivery_id=delivery_id,
                kind=notification.kind,
                login=login,
                email=email,
                language=language,
                subject=subject,
                body=body,
                link=link,
                period=notification.period,
                employee=code,
                params=notification.params,
                created_at=utc(notification.created_at),
            )
        )
    return messages, refused


def _send(name: str, channel: Channel, messages: list[Outgoing]) -> list[Exception | None]:
    """One result per message. A channel that raises has told nothing of its batch: each message
    is tried again. A channel that answers the wrong number of results keeps those it gave (in
    order): a message answered sent is never made failed, which would send it again."""
    try:
        results = list(channel.send(messages))
    except Exception as exc:  # a channel that breaks fails its batch, never the scheduler
        log.exception("channel %s failed", name)
        return [exc] * len(messages)
    if len(results) != len(messages):
        log.error("channel %s answered %s results for %s messages", name, len(results), len(messages))
        error = RuntimeError(f"channel {name} answered {len(results)} results for {len(messages)} messages")
        results = results[: len(messages)] + [error] * (len(messages) - len(results))
    return results


def _error_text(error: BaseException) -> str:
    return (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:ERROR_LENGTH]


def _record(
    session: Session, outcomes: dict[int, BaseException | None], now: dt.datetime, report: ChannelReport
) -> None:
    attempts = dict(
        session.execute(
            sa.select(NotificationDelivery.id, NotificationDelivery.attempts).where(
                NotificationDelivery.id.in_(list(outcomes))
            )
        ).all()
    )
    changes: list[dict[str, str | int | dt.datetime | None]] = []
    for delivery_id, error in outcomes.items():
        change: dict[str, str | int | dt.datetime | None] = {
            "delivery_id": delivery_id,
            "sent_at": None,
            "last_error": None,
            "next_attempt_at": now,
        }
        if error is None:
            change["state"], change["sent_at"] = "sent", now
            report.sent += 1
        elif isinstance(error, Undeliverable):
            change["state"], change["last_error"] = "skipped", _error_text(error)
            report.skipped += 1
        elif attempts[delivery_id] >= MAX_ATTEMPTS:
            change["state"], change["last_error"] = "failed", _error_text(error)
            report.failed += 1
        else:
            wait = BACK_OFF[min(attempts[delivery_id], len(BACK_OFF)) - 1]
            change.update(state="pending", last_error=_error_text(error), next_attempt_at=now + wait)
            report.retrying += 1
        changes.append(change)
    table = cast(sa.Table, NotificationDelivery.__table__)  # a declarative class's table is a Table
    session.connection().execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("delivery_id"))
        .values(
            state=sa.bindparam("state"),
            sent_at=sa.bindparam("sent_at"),
            last_error=sa.bindparam("last_error"),
            next_attempt_at=sa.bindparam("next_attempt_at"),
        ),
        changes,
    )


def deliver_pending(
    sessions: sessionmaker,
    channels: Mapping[str, Channel],
    *,
    clock: Clock | None = None,
    base_url: str | None = None,
    limit: int = LIMIT,
) -> DeliveryReport:
    """Send what is due through each active channel; `sessions` must write. Call it after the
    transactions that notified have committed (the scheduler does, at every look). `clock` is
    read afresh for each claim and each record (the real time unless given)."""
    clock = clock or _now
    report = DeliveryReport()
    for name, channel in channels.items():
        outcome = report.channels.setdefault(name, ChannelReport())
        with sessions() as session, session.begin():
            _file_deliveries(session, name, clock())
        handled = 0
        while handled < limit:
            with sessions() as session, session.begin():
                ids = _claim(session, name, clock(), min(BATCH, limit - handled))
                if not ids:
                    break
                messages, refused = _outgoing(session, ids, base_url)
            handled += len(ids)
            results = _send(name, channel, messages) if messages else []
            outcomes: dict[int, BaseException | None] = {
                delivery_id: Undeliverable(reason) for delivery_id, reason in refused.items()
            }
            outcomes.update({message.delivery_id: result for message, result in zip(messages, results)})
            with sessions() as session, session.begin():
                _record(session, outcomes, clock(), outcome)  # after the send: its back-offs lie ahead
    return report


@dataclass
class OutboxSummary:
    #: channel → state → count
    counts: dict[str, dict[str, int]]
    #: the latest failed deliveries: (channel, login, kind, attempts, last error, when filed)
    failures: list[tuple]


def summary(session: Session, failures: int = 10) -> OutboxSummary:
    counts: dict[str, dict[str, int]] = {}
    for channel, state, count in session.execute(
        sa.select(NotificationDelivery.channel, NotificationDelivery.state, sa.func.count()).group_by(
            NotificationDelivery.channel, NotificationDelivery.state
        )
    ):
        counts.setdefault(channel, {})[state] = count
    latest = session.execute(
        sa.select(
            NotificationDelivery.channel,
            User.login,
            Notification.kind,
            NotificationDelivery.attempts,
            NotificationDelivery.last_error,
            NotificationDelivery.created_at,
        )
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(NotificationDelivery.state == "failed")
        .order_by(NotificationDelivery.id.desc())
        .limit(failures)
    ).all()
    return OutboxSummary(counts, [tuple(row) for row in latest])


def retry_failed(session: Session, channel: str | None = None, now: dt.datetime | None = None) -> int:
    """Failed deliveries made pending again with a fresh set of attempts; how many."""
    condition = NotificationDelivery.state == "failed"
    if channel is not None:
        condition = sa.and_(condition, NotificationDelivery.channel == channel)
    # an UPDATE's result is a CursorResult, which counts the rows it matched
    result = cast(
        sa.CursorResult[Any],
        session.execute(
            sa.update(NotificationDelivery)
            .where(condition)
            .values(state="pending", attempts=0, next_attempt_at=now or _now())
        ),
    )
    return result.rowcount
