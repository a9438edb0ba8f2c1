"""What-if: pay computed twice and compared, nothing written.

- more of something: "what if R1 collects 50,000 more this month" — the same month computed with
  hypothetical records added to the bases of that dataset (through the real tiers, holds, draws);
- a draft beside the published plans: the draft replayed on a month, per person and in total;
- a forecast from the open pipeline: each open opportunity's amount × its stage's probability,
  added as hypothetical records, so that the commission forecast goes through the real tiers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.versions import resolve
from ..data.models import Record
from ..engine.periods import Period
from ..formula import FunctionRegistry
from ..money import MoneyError, format_money, from_minor, parse_money, to_cents, to_minor
from ..org.models import Employee
from .compute import DueLine, Hypothetical
from .members import PayError
from .runs import compute_pay

ZERO = Decimal(0)
#: (employee code, plan, component, kind, reference)
LineKey = tuple[str, str, str, str, str]


@dataclass
class Change:
    """One line as it is and as it would be (None where there is no such line)."""

    employee: str
    plan: str
    component: str
    kind: str
    before: Decimal | None
    after: Decimal | None
    #: the line as it would be, in words (or as it is, when it would go)
    words: dict[str, str]

    @property
    def delta(self) -> Decimal:
        return (self.after or ZERO) - (self.before or ZERO)


@dataclass
class Estimate:
    month: Period
    before: str
    after: str
    changes: list[Change] = field(default_factory=list)
    #: what was assumed, in words (the hypothetical records, the pipeline's opportunities)
    assumptions: list[str] = field(default_factory=list)
    #: what stops either side from being computed: then there are no changes
    errors: list[PayError] = field(default_factory=list)

    def by_employee(self) -> dict[str, Decimal]:
        found: dict[str, Decimal] = defaultdict(Decimal)
        for change in self.changes:
            found[change.employee] += change.delta
        return dict(sorted(found.items()))

    def total(self) -> Decimal:
        return sum((change.delta for change in self.changes), ZERO)


def _keyed(lines: list[DueLine]) -> dict[LineKey, DueLine]:
    return {(line.member.code, *line.key[:2], *line.key[3:]): line for line in lines}


def compare(
    session: Session,
    month: Period,
    functions: FunctionRegistry,
    *,
    plan: str | None = None,
    version: str = "latest",
    against: str | None = None,
    hypothetical: tuple[Hypothetical, ...] = (),
) -> Estimate:
    """The month's pay with `version` and the hypothetical records, beside the month's pay with
    `against` (by default the same version) and without them: every line that differs."""
    paid_on = {
        component["base"]["records"]
        for document in resolve(session, version).config.get("plans", {}).values()
        for component in document["components"]
        if component["base"].get("records")
    }
    for extra in hypothetical:
        if extra.dataset not in paid_on:
            raise PayError(
                "",
                None,
                None,
                f"no plan pays on '{extra.dataset}' (the ones that do: {', '.join(sorted(paid_on)) or 'none'})",
            )
    baseline = compute_pay(session, month, functions, plan=plan, version=against or version)
    changed = compute_pay(session, month, functions, plan=plan, version=version, hypothetical=hypothetical)
    estimate = Estimate(month, baseline.version, changed.version, errors=baseline.errors + changed.errors)
    if estimate.errors:
        return estimate
    old, new = _keyed(baseline.lines), _keyed(changed.lines)
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None and before.amount == after.amount:
            continue
        shown = after or before
        assert shown is not None
        estimate.changes.append(
            Change(
                key[0],
                key[1],
                key[2],
                key[3],
                None if before is None else before.amount,
                None if after is None else after.amount,
                shown.words.as_dict(),
            )
        )
    return estimate


def more(
    session: Session, month: Period, employee: str, dataset: str, amount: object, day: dt.date | None = None
) -> Hypothetical:
    """`amount` more in `dataset` for `employee`, on `day` (by default the month's last day)."""
    found = session.scalar(sa.select(Employee.id).where(Employee.code == employee))
    if found is None:
        raise PayError("", None, employee, f"there is no employee '{employee}'")
    day = day or month.end - dt.timedelta(days=1)
    if not month.start <= day < month.end:
        raise PayError("", None, employee, f"{day} is not in {month}")
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise PayError("", None, employee, f"the amount {exc}") from None
    return Hypothetical(found, dataset, to_minor(value), day)


def pipeline(
    session: Session,
    month: Period,
    *,
    dataset: str,
    amount: str,
    stage: str,
    probabilities: dict[str, Decimal],
    into: str,
    closes: str | None = None,
) -> tuple[tuple[Hypothetical, ...], list[str]]:
    """The open pipeline as hypothetical collections in `into`: each opportunity of `dataset` in a
    stage with a probability (a fraction) — and, with `closes`, expected to close in the month —
    amount × probability, one record per owner on the month's last day; and the assumption in
    words per owner."""
    stage_of = Record.values[stage].as_string()
    money = sa.cast(Record.values[amount].as_string(), sa.BigInteger)
    query = (
        sa.select(Employee.id, Employee.code, stage_of, money)
        .join(Employee, Employee.id == Record.owner_id)
        .where(Record.dataset == dataset, stage_of.in_(probabilities), money.is_not(None))
        .order_by(Employee.code, Record.id)
    )
    if closes:
        closing = Record.values[closes].as_string()
        query = query.where(closing >= month.start.isoformat(), closing < month.end.isoformat())
    rows = session.execute(query).all()
    expected: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    counted: dict[tuple[int, str], int] = defaultdict(int)
    for employee_id, code, found_stage, minor in rows:
        expected[(employee_id, code)] += from_minor(minor) * probabilities[found_stage]
        counted[(employee_id, code)] += 1
    last = month.end - dt.timedelta(days=1)
    records, words = [], []
    for (employee_id, code), value in expected.items():
        cents = to_cents(value)
        records.append(Hypothetical(employee_id, into, to_minor(cents), last))
        words.append(f"{code}: {format_money(cents)} expected from {counted[(employee_id, code)]} open {dataset}")
    return tuple(records), words
