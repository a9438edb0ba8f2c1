"""Scoring one employee again, for what changes one person's inputs between runs: a submitted
form, a peer's answers, an accepted dispute's correction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.validation import Config
from ..formula import FunctionRegistry
from ..org.models import Department, Employee
from .models import Scorecard
from .periods import Period
from .runs import evaluate, rerank


def rescore_employee(
    session: Session, period: str, employee_id: int, config: Config, functions: FunctionRegistry
) -> Scorecard | None:
    """Evaluate one employee again (with their template and department in scope, so team
    metrics see the same people) and rewrite their scorecard of `period` in place, then rank the
    period again. A locked scorecard, or none, is left alone: None. Nothing is committed."""
    card = session.scalar(sa.select(Scorecard).where(Scorecard.period == period, Scorecard.employee_id == employee_id))
    if card is None or card.locked:
        return None
    department = session.scalar(
        sa.select(Department.code)
        .join(Employee, Employee.department_id == Department.id)
        .where(Employee.id == employee_id)
    )
    evaluation = evaluate(
        session, config, functions, Period.parse(period), templates=[card.template], department=department
    )
    result = next((c for c in evaluation.cards if c.employee_id == employee_id), None)
    if result is None:
        return None
    card.department_id, card.total, card.grade = result.department_id, result.total, result.grade
    card.reporting_line = evaluation.reporting_lines[employee_id]
    card.error, card.items = result.error, result.items
    session.flush()
    rerank(session, period)
    session.refresh(card)
    return card
