"""Pay lines as people read them: a month's lines filtered and counted in SQL, a page at a time,
their totals per currency (sums of the stored lines, never recomputed), a line's credited records
a page at a time, and the plans' and datasets' labels from the configuration version that paid.

Whose lines a reader may see is the caller's condition (`org.access.visibility`), applied to
every query here, so no function reads a line outside it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..data.models import Record
from ..engine.explain.rules import RuleBook
from ..money import from_minor
from ..org.access import department_subtree
from ..org.models import Department, Employee
from .exports import line_query
from .models import PayCredit, PayLine

#: rules whose rate is a multiplier (a grade's coefficient, floating pay's factor), not a percentage
MULTIPLIER_RULES = ("grade", "floating")
#: how many of a record's own fields a credited record shows beside its id, date and amount
MAIN_FIELDS = 4


@dataclass(frozen=True)
class LineFilter:
    """What a list of lines is narrowed to, besides the month and whose lines the reader sees."""

    department: str | None = None
    plan: str | None = None
    component: str | None = None
    #: a few letters of an employee's code or name
    search: str | None = None
    employee_id: int | None = None


@dataclass(frozen=True)
class Summary:
    lines: int
    employees: int
    #: currency → the sum of the lines, exact
    totals: dict[str, Decimal]


def line_months(session: Session, visible: sa.ColumnElement[bool], employee_id: int | None = None) -> list[str]:
    """The months with lines the reader sees (of one employee, when given), latest first."""
    query = sa.select(PayLine.period).distinct().join(Employee, Employee.id == PayLine.employee_id).where(visible)
    if employee_id is not None:
        query = query.where(PayLine.employee_id == employee_id)
    return sorted(session.scalars(query), reverse=True)  # "2026-10": text order is time order


def _conditions(session: Session, month: str, visible: sa.ColumnElement[bool], chosen: LineFilter) -> list:
    conditions: list = [PayLine.period == month, visible]
    if chosen.department:
        department_id = session.scalar(sa.select(Department.id).where(Department.code == chosen.department))
        conditions.append(
            sa.false()
            if department_id is None
            else Employee.department_id.in_(sorted(department_subtree(session, department_id)))
        )
    if chosen.plan:
        conditions.append(PayLine.plan == chosen.plan)
    if chosen.component:
        conditions.append(PayLine.component == chosen.component)
    if chosen.search:
        conditions.append(
            sa.or_(
                Employee.code.icontains(chosen.search, autoescape=True),
                Employee.name.icontains(chosen.search, autoescape=True),
            )
        )
    if chosen.employee_id is not None:
        conditions.append(PayLine.employee_id == chosen.employee_id)
    return conditions


def filtered_lines(session: Session, month: str, visible: sa.ColumnElement[bool], chosen: LineFilter) -> sa.Select:
    """The month's lines the reader sees and the filter keeps, as the exports read them (each with
    its employee's code, name and department code), in the exports' order."""
    return line_query(month).where(*_conditions(session, month, visible, chosen))


def summary(session: Session, month: str, visible: sa.ColumnElement[bool], chosen: LineFilter) -> Summary:
    """How many lines and employees the filter keeps, and their totals per currency, in SQL."""
    rows = session.execute(
        sa.select(PayLine.currency, sa.func.count(), sa.func.sum(PayLine.amount_minor))
        .join(Employee, Employee.id == PayLine.employee_id)
        .where(*_conditions(session, month, visible, chosen))
        .group_by(PayLine.currency)
        .order_by(PayLine.currency)
    ).all()
    employees = session.scalar(
        sa.select(sa.func.count(sa.distinct(PayLine.employee_id)))
        .join(Employee, Employee.id == PayLine.employee_id)
        .where(*_conditions(session, month, visible, chosen))
    )
    return Summary(
        sum(count for _, count, _ in rows),
        employees or 0,
        {currency: from_minor(int(minor)) for currency, _, minor in rows},
    )


def page_of(session: Session, query: sa.Select, page: int, size: int) -> list:
    """Page `page` (from 1) of `size` rows of the query."""
    return list(session.execute(query.offset((page - 1) * size).limit(size)).all())


def filter_choices(session: Session, month: str, visible: sa.ColumnElement[bool]) -> dict[str, list]:
    """What the month's visible lines can be filtered by: departments (code, label), plans and
    (plan, component) pairs, each with the latest configuration version that paid it."""
    scope = [PayLine.period == month, visible]
    departments = session.execute(
        sa.select(Department.code, Department.label)
        .where(
            Department.id.in_(
                sa.select(Employee.department_id).join(PayLine, PayLine.employee_id == Employee.id).where(*scope)
            )
        )
        .order_by(Department.code)
    ).all()
    components = session.execute(
        sa.select(PayLine.plan, PayLine.component, sa.func.max(PayLine.version_number))
        .join(Employee, Employee.id == PayLine.employee_id)
        .where(*scope)
        .group_by(PayLine.plan, PayLine.component)
        .order_by(PayLine.plan, PayLine.component)
    ).all()
    return {"departments": list(departments), "components": list(components)}


class PlanBook:
    """The plans, components and datasets of the configuration versions lines were paid with,
    each version's snapshot read once."""

    def __init__(self, session: Session):
        self._rules = RuleBook(session)

    def plan(self, version: int, slug: str) -> dict:
        return self._rules.snapshot(version).get("plans", {}).get(slug) or {}

    def component(self, version: int, plan: str, slug: str) -> dict:
        found = (c for c in self.plan(version, plan).get("components", []) if c.get("slug") == slug)
        return next(found, {})

    def dataset(self, version: int, slug: str) -> dict:
        return self._rules.snapshot(version).get("datasets", {}).get(slug) or {}

    def metric(self, version: int, slug: str) -> dict:
        return self._rules.snapshot(version).get("metrics", {}).get(slug) or {}

    def rate_is_multiplier(self, version: int, plan: str, component: str) -> bool:
        return self.component(version, plan, component).get("rule", {}).get("kind") in MULTIPLIER_RULES

    def main_fields(self, version: int, plan: str, component: str) -> list[dict]:
        """The fields a credited record shows: the dataset's own, in its order, leaving out the
        owner, the date and the amount credited (shown beside every record anyway)."""
        base = self.component(version, plan, component).get("base", {})
        dataset = self.dataset(version, base.get("records", ""))
        shown_apart = {dataset.get("owner_field"), dataset.get("date_field"), base.get("amount")}
        return [field for field in dataset.get("fields", []) if field.get("name") not in shown_apart][:MAIN_FIELDS]


