"""Who may see whose results. One answer for every door (REST API, pages, exports):

- admin, hr and auditor users see everyone;
- a manager sees the scorecards of their own department and every department below it;
- anyone linked to an employee sees their own.

A user with several roles sees the union. A manager user not linked to an employee manages no
department, so they see nothing but what their other roles allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Department, Employee, User

SEE_ALL_ROLES = frozenset({"admin", "hr", "auditor"})


@dataclass(frozen=True)
class Visibility:
    everyone: bool
    department_ids: frozenset[int]
    employee_id: int | None

    def condition(self, department_column: Any, employee_column: Any) -> sa.ColumnElement[bool]:
        """A SQL condition over a table's department and employee columns."""
        if self.everyone:
            return sa.true()
        allowed = []
        if self.department_ids:
            allowed.append(department_column.in_(sorted(self.department_ids)))
        if self.employee_id is not None:
            allowed.append(employee_column == self.employee_id)
        return sa.or_(*allowed) if allowed else sa.false()

    def allows(self, department_id: int, employee_id: int) -> bool:
        return self.everyone or department_id in self.department_ids or employee_id == self.employee_id


def department_subtree(session: Session, department_id: int) -> set[int]:
    """The department and every department below it."""
    children: dict[int | None, list[int]] = {}
    for child, parent in session.execute(sa.select(Department.id, Department.parent_id)):
        children.setdefault(parent, []).append(child)
    found, todo = set(), [department_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def visibility(session: Session, user: User) -> Visibility:
    roles = set(user.roles)
    if roles & SEE_ALL_ROLES:
        return Visibility(True, frozenset(), user.employee_id)
    departments: set[int] = set()
    if "manager" in roles and user.employee_id is not None:
        own_department = session.scalar(sa.select(Employee.department_id).where(Employee.id == user.employee_id))
        if own_department is not None:
            departments = department_subtree(session, own_department)
    return Visibility(False, frozenset(departments), user.employee_id)
