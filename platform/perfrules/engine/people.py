"""The organisation as the engine sees it during one run: the employees of a period as aligned
arrays, the department tree, and the memberships team metrics roll up over.

Who is in a period, and where, comes from the spans of employment (`org.history`): everyone
employed on some day of it, each with the department, manager and role of their last span in it.
A past period is so scored, and rerun, with the organisation it had, whatever changed since.
"""

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

from ..org.models import Department, Employee, EmployeeSpan, Role
from .organisation import OPEN, Memberships, Spans, memberships_of
from .periods import Period
from .shapes import Flags, Floats, MetricScope

#: an employee's free attributes, as configured (`employee_attributes`): {"level": "P5", "region": "east"}
Attributes: TypeAlias = dict[str, Any]


@dataclass
class People:
    """The employees of a period in id order; index i of every engine array is employee `ids[i]`."""

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
    #: every employee's manager, those who left too, so a chain can pass through them: as of their
    #: last span begun before the period ends (with none, their row's)
    managers: dict[int, int | None]
    #: the spans of employment that begin before the period ends (none given: these employees,
    #: placed as they are, all along)
    spans: Spans | None = None
    index: dict[int, int] = field(init=False)
    _memberships: dict[tuple[MetricScope, bytes], Memberships] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {int(employee_id): i for i, employee_id in enumerate(self.ids.tolist())}
        if self.spans is None:
            self.spans = Spans(
                self.ids.astype(np.int64),
                np.full(len(self.ids), dt.date.min.toordinal(), dtype=np.int64),
                np.full(len(self.ids), OPEN, dtype=np.int64),
                self.department_ids.astype(np.int64),
                self.manager_ids.astype(np.int64),
                list(self.role_codes),
            )

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def load(cls, session: Session, period: Period | None = None) -> People:
        """The employees of `period` (none: of today), placed by their last span in it."""
        start = period.start if period is not None else dt.date.today()
        end = period.end if period is not None else start + dt.timedelta(days=1)
        rows = (
            session.connection()
            .execute(
                sa.select(
                    EmployeeSpan.employee_id,
                    EmployeeSpan.starts_on,
                    EmployeeSpan.ends_on,
                    EmployeeSpan.department_id,
                    EmployeeSpan.manager_id,
                    Role.code,
                    Employee.code,
                    Employee.name,
                    Employee.hire_date,
                )
                .join(Employee, Employee.id == EmployeeSpan.employee_id)
                .outerjoin(Role, Role.id == EmployeeSpan.role_id)
                .where(EmployeeSpan.starts_on < end)
                .order_by(EmployeeSpan.employee_id, EmployeeSpan.starts_on)
            )
            .all()
        )
        spans = Spans(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1].toordinal() for r in rows], dtype=np.int64),
            np.array([r[2].toordinal() if r[2] is not None else OPEN for r in rows], dtype=np.int64),
            np.array([r[3] for r in rows], dtype=np.int64),
            np.array([r[4] or 0 for r in rows], dtype=np.int64),
            [r[5] for r in rows],
        )
        # each employee's last span begun before the period ends: spans never overlap, so they
        # worked in the period exactly when that one reaches into it
        last = {r[0]: r for r in rows}
        placed = [r for r in last.values() if r[2] is None or r[2] > start]
        managers = dict(session.execute(sa.select(Employee.id, Employee.manager_id)).all())
        managers.update({employee_id: r[4] for employee_id, r in last.items()})
        departments = {
            d_id: (code, parent)
            for d_id, code, parent in session.execute(sa.select(Department.id, Department.code, Department.parent_id))
        }
        ids = np.array([r[0] for r in placed], dtype=np.int64)
        return cls(
            ids=ids,
            codes=[r[6] for r in placed],
            names=[r[7] for r in placed],
            department_ids=np.array([r[3] for r in placed], dtype=np.int64),
            role_codes=[r[5] for r in placed],
            manager_ids=np.array([r[4] or 0 for r in placed], dtype=np.int64),
            hire_dates=[r[8] for r in placed],
            load_attributes=lambda: _attributes(session, ids),
            departments=departments,
            managers=managers,
            spans=spans,
        )

    @cached_property
    def attributes(self) -> list[Attributes]:
        return self.load_attributes()

    def positions(self, employee_ids: NDArray[np.int64]) -> NDArray[np.intp]:
        """Each id's index in the arrays, or -1 for someone not employed in the period."""
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

    def subtree(self, department_id: int) -> NDArray[np.int64]:
        """The ids of the department and of every department below it."""
        inside = [d for d in self.departments if department_id in self.department_path(d)]
        return np.array(inside, dtype=np.int64)

    def in_subtree(self, department_id: int) -> Flags:
        """A mask of employees whose department is `department_id` or below it."""
        return np.isin(self.department_ids, self.subtree(department_id))

    def changes(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The days inside (start, end) on which the organisation changes (usually none)."""
        assert self.spans is not None
        return self.spans.changes(start, end)

    def memberships(self, scope: MetricScope, start: dt.date, end: dt.date) -> Memberships:
        """(holder, member) pairs: whose records of the days [start, end), a stretch without a
        change, count towards whose team value, with the organisation of those days (the
        roster); see `organisation.Memberships`.

        team: an employee and everyone who reported to them directly or indirectly;
        department: everyone in the employee's department and the departments below it.
        Members may have left since; holders are the employees of the period.
        """
        assert self.spans is not None
        rows = self.spans.covering(start, end)
        key = (scope, rows.tobytes())  # the same roster, for another window, is not worked out again
        if key not in self._memberships:
            self._memberships[key] = memberships_of(
                scope, self.spans, rows, self.managers, self.department_path, self.index
            )
        return self._memberships[key]

    def tenure_months(self, on: dt.date) -> Floats:
        """Whole months from hire date to `on` (NaN when unknown)."""
        out = np.full(len(self), np.nan)
        for i, hired in enumerate(self.hire_dates):
            if hired is not None:
                months = (on.year - hired.year) * 12 + (on.month - hired.month) - (on.day < hired.day)
                out[i] = max(months, 0)
        return out


def _attributes(session: Session, ids: NDArray[np.int64]) -> list[Attributes]:
    """The attributes of the employees `ids`, in their order."""
    wanted = set(ids.tolist())
    by_id = {
        employee_id: attributes or {}
        for employee_id, attributes in session.execute(sa.select(Employee.id, Employee.attributes))
        if employee_id in wanted
    }
    return [by_id[employee_id] for employee_id in ids.tolist()]
