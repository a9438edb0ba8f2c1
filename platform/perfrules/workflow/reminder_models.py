"""Deadline reminders sent, one row each: the claim that makes a reminder go out once.

A reminder is claimed per review, step entry (`Review.entries`: a step entered again after a
rejection is a new entry) and kind, a unique key, so that two scheduler processes finding the same
reminder due cannot both send it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base

#: due_soon: the deadline is near; overdue: it has passed
REMINDER_KINDS = ("due_soon", "overdue")


class ReviewReminder(Base):
    __tablename__ = "review_reminders"
    __table_args__ = (sa.UniqueConstraint("review_id", "step_entry", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    step_entry: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    sent_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
