"""The organisation as the engine sees it during one run: active employees as aligned arrays,
the department tree, and the memberships team metrics roll up over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from ..org.models import Department, Employee, Role
from .shapes import Flags, Floats, MetricScope

#: an employee's free attributes, as configured (`employee_attributes`): {"level": "P5", "region": "east"}
Attributes: TypeAlias = dict[str, Any]
#: (holder, member) index pairs
Memberships: TypeAlias = tuple[NDArray[np.int64], NDArray[np.int64]]


@dataclass
class People:
    """Active employees in id order; index i of every engine array is employee `ids[i]`."""

    ids: NDArray[np.int64]
    codes: list[str]
    names: list[str]
    department_ids: NDArray[np.int64]
    role_codes: list[str | None]
    manager_ids: NDArray[np.int64]  # 0 where none
    hire_dates: list[dt.date | None]
    #: () → each employee's free attributes, read only when a formula or a split needs them
    load_attributes: Callable[[], list[Attributes]]
    #: department id → (code, parent id or None)
    departments: dict[int, tuple[str, int | None]]
    #: every employee's manager, the inactive too, so a chain can pass through someone who left
    managers: dict[int, int | None]
    index: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {int(employee_id): i for i, employee_id in enumerate(self.ids.tolist())}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def load(cls, session: Session) -> People:
        rows = (
            session.connection()
            .execute(
                sa.select(
                    Employee.id,
                    Employee.code,
                    Employee.name,
                    Employee.department_id,
                    Role.code,
                    Employee.manager_id,
                    Employee.hire_date,
                )
                .outerjoin(Role, Role.id == Employee.role_id)
                .where(Employee.active.is_(True))
                .order_by(Employee.id)
            )
            .all()
        )
        departments = {
            d_id: (code, parent)
            for d_id, code, parent in session.execute(sa.select(Department.id, Department.code, Department.parent_id))
        }
        return cls(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            codes=[r[1] for r in rows],
            names=[r[2] for r in rows],
            department_ids=np.array([r[3] for r in rows], dtype=np.int64),
            role_codes=[r[4] for r in rows],
            manager_ids=np.array([r[5] or 0 for r in rows], dtype=np.int64),
            hire_dates=[r[6] for r in rows],
            load_attributes=lambda: _attributes(session),
            departments=departments,
            managers=dict(session.execute(sa.select(Employee.id, Employee.manager_id)).all()),
        )

    @cached_property
    def attributes(self) -> list[Attributes]:
        return self.load_attributes()

    def positions(self, employee_ids: NDArray[np.int64]) -> NDArray[np.intp]:
        """Each id's index in the arrays, or -1 for someone not active."""
        found = np.searchsorted(self.ids, employee_ids)
        clipped = np.minimum(found, max(len(self.ids) - 1, 0))
        match = (
            (found < len(self.ids)) & (self.ids[clipped] == employee_ids)
            if len(self.ids)
            else np.zeros(len(employee_ids), dtype=bool)
        )
        return np.where(match, found, -1)

    def position_of(self, code: str) -> int | None:
        return self._position_by_code.get(code)

    @cached_property
    def _position_by_code(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.codes)}

    def department_code(self, department_id: int) -> str:
        return self.departments[department_id][0]

    def department_id_of(self, code: str) -> int | None:
        return self._department_by_code.get(code)

    @cached_property
    def _department_by_code(self) -> dict[str, int]:
        return {code: d_id for d_id, (code, _) in self.departments.items()}

    def department_path(self, department_id: int) -> list[int]:
        """The department and its ancestors, nearest first."""
        path, seen = [], set()
        current: int | None = department_id
        while current is not None and current not in seen:
            seen.add(current)
            path.append(current)
            current = self.departments[current][1]
        return path

    def reporting_line(self, employee_id: int) -> str:
        """The employee's managers up the chain as "/7/3/" (nearest first; "/" for none): stored
        with a scorecard, so that whoever managed the person when it was scored may read it."""
        line, seen = [], {employee_id}
        current = self.managers.get(employee_id)
        while current is not None and current not in seen:
            seen.add(current)
            line.append(current)
            current = self.managers.get(current)
        return "/" + "".join(f"{manager}/" for manager in line)

    def in_subtree(self, department_id: int) -> Flags:
        """A mask of employees whose department is `department_id` or below it."""
        inside = {d for d in self.departments if department_id in self.department_path(d)}
        return np.isin(self.department_ids, np.fromiter(inside, dtype=np.int64, count=len(inside)))

    def memberships(self, scope: MetricScope) -> Memberships:
        """(holder, member) index pairs: whose records count towards whose team value.

        team: an employee and everyone who reports to them directly or indirectly;
        department: everyone in the employee's department and the departments below it.
        """
        if scope == "team":
            return self._team_pairs
        return self._department_pairs

    @cached_property
    def _team_pairs(self) -> Memberships:
        # each employee's nearest active manager (a chain may pass through someone who left)
        leader = np.full(len(self), -1, dtype=np.int64)
        for member, employee_id in enumerate(self.ids.tolist()):
            seen, current = {employee_id}, self.managers.get(employee_id)
            while current and current not in seen and current not in self.index:
                seen.add(current)
                current = self.managers.get(current)
            if current and current in self.index:
                leader[member] = self.index[current]
        holders: list[NDArray[np.int64]] = []
        members: list[NDArray[np.int64]] = []
        holding, held = np.arange(len(self), dtype=np.int64), np.arange(len(self), dtype=np.int64)
        for _ in range(len(self) + 1):  # up the chains, one level per step, all employees at once
            holders.append(holding)
            members.append(held)
            up = leader[holding]
            keep = (up >= 0) & (up != held)  # a chain that comes back to its start (a loop) stops
            holding, held = up[keep], held[keep]
            if not len(holding):
                break
        return np.concatenate(holders), np.concatenate(members)

    @cached_property
    def _department_pairs(self) -> Memberships:
        members_of: dict[int, list[int]] = {}
        for member, department_id in enumerate(self.department_ids.tolist()):
            for ancestor in self.department_path(department_id):
                members_of.setdefault(ancestor, []).append(member)
        holders: list[int] = []
        members: list[int] = []
        for holder, department_id in enumerate(self.department_ids.tolist()):
            group = members_of.get(department_id, [])
            holders.extend([holder] * len(group))
            members.extend(group)
        return np.array(holders, dtype=np.int64), np.array(members, dtype=np.int64)

    def tenure_months(self, on: dt.date) -> Floats:
        """Whole months from hire date to `on` (NaN when unknown)."""
        out = np.full(len(self), np.nan)
        for i, hired in enumerate(self.hire_dates):
            if hired is not None:
                months = (on.year - hired.year) * 12 + (on.month - hired.month) - (on.day < hired.day)
                out[i] = max(months, 0)
        return out


def _attributes(session: Session) -> list[Attributes]:
    return [
        attributes or {}
        for attributes in session.scalars(
            sa.select(Employee.attributes).where(Employee.active.is_(True)).order_by(Employee.id)
        )
    ]
