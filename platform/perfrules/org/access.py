"""Who may see whose results. One answer for every door (REST API, pages, exports):

- admin, hr and auditor users see everyone;
- a manager sees the people below them in the reporting chain (their reports, their reports'
  reports …; for a scorecard, the chain when it was scored) and the members of the departments they head (`DepartmentHead`) and of every
  department below those — never anyone above them in their own chain, so a manager who reports
  to another manager reads neither their boss's results nor their peers';
- anyone linked to an employee sees their own.

A user with several roles sees the union. A manager user not linked to an employee manages
nobody, so they see nothing but what their other roles allow.

The chains and the department tree are walked in SQL (recursive queries inside the condition),
so the answer costs the same in a company of any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Department, DepartmentHead, Employee, User

SEE_ALL_ROLES = frozenset({"admin", "hr", "auditor"})


def reports_of(manager_id: int) -> sa.Select:
    """The ids of everyone below the employee in the reporting chain."""
    reports = (
        sa.select(Employee.id.label("id"))
        .where(Employee.manager_id == manager_id)
        .cte("reports", recursive=True, nesting=True)
    )
    reports = reports.union(sa.select(Employee.id).join(reports, Employee.manager_id == reports.c.id))
    return sa.select(reports.c.id)


def managers_above(employee_id: int) -> sa.Select:
    """The ids of the employee's manager, their manager, and so on up."""
    above = (
        sa.select(Employee.manager_id.label("id"))
        .where(Employee.id == employee_id)
        .cte("above", recursive=True, nesting=True)
    )
    above = above.union(sa.select(Employee.manager_id).join(above, Employee.id == above.c.id))
    # the top of the chain has no manager: a NULL in a NOT IN would hide everyone
    return sa.select(above.c.id).where(above.c.id.is_not(None))


def departments_headed_by(employee_id: int) -> sa.Select:
    """The ids of the departments the employee heads and of every department below them."""
    headed = (
        sa.select(DepartmentHead.department_id.label("id"))
        .where(DepartmentHead.employee_id == employee_id)
        .cte("headed", recursive=True, nesting=True)
    )
    headed = headed.union(sa.select(Department.id).join(headed, Department.parent_id == headed.c.id))
    return sa.select(headed.c.id)


@dataclass(frozen=True)
class Visibility:
    everyone: bool
    #: the employee the user is linked to: they see their own results
    employee_id: int | None
    #: the same employee when the user manages (the manager role): they see below them too
    manager_id: int | None = None

    def condition(
        self, department_column: Any, employee_column: Any, reporting_line_column: Any = None
    ) -> sa.ColumnElement[bool]:
        """A SQL condition over a table's department and employee columns. A scorecard passes
        its reporting line too: whoever managed the person when it was scored may read it, where
        other rows follow today's reporting chain."""
        if self.everyone:
            return sa.true()
        allowed = []
        if self.employee_id is not None:
            allowed.append(employee_column == self.employee_id)
        if self.manager_id is not None:
            if reporting_line_column is not None:
                allowed.append(reporting_line_column.contains(f"/{self.manager_id}/"))
            else:
                allowed.append(employee_column.in_(reports_of(self.manager_id)))
            allowed.append(
                sa.and_(
                    department_column.in_(departments_headed_by(self.manager_id)),
                    employee_column.not_in(managers_above(self.manager_id)),
                )
            )
        return sa.or_(*allowed) if allowed else sa.false()

    def allows(self, session: Session, department_id: int, employee_id: int, reporting_line: str | None = None) -> bool:
        """Whether the results of `employee_id`, filed under `department_id` (with the reporting
        line of a scorecard, when it is one), are visible."""
        if self.everyone or employee_id == self.employee_id:
            return True
        if self.manager_id is None:
            return False
        line = None if reporting_line is None else sa.literal(reporting_line)
        return bool(session.scalar(sa.select(self.condition(sa.literal(department_id), sa.literal(employee_id), line))))


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


def visibility(user: User) -> Visibility:
    roles = set(user.roles)
    if roles & SEE_ALL_ROLES:
        return Visibility(True, user.employee_id)
    manages = "manager" in roles and user.employee_id is not None
    return Visibility(False, user.employee_id, user.employee_id if manages else None)
