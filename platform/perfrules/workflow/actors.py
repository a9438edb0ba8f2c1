"""Who acts at a step of an approval flow, for one scorecard.

- `employee`: the user linked to the scorecard's employee;
- `manager`: the user linked to the employee's manager;
- `department_head`: the user linked to the head of the employee's department — the head named
  for it (`DepartmentHead`); when none is named, or the employee is that head, the highest
  manager up the employee's chain who still works in that department (or, when the chain leaves
  the department at once, the employee's manager);
- `role:<role>`: every active user holding that role;
- `user:<login>`: that user.

Nobody acts on their own scorecard except at an `employee` step: users linked to the scorecard's
employee are never eligible anywhere else, whatever their roles, and neither are their delegates
acting for someone else. A delegation lets its delegate act wherever the delegating user may,
between its dates.

The organisation is read once into a `Directory` (three queries), so opening the reviews of a
whole company asks the database nothing per employee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..org.models import DepartmentHead, Employee, User
from .models import Delegation


@dataclass
class Directory:
    #: employee id → (manager id, department id)
    employees: dict[int, tuple[int | None, int]]
    #: employee id → ids of the active users linked to them
    users_of: dict[int, set[int]]
    #: role → ids of the active users holding it
    by_role: dict[str, set[int]]
    #: login → id of the active user
    by_login: dict[str, int]
    #: department id → the employee named its head
    heads: dict[int, int]

    @classmethod
    def load(cls, session: Session) -> Directory:
        employees = {
            row.id: (row.manager_id, row.department_id)
            for row in session.execute(sa.select(Employee.id, Employee.manager_id, Employee.department_id))
        }
        users_of: dict[int, set[int]] = {}
        by_role: dict[str, set[int]] = {}
        by_login: dict[str, int] = {}
        for user_id, login, roles, employee_id in session.execute(
            sa.select(User.id, User.login, User.roles, User.employee_id).where(User.active)
        ):
            by_login[login] = user_id
            for role in roles:
                by_role.setdefault(role, set()).add(user_id)
            if employee_id is not None:
                users_of.setdefault(employee_id, set()).add(user_id)
        heads = dict(session.execute(sa.select(DepartmentHead.department_id, DepartmentHead.employee_id)).all())
        return cls(employees, users_of, by_role, by_login, heads)

    def department_head(self, employee_id: int) -> int | None:
        department = self.employees[employee_id][1]
        named = self.heads.get(department)
        if named is not None and named != employee_id:
            return named
        chain, seen = [], {employee_id}
        current = self.employees[employee_id][0]
        while current is not None and current not in seen and current in self.employees:
            seen.add(current)
            chain.append(current)
            current = self.employees[current][0]
        if not chain:
            return None
        head = chain[0]
        if self.employees[head][1] != department:
            return head
        for person in chain[1:]:
            if self.employees[person][1] != department:
                break
            head = person
        return head

    def names_nobody(self, actor: str, employee_id: int) -> bool:
        """The step has no one to name for this employee: no manager, or no head above them.
        (A person without a user account does not make a step vanish: it waits for them.)"""
        if actor == "manager":
            return self.employees[employee_id][0] is None
        if actor == "department_head":
            return self.department_head(employee_id) is None
        return False

    def principals(self, actor: str, employee_id: int) -> set[int]:
        """The ids of the users a step's `actor` names for this employee's scorecard."""
        own = self.users_of.get(employee_id, set())
        if actor == "employee":
            return set(own)
        if actor == "manager":
            manager = self.employees[employee_id][0]
            found = self.users_of.get(manager, set()) if manager is not None else set()  # no manager: nobody
        elif actor == "department_head":
            head = self.department_head(employee_id)
            found = self.users_of.get(head, set()) if head is not None else set()  # no head: nobody
        elif actor.startswith("role:"):
            found = self.by_role.get(actor.split(":", 1)[1], set())
        elif actor.startswith("user:"):
            login = actor.split(":", 1)[1]
            found = {self.by_login[login]} if login in self.by_login else set()
        else:
            raise ValueError(f"unknown step actor {actor!r}")
        return found - own


def delegators(session: Session, delegate_id: int, day: dt.date) -> set[int]:
    """Whom `delegate_id` stands in for on `day`."""
    return set(
        session.scalars(
            sa.select(Delegation.user_id).where(
                Delegation.delegate_id == delegate_id, Delegation.starts_on <= day, Delegation.ends_on >= day
            )
        )
    )
