"""The organisation's history: each employee's spans of employment (`EmployeeSpan`), kept as the
organisation import and the console record changes, each as of an effective date.

A change of department, manager or role closes the current span the day before it takes effect
and opens the next on it; a departure closes the current span; a rehire opens a new one. Spans of
one employee never overlap, and a change cannot be dated before the span it would close begins:
the past is not rewritten by a later change. A change dated on the very day the current span
begins replaces that span (it never was otherwise), and a departure dated so removes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Employee, EmployeeSpan

#: where an employee's first span starts when their hire date is unknown: before any record
#: (the migration that created the spans backfilled them so)
FAR_PAST = dt.date(1900, 1, 1)


class SpanError(ValueError):
    """A span that cannot be recorded as asked; the message says why, in the user's terms."""


@dataclass(frozen=True)
class Placement:
    """Where an employee works: department, manager and role (ids)."""

    department_id: int
    manager_id: int | None
    role_id: int | None

    @classmethod
    def of(cls, holder: Employee | EmployeeSpan) -> Placement:
        return cls(holder.department_id, holder.manager_id, holder.role_id)


@dataclass(frozen=True)
class LatestSpan:
    starts_on: dt.date
    ends_on: dt.date | None


def start_history(session: Session, employee: Employee) -> None:
    """A new employee's first span, when they are active: from their hire date (unknown: FAR_PAST,
    as the migration backfilled), where the employee row places them. The caller flushes."""
    if employee.active:
        session.add(
            EmployeeSpan(
                employee_id=employee.id,
                starts_on=employee.hire_date or FAR_PAST,
                department_id=employee.department_id,
                manager_id=employee.manager_id,
                role_id=employee.role_id,
            )
        )


def latest_spans(session: Session) -> dict[int, LatestSpan]:
    """Each employee's latest span (employee id → its dates), for checking many changes at once."""
    latest: dict[int, LatestSpan] = {}
    for employee_id, starts_on, ends_on in session.execute(
        sa.select(EmployeeSpan.employee_id, EmployeeSpan.starts_on, EmployeeSpan.ends_on).order_by(
            EmployeeSpan.employee_id, EmployeeSpan.starts_on
        )
    ):
        latest[employee_id] = LatestSpan(starts_on, ends_on)
    return latest


def change_refusal(latest: LatestSpan | None, effective: dt.date, employed: bool) -> str | None:
    """Why a change as of `effective` cannot be recorded after `latest` (None when it can);
    `employed`: whether the employee works after the change (False: a departure)."""
    if latest is None:
        return None
    if latest.ends_on is None and effective < latest.starts_on:
        return (
            f"effective {effective.isoformat()} is before the current span, which starts on "
            f"{latest.starts_on.isoformat()}: a change cannot be dated earlier"
        )
    if latest.ends_on is not None and employed and effective < latest.ends_on:
        return (
            f"a rehire effective {effective.isoformat()} is before the last span ends "
            f"({latest.ends_on.isoformat()}): spans of one employee cannot overlap"
        )
    return None


def spans_of(session: Session, employee_id: int) -> list[EmployeeSpan]:
    return list(
        session.scalars(
            sa.select(EmployeeSpan).where(EmployeeSpan.employee_id == employee_id).order_by(EmployeeSpan.starts_on)
        )
    )


def add_span(
    session: Session, employee_id: int, starts_on: dt.date, ends_on: dt.date | None, placement: Placement
) -> EmployeeSpan:
    """Record a span; SpanError if it is empty or overlaps one of the employee's spans."""
    if ends_on is not None and ends_on <= starts_on:
        raise SpanError(f"a span ends after it starts: {starts_on.isoformat()} to {ends_on.isoformat()}")
    clash = session.scalar(
        sa.select(EmployeeSpan)
        .where(
            EmployeeSpan.employee_id == employee_id,
            sa.or_(EmployeeSpan.ends_on.is_(None), EmployeeSpan.ends_on > starts_on),
            EmployeeSpan.starts_on < ends_on if ends_on is not None else sa.true(),
        )
        .limit(1)
    )
    if clash is not None:
        until = clash.ends_on.isoformat() if clash.ends_on else "now"
        raise SpanError(
            f"spans of one employee cannot overlap: {starts_on.isoformat()} to "
            f"{ends_on.isoformat() if ends_on else 'now'} overlaps {clash.starts_on.isoformat()} to {until}"
        )
    span = EmployeeSpan(
        employee_id=employee_id,
        starts_on=starts_on,
        ends_on=ends_on,
        department_id=placement.department_id,
        manager_id=placement.manager_id,
        role_id=placement.role_id,
    )
    session.add(span)
    session.flush()
    return span


def follow(
    session: Session, employee_id: int, effective: dt.date, placement: Placement | None, *, starts_on: dt.date
) -> bool:
    """Record that from `effective` the employee works in `placement` (None: does not work).
    An employee without any span gets a first one from `starts_on` (their first day) instead.
    True when the history changed; SpanError when the change is dated too early."""
    spans = spans_of(session, employee_id)
    latest = spans[-1] if spans else None
    if latest is None:
        if placement is None:
            return False
        add_span(session, employee_id, starts_on, None, placement)
        return True
    employed = latest.ends_on is None
    if placement == (Placement.of(latest) if employed else None):
        return False
    problem = change_refusal(LatestSpan(latest.starts_on, latest.ends_on), effective, placement is not None)
    if problem is not None:
        raise SpanError(problem)
    if employed and effective == latest.starts_on:
        if placement is None:
            session.delete(latest)
        else:
            latest.department_id, latest.manager_id, latest.role_id = (
                placement.department_id,
                placement.manager_id,
                placement.role_id,
            )
        session.flush()
        return True
    if employed:
        latest.ends_on = effective
        session.flush()
    if placement is not None:
        add_span(session, employee_id, effective, None, placement)
    return True
