"""Notifications: the in-app inbox, and the outbox that carries them to external channels.

A `Notification` is one message to one user: what happened (`kind`), about whose scorecard of
which period, with the parameters its text is rendered from in the reader's language, and a link.
The rows themselves are the inbox.

A `NotificationDelivery` is one notification on its way through one external channel (e-mail, a webhook).
Deliveries are made after the notification's transaction has committed, so a rolled-back change
sends nothing; each is retried a bounded number of times and its last error kept. A
`NotificationChannel` row records when a channel was first seen active, so switching a channel
on does not send it every notification ever written.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, JSONType

#: pending: to be sent (again, from `next_attempt_at`); sent; failed: every attempt failed;
#: skipped: the channel cannot reach this recipient (no e-mail address), never retried
DELIVERY_STATES = ("pending", "sent", "failed", "skipped")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the recipient; deleting a user deletes their inbox
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: a key of notify.messages.MESSAGES: review.waiting, review.overdue, …
    kind: Mapped[str] = mapped_column(sa.String(64))
    period: Mapped[str | None] = mapped_column(sa.String(8))
    #: whose scorecard it is about
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    #: what the message's text is rendered from: plain values, or labels as {zh: …, en: …}
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: a path inside the web app (/scorecards/2026-10/E001)
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
        sa.Index("ix_notification_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: a pending delivery is not tried before this; while one is being sent it is pushed ahead,
    #: so a second scheduler does not send it too, and a sender that died is retried later
    next_attempt_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class NotificationChannel(Base):
    __tablename__ = "notification_channels"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: notifications written before this are not sent through the channel
    active_since: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
