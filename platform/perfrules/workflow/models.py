"""Reviews: where each scorecard is in its approval flow, and every action taken on it.

A review belongs to an employee and a period, not to a scorecard row: a rerun replaces unlocked
scorecard rows, and the review goes on with the new numbers.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, JSONType

#: in_review: at `step` of the flow; approved: every step passed; locked: final, reruns keep it
REVIEW_STATES = ("in_review", "approved", "locked")


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    #: the approval flow and the published version it was read from
    flow: Mapped[str] = mapped_column(sa.String(64))
    version_number: Mapped[int]
    state: Mapped[str] = mapped_column(sa.String(16))
    #: the step being acted on (None once approved)
    step: Mapped[str | None] = mapped_column(sa.String(64))
    #: the steps entered so far, in order, so a rejection goes back to the one before
    path: Mapped[list] = mapped_column(JSONType, default=list)
    #: how many times a step has been entered: approvals count only for the current entry
    entries: Mapped[int] = mapped_column(default=0)
    step_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class ReviewAction(Base):
    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    #: the step acted on, and the review's entry count then (so approvals of an earlier pass
    #: through the same step do not count again)
    step: Mapped[str | None] = mapped_column(sa.String(64))
    step_entry: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(16))
    #: None for what the system did (a rerun withdrawing an approval: `workflow.reruns`)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the user a delegate acted for
    on_behalf_of: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


def approver(user_id: int | None, on_behalf_of: int | None) -> int:
    """Whose approval an `approve` action is: the user a delegate acted for, else the user who
    acted."""
    who = on_behalf_of or user_id
    # only what the system did has no user (`workflow.reruns`), and the system never approves
    assert who is not None, "an approve action always has a user"
    return who


class Delegation(Base):
    """`user` lets `delegate` act in their place from `starts_on` to `ends_on` (inclusive)."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date] = mapped_column(sa.Date)
    created_by: Mapped[str] = mapped_column(sa.String(64))


#: draft: saved, may change; submitted: counted (a manual item's points), may still be resubmitted
#: while its step is current
FORM_STATES = ("draft", "submitted")


class FormResponse(Base):
    """One appraisal form filled in for one employee's scorecard of one period."""

    __tablename__ = "form_responses"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id", "form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    #: whose scorecard the form is about
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    form: Mapped[str] = mapped_column(sa.String(64))
    filled_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    values: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(sa.String(16))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
