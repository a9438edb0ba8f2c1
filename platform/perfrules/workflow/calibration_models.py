"""Calibration (校准): a grade HR or an administrator set in place of the computed one.

One adjustment per employee and period: adjusting again replaces it (the audit log keeps the
before and after). It belongs to the employee and period, not to a scorecard row, so a rerun
keeps it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class GradeAdjustment(Base):
    __tablename__ = "grade_adjustments"
    __table_args__ = (sa.UniqueConstraint("period", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    #: the scorecard's grade when it was adjusted
    computed_grade: Mapped[str | None] = mapped_column(sa.String(8))
    adjusted_grade: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str] = mapped_column(sa.Text)
    adjusted_by: Mapped[str] = mapped_column(sa.String(64))
    adjusted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
