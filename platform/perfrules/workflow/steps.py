"""What every part of the lifecycle shares: the refusal, a review's configuration and flow, and
which step of a flow applies to a scorecard.

Everything else in `workflow/` builds on this module; it imports none of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.models import ConfigVersion
from ..config.validation import SCORECARD_NAMES, employee_names
from ..engine.models import Scorecard
from ..formula import BOOLEAN, CompiledFormula, FunctionRegistry, compile_formula
from ..org.models import Employee
from .actors import Directory
from .models import Review

#: who may lock and reopen
PRIVILEGED = ("admin", "hr")


class WorkflowError(Exception):
    """The action is not allowed: nothing changed."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def version_config(session: Session, version_number: int) -> dict:
    """The configuration of a published version (empty when there is none)."""
    return session.scalar(sa.select(ConfigVersion.snapshot).where(ConfigVersion.number == version_number)) or {}


def flow_of(session: Session, review: Review) -> list[dict]:
    """The steps of the review's flow, as its version defines them."""
    return (
        version_config(session, review.version_number).get("approval_flows", {}).get(review.flow, {}).get("steps", [])
    )


def scored_by(session: Session, review: Review) -> tuple[int, str]:
    """The configuration version and template the review's scorecard is scored by now, and so
    whose items and forms it has: a rerun after a publish moves an unlocked scorecard to the new
    version, while its review keeps the flow of the version it started with. The review's own
    when the scorecard has none."""
    row = session.execute(
        sa.select(Scorecard.version_number, Scorecard.template).where(
            Scorecard.period == review.period, Scorecard.employee_id == review.employee_id
        )
    ).first()
    if row is None or row.version_number is None:
        return review.version_number, review.template
    return row.version_number, row.template


def scorecard_of(session: Session, review: Review) -> Scorecard | None:
    return session.scalar(
        sa.select(Scorecard).where(Scorecard.period == review.period, Scorecard.employee_id == review.employee_id)
    )


class Conditions:
    """Step conditions of one configuration version, each compiled once."""

    def __init__(self, snapshot: dict, functions: FunctionRegistry | None):
        self.catalogue = {**SCORECARD_NAMES, **employee_names(snapshot)}
        self.functions = functions
        self.compiled: dict[str, CompiledFormula] = {}

    def get(self, text: str) -> CompiledFormula:
        if text not in self.compiled:
            self.compiled[text] = compile_formula(text, self.catalogue, functions=self.functions, expect=BOOLEAN)
        return self.compiled[text]


class CardFigures(Protocol):
    """What step conditions read of a scorecard: a `Scorecard`, or a row of these columns (opening
    a company's reviews does not load its traces)."""

    @property
    def total(self) -> float | None: ...
    @property
    def grade(self) -> str | None: ...
    @property
    def rank_company(self) -> int | None: ...
    @property
    def rank_department(self) -> int | None: ...


class EmployeeFacts(Protocol):
    """What step conditions and actors read of an employee: an `Employee`, or a row of these
    columns."""

    @property
    def id(self) -> int: ...
    @property
    def attributes(self) -> dict: ...
    @property
    def hire_date(self) -> dt.date | None: ...


@dataclass(frozen=True)
class StepContext:
    """What deciding a review's next step needs: its scorecard, employee and configuration."""

    directory: Directory
    conditions: Conditions
    card: CardFigures | None
    employee: EmployeeFacts

    def holds(self, step: dict) -> bool:
        if not step.get("condition"):
            return True
        formula = self.conditions.get(step["condition"])
        card, employee = self.card, self.employee
        row = {
            "total": card.total if card else None,
            "grade": card.grade if card else None,
            "company_rank": card.rank_company if card else None,
            "department_rank": card.rank_department if card else None,
            **{f"employee.{key}": value for key, value in (employee.attributes or {}).items()},
            "employee.tenure_months": tenure_months(employee.hire_date),
        }
        return formula.evaluate(row).value is True

    def next_step(self, steps: list[dict], start: int) -> str | None:
        """The first step from `start` on whose condition holds and that names somebody."""
        for step in steps[start:]:
            if self.holds(step) and not self.directory.names_nobody(step["actor"], self.employee.id):
                return step["name"]
        return None


def tenure_months(hired: dt.date | None) -> float | None:
    if hired is None:
        return None
    today = dt.date.today()
    return float((today.year - hired.year) * 12 + today.month - hired.month)


@dataclass(frozen=True)
class ReviewContext(StepContext):
    """A review's context with its scorecard and employee as loaded models, for an action that
    changes the scorecard (locks it, unlocks it) or tells the employee."""

    card: Scorecard | None
    employee: Employee


def step_context(session: Session, review: Review, functions: FunctionRegistry | None) -> ReviewContext:
    employee = session.get(Employee, review.employee_id)
    # reviews.employee_id is a foreign key, and an employee with a scorecard cannot be deleted
    assert employee is not None, f"review {review.id}: its employee is in the database"
    return ReviewContext(
        Directory.load(session),
        Conditions(version_config(session, review.version_number), functions),
        scorecard_of(session, review),
        employee,
    )


def enter_step(review: Review, step: str | None, at: dt.datetime) -> None:
    """Move the review to `step`, or to approved when there is none."""
    review.step = step
    review.state = "in_review" if step else "approved"
    review.path = [*review.path, step] if step else review.path
    review.entries = (review.entries or 0) + (1 if step else 0)
    review.step_started_at = at if step else None
    review.updated_at = at
