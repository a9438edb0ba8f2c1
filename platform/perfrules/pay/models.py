"""Tables pay runs write: the run, its lines (one amount each, rounded once), the credits a line
was computed from (each record that counted, with the amount it brought), and the awards people
ask for by hand."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base, BigIntKey, JSONType
from ..org.models import Employee

PAY_RUN_STATUSES = ("succeeded", "failed")
#: what a line is. earned: a component's rule; clawback: a refund taking back part of an earned
#: line; hold: the share of an earned line kept back; release: a hold paid out; award: a manual
#: award; draw, guarantee: a top-up to the plan's draw, recoverable or not; recovery: a recoverable
#: draw taken back from earnings above it; carried_in, carried_out: a negative month moved on
LINE_KINDS = (
    "earned",
    "clawback",
    "hold",
    "release",
    "award",
    "draw",
    "guarantee",
    "recovery",
    "carried_in",
    "carried_out",
)
#: withdrawn: approved, then taken back before any run paid it
AWARD_STATUSES = ("requested", "approved", "rejected", "withdrawn")


class PayRun(Base):
    """One computation of the pay due for a month: every plan, or one."""

    __tablename__ = "pay_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the month computed, "2026-10": components are due at the end of their own period
    period: Mapped[str] = mapped_column(sa.String(8), index=True)
    plan: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    version_number: Mapped[int]
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    actor: Mapped[str] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: {"lines": n, "employees": n, "totals": {"CNY": "12000.00"}}
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: [{"plan", "component", "employee" or null, "message"}]
    errors: Mapped[list] = mapped_column(JSONType, default=list)


class PayLine(Base):
    """An amount due to one employee from one component of a plan, for one of its periods."""

    __tablename__ = "pay_lines"
    __table_args__ = (sa.UniqueConstraint("period", "plan", "component", "employee_id", "kind", "reference"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_runs.id"), index=True)
    #: the month of the run that computed it
    period: Mapped[str] = mapped_column(sa.String(8))
    #: the component's own period: "2026-10" for a monthly one, "2026-Q4" for a quarterly one
    pay_period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    plan: Mapped[str] = mapped_column(sa.String(64))
    component: Mapped[str] = mapped_column(sa.String(64))
    version_number: Mapped[int]
    #: minor units (分), rounded once, half up
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: what the rule was applied to, in minor units, when it is money
    base_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: the rate or coefficient applied, as exact decimal text ("0.05"), when one applies
    rate: Mapped[str | None] = mapped_column(sa.String(40))
    #: {"records": n, "dataset": slug} for credits, {"metric": slug}, {"scorecard": id}
    source: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: {"en": "...", "zh": "..."}: the calculation in words
    explanation: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: one of LINE_KINDS
    kind: Mapped[str] = mapped_column(sa.String(16), default="earned", server_default="earned")
    #: what the line answers, so that a month holds it once: the pay period of the line it claws
    #: back or releases ("2026-10"), "award 7" for an award, "" for the rest
    reference: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    #: the line a clawback takes back from, or a release pays out; past lines are never edited
    original_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pay_lines.id"), index=True)


class PayCredit(Base):
    """A record that counted towards a line, with the amount it brought (minor units)."""

    __tablename__ = "pay_credits"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_lines.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("records.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)


class PayAward(Base):
    """A special bonus (特别奖) asked for by hand with a reason: paid by the month's run once
    someone other than the person who asked has approved it."""

    __tablename__ = "pay_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    plan: Mapped[str] = mapped_column(sa.String(64))
    component: Mapped[str] = mapped_column(sa.String(64))
    #: the month it is paid in, "2026-11"
    period: Mapped[str] = mapped_column(sa.String(8), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(500))
    #: one of AWARD_STATUSES
    status: Mapped[str] = mapped_column(sa.String(16), default="requested")
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))

    #: loaded with the award: lists of awards show whose they are without a query each
    employee: Mapped[Employee] = relationship(lazy="joined", innerjoin=True)
