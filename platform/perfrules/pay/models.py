"""Tables pay runs write: the run, its lines (one amount each, rounded once) and the credits a
line was computed from (each record that counted, with the amount it brought)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, BigIntKey, JSONType

PAY_RUN_STATUSES = ("succeeded", "failed")


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
    __table_args__ = (sa.UniqueConstraint("period", "plan", "component", "employee_id"),)

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


class PayCredit(Base):
    """A record that counted towards a line, with the amount it brought (minor units)."""

    __tablename__ = "pay_credits"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_lines.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("records.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
