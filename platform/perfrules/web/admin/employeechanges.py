"""Changing an employee in the console, with the checks orgchanges.py makes for every record of
the organisation. A change of department, manager or role, a departure or a rehire is recorded
in the employee's spans of employment (`org.history`) as of the day the form gives."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...audit import record_change
from ...data.models import Record
from ...engine.models import ManualValue, Scorecard
from ...org.history import LatestSpan, Placement, SpanError, change_refusal, follow, spans_of, start_history
from ...org.models import Department, Employee, EmployeeSpan, Role, User
from .orgchanges import _count, _in_use_by_config, _jsonable, _new_code_problems, _refuse, loops


def employee_state(session: Session, employee: Employee) -> dict:
    """An employee as the audit log and the importer describe one: by codes."""
    department = session.scalar(sa.select(Department.code).where(Department.id == employee.department_id))
    role = session.scalar(sa.select(Role.code).where(Role.id == employee.role_id)) if employee.role_id else None
    manager = (
        session.scalar(sa.select(Employee.code).where(Employee.id == employee.manager_id))
        if employee.manager_id
        else None
    )
    return _jsonable(
        {
            "code": employee.code,
            "name": employee.name,
            "department": department,
            "role": role,
            "manager": manager,
            "hire_date": employee.hire_date,
            "active": employee.active,
            "attributes": dict(employee.attributes or {}),
        }
    )


def employee_managers(session: Session) -> dict[str, str | None]:
    codes = dict(session.execute(sa.select(Employee.id, Employee.code)).all())
    return {
        code: codes.get(manager_id) if manager_id is not None else None
        for code, manager_id in session.execute(sa.select(Employee.code, Employee.manager_id))
    }


def save_employee(
    session: Session,
    employee: Employee | None,
    *,
    code: str,
    name: str,
    department: str | None,
    role: str | None,
    manager: str | None,
    hire_date: dt.date | None,
    active: bool,
    attributes: dict,
    actor: str,
    effective: dt.date | None = None,
) -> Employee:
    """Create (employee None) or change an employee. A change of department, manager or role, a
    departure (active off) or a rehire takes effect on `effective` (default today), in their
    spans of employment (`org.history`); a new employee's first span starts on their hire date."""
    effective = effective or dt.date.today()
    code = employee.code if employee is not None else (code or "").strip()
    name = (name or "").strip()
    department, role, manager = ((value or "").strip() or None for value in (department, role, manager))
    problems = [] if employee is not None else _new_code_problems(session, code, Employee.code, "employee")
    if not name:
        problems.append(("name", "a name is required"))
    elif len(name) > 200:
        problems.append(("name", "at most 200 characters"))
    department_id = role_id = manager_id = None
    if not department:
        problems.append(("department", "a department is required"))
    else:
        department_id = session.scalar(sa.select(Department.id).where(Department.code == department))
        if department_id is None:
            problems.append(("department", f"unknown department '{department}'"))
    if role:
        role_id = session.scalar(sa.select(Role.id).where(Role.code == role))
        if role_id is None:
            problems.append(("role", f"unknown role '{role}'"))
    managers = employee_managers(session)
    if manager:
        manager_id = session.scalar(sa.select(Employee.id).where(Employee.code == manager))
        if manager == code:
            problems.append(("manager", "an employee cannot be their own manager"))
        elif manager_id is None:
            problems.append(("manager", f"unknown employee '{manager}'"))
    if not isinstance(attributes, dict):
        problems.append(("attributes", "must be a mapping of names to values"))
    else:
        for key, value in attributes.items():
            if not isinstance(key, str) or not key.strip():
                problems.append(("attributes", "every attribute needs a name"))
            elif value is not None and not isinstance(value, (str, int, float, bool)):
                problems.append(("attributes", f"'{key}': a value is a number, a text, true or false"))
    if not problems:
        managers[code] = manager
        for chain in loops(managers):
            if code in chain:
                problems.append(("manager", "managers form a loop: " + " → ".join(chain)))
    placement = Placement(department_id, manager_id, role_id) if active and department_id is not None else None
    moved = employee is not None and placement != (Placement.of(employee) if employee.active else None)
    if moved and not problems:
        assert employee is not None
        spans = spans_of(session, employee.id)
        latest = LatestSpan(spans[-1].starts_on, spans[-1].ends_on) if spans else None
        refusal = change_refusal(latest, effective, placement is not None)
        if refusal is not None:
            problems.append(("effective", refusal))
    _refuse(*problems)
    fields = {
        "name": name,
        "department_id": department_id,
        "role_id": role_id,
        "manager_id": manager_id,
        "hire_date": hire_date,
        "active": bool(active),
        "attributes": attributes,
    }
    if employee is None:
        employee = Employee(code=code, **fields)
        session.add(employee)
        session.flush()
        start_history(session, employee)
        before = None
    else:
        before = employee_state(session, employee)
        for key, value in fields.items():
            setattr(employee, key, value)
    session.flush()
    if moved:
        try:
            follow(session, employee.id, effective, placement, starts_on=effective)
        except SpanError as exc:  # checked above; a clash found only now is still said, never a crash
            _refuse(("effective", str(exc)))
    after = employee_state(session, employee)
    if before != after:
        if moved:
            after["effective"] = effective.isoformat()
        record_change(session, actor=actor, action="org.save", kind="employees", key=code, before=before, after=after)
    return employee


def delete_employee(session: Session, employee: Employee, actor: str) -> None:
    problems = []
    reports = session.scalars(sa.select(Employee.code).where(Employee.manager_id == employee.id)).all()
    if reports:
        problems.append(
            (
                "",
                f"{len(reports)} employee(s) report to '{employee.code}' "
                f"({', '.join(reports[:5])}{' …' if len(reports) > 5 else ''}): give them another manager first",
            )
        )
    headed = session.scalars(
        sa.select(Department.code).where(Department.head.has(Employee.id == employee.id)).order_by(Department.code)
    ).all()
    if headed:
        # refused rather than left to the database, which would quietly leave the departments headless
        problems.append(
            ("", f"'{employee.code}' heads department(s) {', '.join(headed)}: give them another head first")
        )
    if not reports and _count(session, EmployeeSpan.manager_id, employee.id):
        problems.append(
            ("", f"people reported to '{employee.code}': set them inactive instead, so their history stays")
        )
    user = session.scalar(sa.select(User.login).where(User.employee_id == employee.id))
    if user is not None:
        problems.append(("", f"user '{user}' signs in as '{employee.code}': unlink or delete the user first"))
    history = [
        what
        for what, column in (
            ("CRM records", Record.owner_id),
            ("scorecards", Scorecard.employee_id),
            ("ratings", ManualValue.employee_id),
        )
        if _count(session, column, employee.id)
    ]
    if history:
        problems.append(
            ("", f"'{employee.code}' has {', '.join(history)}: set them inactive instead, so their history stays")
        )
    for use in _in_use_by_config(session, employee=employee.code):
        problems.append(("", f"the draft configuration names employee '{employee.code}' at {use}"))
    _refuse(*problems)
    before = employee_state(session, employee)
    session.delete(employee)
    session.flush()
    record_change(session, actor=actor, action="org.remove", kind="employees", key=before["code"], before=before)
