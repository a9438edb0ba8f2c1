"""The organisation over time, as the engine reads it: employment spans as aligned arrays, the
days inside a date window on which it changes, and who counts towards whose team or department
value in a stretch of days it does not change in.

A stretch's organisation (a roster) is everyone employed in it, each with the department and
manager of their span. Team and department values of a window add up, stretch by stretch, the
records of each day with the organisation of that day (`engine.metrics`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from .shapes import MetricScope

#: the ordinal an open span ends on: after any day
OPEN = np.iinfo(np.int64).max
#: (holder, member) pairs of a roster: (holders as positions in `People`, members as positions in
#: the roster, the roster's employee ids)
Memberships: TypeAlias = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


@dataclass(frozen=True)
class Spans:
    """Spans of employment, one per row: days as ordinals, `ends` exclusive (OPEN: still so)."""

    employee_ids: NDArray[np.int64]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    department_ids: NDArray[np.int64]
    manager_ids: NDArray[np.int64]  # 0 where none
    role_codes: list[str | None]

    def changes(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The days inside (start, end) on which someone's span begins or ends, in order."""
        first, stop = start.toordinal(), end.toordinal()
        overlapping = (self.starts < stop) & (self.ends > first)
        days = np.unique(np.concatenate([self.starts[overlapping], self.ends[overlapping]]))
        return [dt.date.fromordinal(int(day)) for day in days[(days > first) & (days < stop)]]

    def covering(self, start: dt.date, end: dt.date) -> NDArray[np.intp]:
        """The rows of the spans that overlap [start, end), a stretch without a change: at most
        one per employee, in employee id order when the rows are."""
        return np.flatnonzero((self.starts < end.toordinal()) & (self.ends > start.toordinal()))


def team_pairs(
    ids: NDArray[np.int64], manager_ids: NDArray[np.int64], managers: dict[int, int | None], holders: dict[int, int]
) -> Memberships:
    """Each employee of a roster (`ids`) with everyone up their manager chain, the employee
    included, as pairs for the holders that are `holders` (id → position). A chain passes through
    managers who are not in the roster along `managers` (id → manager)."""
    index = {int(employee_id): i for i, employee_id in enumerate(ids.tolist())}
    # each employee's nearest manager in the roster
    leader = np.full(len(ids), -1, dtype=np.int64)
    for member, (employee_id, manager_id) in enumerate(zip(ids.tolist(), manager_ids.tolist())):
        seen, current = {employee_id}, manager_id or None
        while current and current not in seen and current not in index:
            seen.add(current)
            current = managers.get(current)
        if current and current in index:
            leader[member] = index[current]
    holding_levels: list[NDArray[np.int64]] = []
    member_levels: list[NDArray[np.int64]] = []
    holding, held = np.arange(len(ids), dtype=np.int64), np.arange(len(ids), dtype=np.int64)
    for _ in range(len(ids) + 1):  # up the chains, one level per step, all employees at once
        holding_levels.append(holding)
        member_levels.append(held)
        up = leader[holding]
        keep = (up >= 0) & (up != held)  # a chain that comes back to its start (a loop) stops
        holding, held = up[keep], held[keep]
        if not len(holding):
            break
    return _to_holders(ids, np.concatenate(holding_levels), np.concatenate(member_levels), holders)


def department_pairs(
    ids: NDArray[np.int64],
    department_ids: NDArray[np.int64],
    path: Callable[[int], list[int]],
    holders: dict[int, int],
) -> Memberships:
    """Each employee of a roster (`ids`) with everyone in their department and the departments
    below it, as pairs for the holders that are `holders` (id → position); `path` gives a
    department and its ancestors."""
    members_of: dict[int, list[int]] = {}
    for member, department_id in enumerate(department_ids.tolist()):
        for ancestor in path(department_id):
            members_of.setdefault(ancestor, []).append(member)
    holding: list[int] = []
    held: list[int] = []
    for holder, (employee_id, department_id) in enumerate(zip(ids.tolist(), department_ids.tolist())):
        if employee_id in holders:
            group = members_of.get(department_id, [])
            holding.extend([holder] * len(group))
            held.extend(group)
    return _to_holders(ids, np.array(holding, dtype=np.int64), np.array(held, dtype=np.int64), holders)


def _to_holders(
    ids: NDArray[np.int64], holding: NDArray[np.int64], held: NDArray[np.int64], holders: dict[int, int]
) -> Memberships:
    """Roster-index pairs without the holders that are not `holders`, theirs as positions there."""
    positions = np.array([holders.get(employee_id, -1) for employee_id in ids.tolist()], dtype=np.int64)
    if not len(holding):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), ids
    holder_positions = positions[holding]
    kept = holder_positions >= 0
    return holder_positions[kept], held[kept], ids


def memberships_of(
    scope: MetricScope,
    spans: Spans,
    rows: NDArray[np.intp],
    managers: dict[int, int | None],
    path: Callable[[int], list[int]],
    holders: dict[int, int],
) -> Memberships:
    """The memberships of the roster made of span `rows` (see team_pairs, department_pairs)."""
    ids = spans.employee_ids[rows]
    if scope == "team":
        return team_pairs(ids, spans.manager_ids[rows], managers, holders)
    return department_pairs(ids, spans.department_ids[rows], path, holders)
