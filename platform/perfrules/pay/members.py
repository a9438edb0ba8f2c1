"""Who a plan pays in a period, and with which parameters.

A plan's assignments name departments (each with the departments below it) and roles, between
two dates; an active employee is a member when one assignment takes them in for some day of the
period. Their parameters are the plan's, with their own (`people`) on top.
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


def _overlaps(assignment: dict, period: Period) -> bool:
    starts, ends = assignment.get("starts_on"), assignment.get("ends_on")
    first, last = period.start, period.end - dt.timedelta(days=1)
    return (starts is None or dt.date.fromisoformat(str(starts)) <= last) and (
        ends is None or dt.date.fromisoformat(str(ends)) >= first
    )


def members_of(plan: dict, people: People, period: Period) -> list[Member]:
    """The plan's members in `period`, in employee id order."""
    taken = np.zeros(len(people), dtype=bool)
    for index, assignment in enumerate(plan["assign"]):
        if not _overlaps(assignment, period):
            continue
        mask = np.ones(len(people), dtype=bool)
        if assignment.get("departments"):
            inside = np.zeros(len(people), dtype=bool)
            for code in assignment["departments"]:
                department_id = people.department_id_of(code)
                if department_id is None:
                    raise PayError(plan["slug"], None, None, f"assign[{index}]: unknown department '{code}'")
                inside |= people.in_subtree(department_id)
            mask &= inside
        if assignment.get("roles"):
            roles = set(assignment["roles"])
            mask &= np.array([role in roles for role in people.role_codes], dtype=bool)
        taken |= mask
    defaults = {name: exact(value) for name, value in (plan.get("parameters") or {}).items()}
    own = plan.get("people") or {}
    return [
        Member(
            int(position),
            int(people.ids[position]),
            people.codes[position],
            {**defaults, **{name: exact(value) for name, value in own.get(people.codes[position], {}).items()}},
        )
        for position in np.flatnonzero(taken)
    ]