@dataclass(frozen=True)
class Credit:
    record: str
    occurred_on: object
    amount: Decimal
    values: dict


def credit_count(session: Session, line_id: int) -> tuple[int, Decimal]:
    """How many records a line credits, and the sum they brought."""
    count, minor = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(PayCredit.amount_minor), 0)).where(
            PayCredit.line_id == line_id
        )
    ).one()
    return count, from_minor(int(minor))


def credits_page(session: Session, line_id: int, page: int, size: int) -> list[Credit]:
    """Page `page` (from 1) of the records a line credits, by date then id."""
    rows = session.execute(
        sa.select(Record.external_id, Record.occurred_on, PayCredit.amount_minor, Record.values)
        .join(Record, Record.id == PayCredit.record_id)
        .where(PayCredit.line_id == line_id)
        .order_by(Record.occurred_on, Record.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return [Credit(record, occurred_on, from_minor(minor), values or {}) for record, occurred_on, minor, values in rows]


def employees_named(session: Session, employee_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Employee id → (code, name), for lines that are computed but not written (a dry run)."""
    ids = sorted(set(employee_ids))
    if not ids:
        return {}
    return {
        employee_id: (code, name)
        for employee_id, code, name in session.execute(
            sa.select(Employee.id, Employee.code, Employee.name).where(Employee.id.in_(ids))
        )
    }
