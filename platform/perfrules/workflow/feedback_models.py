"""Peer feedback (同事评价): a colleague asked for their view of an employee's period, through a
form the template's manual item names (`filled_by: peer`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, JSONType

#: proposed: suggested by the employee, not yet asked (the peer does not see it);
#: requested: asked, nothing saved yet; draft: answers saved, not counted; submitted: counted in
#: the item's points (may be submitted again while the review is open); declined: with a reason
FEEDBACK_STATES = ("proposed", "requested", "draft", "submitted", "declined")


class FeedbackRequest(Base):
    """One colleague's feedback on one employee's scorecard of one period, through one form."""

    __tablename__ = "feedback_requests"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id", "form", "peer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    #: whose scorecard the feedback is about
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    form: Mapped[str] = mapped_column(sa.String(64))
    #: the colleague asked (a user linked to an employee)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the employee's user, when they proposed this colleague
    proposed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the manager, HR user or administrator who asked (None while only proposed)
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(sa.String(16))
    values: Mapped[dict] = mapped_column(JSONType, default=dict)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: a reminder for the peer; answers are still taken after it, while the review is open
    due_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    requested_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
