"""Who a plan pays in a period, and with which parameters.

A plan's assignments name departments (each with the departments below it) and roles, between
two dates; an employee is a member when, on some day of the period, their span of employment
(`org.history`) is in an assigned department and role while the assignment holds. Their
parameters are the plan's, with their own (`people`) on top; the first and last day they were
employed in the period come with them (for proration).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..engine.people import People
from ..engine.periods import Period
from ..money import exact


class PayError(ValueError):
    """Pay that cannot be computed as configured: says which plan, component and employee."""

    def __init__(self, plan: str, component: str | None, employee: str | None, message: str):
        super().__init__(message)
        self.plan, self.component, self.employee, self.message = plan, component, employee, message

    def __str__(self) -> str:
        if not self.plan:
            return self.message
        where = self.plan + (f".{self.component}" if self.component else "")
        return f"{where}{f' for {self.employee}' if self.employee else ''}: {self.message}"

    def as_dict(self) -> dict:
        return {"plan": self.plan, "component": self.component, "employee": self.employee, "message": self.message}


@dataclass(frozen=True)
class Member:
    position: int
    employee_id: int
    code: str
    parameters: dict[str, Decimal]
    #: the first and the last day (inclusive) they were employed within the period; members_of
    #: always says, a Member made for someone outside the plan (pay.ledger) may not
    employed_from: dt.date | None = None
    employed_until: dt.date | None = None


def _day(value: object, otherwise: int) -> int:
    """An assignment's date as an ordinal (`otherwise` when it has none)."""
    return dt.date.fromisoformat(str(value)).toordinal() if value is not None else otherwise


def members_of(plan: dict, people: People, period: Period) -> list[Member]:
    """The plan's members in `period`, in employee id order; `people` must hold the spans of the
    period (`People.load` for it, or for a period ending with it)."""
    spans = people.spans
    assert spans is not None
    first, stop = period.start.toordinal(), period.end.toordinal()
    # the spans of the period's employees, clipped to it: days as ordinals, `until` inclusive
    rows = np.flatnonzero((spans.starts < stop) & (spans.ends > first))
    positions = people.positions(spans.employee_ids[rows])
    rows, positions = rows[positions >= 0], positions[positions >= 0]
    since, until = np.maximum(spans.starts[rows], first), np.minimum(spans.ends[rows], stop) - 1
    taken = np.zeros(len(rows), dtype=bool)
    for index, assignment in enumerate(plan["assign"]):
        starts, ends = _day(assignment.get("starts_on"), first), _day(assignment.get("ends_on"), stop)
        mask = (since <= ends) & (until >= starts)
        if assignment.get("departments"):
            inside = np.zeros(len(rows), dtype=bool)
            for code in assignment["departments"]:
                department_id = people.department_id_of(code)
                if department_id is None:
                    raise PayError(plan["slug"], None, None, f"assign[{index}]: unknown department '{code}'")
                inside |= np.isin(spans.department_ids[rows], people.subtree(department_id))
            mask &= inside
        if assignment.get("roles"):
            roles = set(assignment["roles"])
            mask &= np.array([spans.role_codes[row] in roles for row in rows.tolist()], dtype=bool)
        taken |= mask
    employed: dict[int, tuple[int, int]] = {}
    for position, day_from, day_until in zip(positions.tolist(), since.tolist(), until.tolist()):
        earlier = employed.get(position, (day_from, day_until))
        employed[position] = (min(earlier[0], day_from), max(earlier[1], day_until))
    defaults = {name: exact(value) for name, value in (plan.get("parameters") or {}).items()}
    own = plan.get("people") or {}
    return [
        Member(
            position,
            int(people.ids[position]),
            people.codes[position],
            {**defaults, **{name: exact(value) for name, value in own.get(people.codes[position], {}).items()}},
            dt.date.fromordinal(employed[position][0]),
            dt.date.fromordinal(employed[position][1]),
        )
        for position in sorted(set(positions[taken].tolist()))
    ]
