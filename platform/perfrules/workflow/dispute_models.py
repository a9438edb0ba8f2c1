"""Disputes (申诉): an employee contests one item of their approved scorecard.

A dispute belongs to the employee, the period and the item's name, like the review it is
raised on, so a rescore after an accepted correction keeps it. At most one dispute per item is
open at a time (a partial unique index); resolved ones stay as the history the employee sees.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, JSONType

#: open: waiting for its resolver; accepted: corrected, the review reopened; rejected: kept as
#: it was, with the reason; withdrawn: the employee took it back before it was resolved
DISPUTE_STATES = ("open", "accepted", "rejected", "withdrawn")

#: who resolves it: the employee's manager, or HR (and administrators, always)
DISPUTE_ROUTES = ("manager", "hr")


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        sa.Index(
            "uq_disputes_open_item",
            "period",
            "employee_id",
            "item",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    #: the scorecard item's name, as in the trace and the template
    item: Mapped[str] = mapped_column(sa.String(64))
    #: the item's points and the review's state when raised, so the history says what was contested
    points_raised: Mapped[float | None] = mapped_column(sa.Float)
    review_state: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    raised_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    routed_to: Mapped[str] = mapped_column(sa.String(16))
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the user a delegate resolved it for
    on_behalf_of: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    #: what an acceptance changed: {"kind": "manual", "points": 80.0, "previous": 60.0} or
    #: {"kind": "data", "note": "..."}
    correction: Mapped[dict | None] = mapped_column(JSONType)
