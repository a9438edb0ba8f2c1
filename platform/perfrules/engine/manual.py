"""Importing manual item values (ratings in points, 0–100) per employee and period.

All or nothing: a file with any bad row changes nothing, and every bad row is reported with its
row number, column and reason. An item must be a manual item of some template of the working
configuration: a misspelt one would be stored and never scored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..cells import FieldError, parse_decimal
from ..config.store import working_config
from ..data.readers import read_table
from ..formula.checker import did_you_mean
from ..org.models import Employee
from ..problems import Problem
from .models import ManualValue
from .periods import Period, PeriodError

COLUMNS = ("employee", "period", "item", "value")
#: (period, employee id, manual item)
ValueKey = tuple[str, int, str]
#: (session, periods) → why each of these values may not be overwritten
Guard = Callable[[Session, set[str]], Mapping[ValueKey, str]]
MAX_POINTS = 100.0


class _Change(TypedDict):
    """A value the import changed, as the audit log records it."""

    employee: str
    period: str
    item: str
    value: float
    before: float | None


class ManualImportError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def import_manual_values(session: Session, path: Path, actor: str, guard: Guard | None = None) -> int:
    """Import the file's values; the number of values in it. `guard` names the values that must
    not be overwritten, and why (the workflow's accepted dispute corrections): a row for one of
    them is refused like any bad row."""
    columns, rows = read_table(path)
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise ManualImportError([Problem("", f"missing column(s): {', '.join(missing)}", path.name)])
    employees = dict(session.execute(sa.select(Employee.code, Employee.id)).all())
    manual_items = sorted(
        {
            item["manual"]
            for template in working_config(session).get("templates", {}).values()
            for section in template["sections"]
            for item in section["items"]
            if item.get("manual")
        }
    )
    problems: list[Problem] = []
    values: dict[ValueKey, float] = {}
    # the row number of each value
    seen: dict[ValueKey, int] = {}
    for number, row in rows:

        def where(column: str, number: int = number) -> str:
            return f"row {number}, {column}"

        code = str(row.get("employee") or "").strip()
        if code not in employees:
            problems.append(Problem(where("employee"), f"unknown employee '{code}'", path.name))
            continue
        try:
            period = str(Period.parse(str(row.get("period") or "")))
        except PeriodError as exc:
            problems.append(Problem(where("period"), str(exc), path.name))
            continue
        item = str(row.get("item") or "").strip()
        if not item:
            problems.append(Problem(where("item"), "empty", path.name))
            continue
        if item not in manual_items:
            problems.append(
                Problem(
                    where("item"),
                    f"no template has a manual item '{item}'"
                    + (did_you_mean(item, manual_items) or f" (manual items: {', '.join(manual_items) or 'none'})"),
                    path.name,
                )
            )
            continue
        try:
            value = parse_decimal(row.get("value"))
        except FieldError as exc:
            problems.append(Problem(where("value"), f"{row.get('value')!r}: {exc}", path.name))
            continue
        if not 0 <= value <= MAX_POINTS:
            problems.append(Problem(where("value"), f"{value:g} is outside 0–{MAX_POINTS:g} points", path.name))
            continue
        key = (period, employees[code], item)
        if key in seen:
            problems.append(Problem(where("item"), f"the same employee, period and item as row {seen[key]}", path.name))
            continue
        seen[key] = number
        values[key] = value
    guarded = guard(session, {period for period, _, _ in values}) if guard is not None else {}
    for key, why in guarded.items():
        if key in values:
            problems.append(Problem(f"row {seen[key]}, value", why, path.name))
    if problems:
        raise ManualImportError(problems)
    now = dt.datetime.now(dt.UTC)
    existing = {
        (m.period, m.employee_id, m.item): m
        for m in session.scalars(sa.select(ManualValue).where(ManualValue.period.in_({k[0] for k in values})))
    }
    codes = {employee_id: code for code, employee_id in employees.items()}
    changed: list[_Change] = []
    for key, value in values.items():
        current = existing.get(key)
        before = None if current is None else current.value
        if current is None:
            session.add(
                ManualValue(
                    period=key[0],
                    employee_id=key[1],
                    item=key[2],
                    value=value,
                    source=f"{path.name} ({actor})",
                    updated_at=now,
                )
            )
        elif current.value != value:
            current.value, current.source, current.updated_at = value, f"{path.name} ({actor})", now
        else:
            continue
        changed.append({"employee": codes[key[1]], "period": key[0], "item": key[2], "value": value, "before": before})
    if changed:
        record_change(
            session,
            actor=actor,
            action="ratings.import",
            kind="manual_values",
            key=path.name,
            after={"changed": changed},
        )
    return len(values)
