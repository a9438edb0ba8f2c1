"""Pay runs: every component of the published plans that falls due in a month, computed for
every member and written at once — or, when anything cannot be computed, nothing written and
every reason recorded. A month's lines are replaced by a new run of that month; the run keeps
the configuration version it used, so it can be run again with that version to the same cent.

A monthly component is due every month for that month; a quarterly one in the quarter's last
month, for the quarter; half-yearly and yearly alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..config.versions import resolve
from ..db.bulk import driver_insert
from ..engine.people import People
from ..engine.periods import Period
from ..formula import FunctionRegistry
from ..money import format_money, to_minor
from .compute import Context, DueLine, component_lines
from .members import PayError, members_of
from .models import PayCredit, PayLine, PayRun


@dataclass
class PayOutcome:
    month: Period
    version_number: int
    lines: list[DueLine] = field(default_factory=list)
    errors: list[PayError] = field(default_factory=list)
    run: PayRun | None = None

    def totals(self) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for line in self.lines:
            found[line.currency] = found.get(line.currency, Decimal("0.00")) + line.amount
        return found


LINE_COLUMNS = (
    "run_id",
    "period",
    "pay_period",
    "employee_id",
    "plan",
    "component",
    "version_number",
    "amount_minor",
    "currency",
    "base_minor",
    "rate",
    "source",
    "explanation",
)


def due_period(frequency: str, month: Period) -> Period | None:
    """The component's period that ends with `month`, if one does."""
    period = Period.of(month.start, frequency)  # type: ignore[arg-type]
    return period if period.end == month.end else None


def compute_pay(
    session: Session, month: Period, functions: FunctionRegistry, *, plan: str | None = None, version: str = "latest"
) -> PayOutcome:
    """Every line due in `month`, computed, nothing written."""
    if month.cycle != "monthly":
        raise PayError(plan or "", None, None, f"pay is run for a month, such as 2026-10, not {month}")
    resolved = resolve(session, version)
    plans = resolved.config.get("plans", {})
    if plan is not None and plan not in plans:
        raise PayError(plan, None, None, f"there is no plan '{plan}' in {resolved.name}")
    assert resolved.number is not None, "pay runs use published versions"
    outcome = PayOutcome(month, resolved.number)
    people = People.load(session)
    for slug in [plan] if plan else sorted(plans):
        document = plans[slug]
        for component in document["components"]:
            pay_period = due_period(component["frequency"], month)
            if pay_period is None:
                continue
            try:
                members = members_of(document, people, pay_period)
            except PayError as exc:
                outcome.errors.append(exc)
                break
            context = Context(session, resolved.config, functions, people, document, component)
            for line in component_lines(context, members, pay_period, outcome.errors):
                line.plan, line.component, line.currency = slug, component["slug"], document["currency"]
                outcome.lines.append(line)
    return outcome


def run_pay(
    session: Session,
    month: Period,
    functions: FunctionRegistry,
    actor: str,
    *,
    plan: str | None = None,
    version: str = "latest",
) -> PayOutcome:
    """Compute and write the month's pay (the caller commits). With errors, the run is recorded
    as failed with them and no line is written or replaced."""
    started = dt.datetime.now(dt.UTC)
    outcome = compute_pay(session, month, functions, plan=plan, version=version)
    resolved = resolve(session, str(outcome.version_number))
    run = PayRun(
        period=str(month),
        plan=plan,
        status="failed" if outcome.errors else "succeeded",
        version_number=outcome.version_number,
        version_hash=resolved.content_hash or "",
        actor=actor,
        started_at=started,
        errors=[error.as_dict() for error in outcome.errors],
        counts={
            "lines": len(outcome.lines),
            "employees": len({line.member.employee_id for line in outcome.lines}),
            "totals": {currency: format_money(total) for currency, total in sorted(outcome.totals().items())},
        },
    )
    session.add(run)
    session.flush()
    outcome.run = run
    if not outcome.errors:
        _write(session, run, outcome, plan)
    run.finished_at = dt.datetime.now(dt.UTC)
    record_change(
        session,
        actor=actor,
        action="pay.run",
        kind="pay_runs",
        key=str(run.id),
        after={**run.counts, "status": run.status},
    )
    return outcome


def _write(session: Session, run: PayRun, outcome: PayOutcome, plan: str | None) -> None:
    replaced = sa.delete(PayLine).where(PayLine.period == run.period)
    if plan is not None:
        replaced = replaced.where(PayLine.plan == plan)
    old_lines = sa.select(PayLine.id).where(replaced.whereclause)  # type: ignore[arg-type]
    session.execute(sa.delete(PayCredit).where(PayCredit.line_id.in_(old_lines)))
    session.execute(replaced)
    if not outcome.lines:
        return
    # set-based, as scorecards are written: the lines in batches through the driver, then their
    # ids read back by their unique key (an ORM insert RETURNING the ids took a second per
    # thousand lines), then the credits
    connection = session.connection()
    driver_insert(
        connection,
        PayLine.__tablename__,
        LINE_COLUMNS,
        (
            (
                run.id,
                run.period,
                str(line.pay_period),
                line.member.employee_id,
                line.plan,
                line.component,
                run.version_number,
                to_minor(line.amount),
                line.currency,
                None if line.base is None else to_minor(line.base),
                None if line.rate is None else format(line.rate.normalize(), "f"),
                orjson.dumps(line.source).decode(),
                orjson.dumps(line.words.as_dict()).decode(),
            )
            for line in outcome.lines
        ),
    )
    ids = {
        (plan_slug, component, employee_id): line_id
        for line_id, plan_slug, component, employee_id in connection.execute(
            sa.select(PayLine.id, PayLine.plan, PayLine.component, PayLine.employee_id).where(PayLine.run_id == run.id)
        )
    }
    driver_insert(
        connection,
        PayCredit.__tablename__,
        ("line_id", "record_id", "amount_minor"),
        (
            (ids[(line.plan, line.component, line.member.employee_id)], record_id, minor)
            for line in outcome.lines
            for record_id, minor in line.credits
        ),
    )
