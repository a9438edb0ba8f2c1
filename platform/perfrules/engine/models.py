"""Tables the engine writes: evaluation runs, scorecards, and the manual values items score from."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, BigIntKey, JSONType
from .shapes import ItemTrace, LeftOutEntry, RunCounts, RunErrorEntry, RunScope, RunStatus, RunTimings

RUN_STATUSES: tuple[RunStatus, ...] = ("running", "succeeded", "failed")


class EvaluationRun(Base):
    """One computation of scorecards for a period. `claim` is unique: a scheduled run claims
    `schedule:<slug>:<period>` so that two scheduler processes can never both run it."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8), index=True)
    status: Mapped[RunStatus] = mapped_column(sa.String(16))
    claim: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    schedule: Mapped[str | None] = mapped_column(sa.String(64))
    version_number: Mapped[int | None]
    version_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: what the run was asked to cover: {"templates": [...], "department": "..."}
    scope: Mapped[RunScope] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(sa.String(64))
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: {"employees": n, "scorecards": n, "failed": n, "skipped_locked": n, ...}
    counts: Mapped[RunCounts] = mapped_column(JSONType, default=dict)
    #: seconds by step: {"aggregate": s, "evaluate": s, "write": s, "total": s}
    timings: Mapped[RunTimings] = mapped_column(JSONType, default=dict)
    #: [{"employee": code or null, "item": key or null, "message": text}]
    errors: Mapped[list[RunErrorEntry]] = mapped_column(JSONType, default=list)
    #: the active employees in scope who got no scorecard, and why (`engine.templates.left_out_of_scope`)
    left_out: Mapped[list[LeftOutEntry]] = mapped_column(JSONType, default=list, server_default=sa.text("'[]'"))
    message: Mapped[str | None] = mapped_column(sa.Text)


class Scorecard(Base):
    """An employee's result for a period: the current one per (period, employee)."""

    __tablename__ = "scorecards"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_runs.id"), index=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    #: the employee's department when scored: its heads see the scorecard (`org.access`)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    #: the employee's managers up the chain when scored, "/7/3/": each of them sees the scorecard
    reporting_line: Mapped[str] = mapped_column(sa.Text, server_default="/")
    template: Mapped[str] = mapped_column(sa.String(64))
    version_number: Mapped[int | None]
    total: Mapped[float | None] = mapped_column(sa.Float)
    grade: Mapped[str | None] = mapped_column(sa.String(8))
    rank_department: Mapped[int | None]
    rank_company: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: the trace: one object per item (see engine.scorecards)
    items: Mapped[list[ItemTrace]] = mapped_column(JSONType)
    locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class ManualValue(Base):
    """A manual item's value (0–100 points) for an employee and period, imported until forms
    (the workflow) fill it in."""

    __tablename__ = "manual_values"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    item: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[float] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
