"""Pay runs: every component of the published plans that falls due in a month, computed for
every member and written at once — or, when anything cannot be computed, nothing written and
every reason recorded. A month's lines are replaced by a new run of that month; the run keeps
the configuration version it used, so it can be run again with that version to the same cent.

A monthly component is due every month for that month; a quarterly one in the quarter's last
month, for the quarter; half-yearly and yearly alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..config.versions import resolve
from ..db.bulk import driver_insert, reserve_ids
from ..engine.people import People
from ..engine.periods import Period
from ..formula import FunctionRegistry
from ..money import format_money, to_minor
from . import ledger
from .awards import award_lines
from .compute import Context, DueLine, Hypothetical, component_lines
from .contests import contest_lines, contest_month
from .formulas import formula_lines
from .members import Member, PayError, members_of
from .models import PayCredit, PayLine, PayRun
from .proration import PRORATED_RULES, prorate
from .rules import Words


@dataclass
class PayOutcome:
    month: Period
    #: 0 for a draft
    version_number: int
    lines: list[DueLine] = field(default_factory=list)
    errors: list[PayError] = field(default_factory=list)
    run: PayRun | None = None
    #: "version 4", "draft"
    version: str = ""

    def totals(self) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for line in self.lines:
            found[line.currency] = found.get(line.currency, Decimal("0.00")) + line.amount
        return found


#: the advisory lock a pay run holds on PostgreSQL until it commits ("pay" in ASCII)
PAY_RUN_LOCK = 0x706179

LINE_COLUMNS = (
    "id",
    "kind",
    "reference",
    "original_line_id",
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
    session: Session,
    month: Period,
    functions: FunctionRegistry,
    *,
    plan: str | None = None,
    version: str = "latest",
    hypothetical: tuple[Hypothetical, ...] = (),
) -> PayOutcome:
    """Every line due in `month`, computed, nothing written. An estimate may compute with a draft
    (`version="draft"`) and with `hypothetical` records; a run may not (`run_pay`)."""
    if month.cycle != "monthly":
        raise PayError(plan or "", None, None, f"pay is run for a month, such as 2026-10, not {month}")
    resolved = resolve(session, version)
    plans = resolved.config.get("plans", {})
    if plan is not None and plan not in plans:
        raise PayError(plan, None, None, f"there is no plan '{plan}' in {resolved.name}")
    slugs = [plan] if plan else sorted(plans)
    outcome = PayOutcome(month, resolved.number or 0, version=resolved.name)
    loaded: dict[Period, People] = {}

    def people_of(period: Period) -> People:
        """The organisation of a period (everyone employed in it, placed as they were), once."""
        if period not in loaded:
            loaded[period] = People.load(session, period)
        return loaded[period]

    people = people_of(month)
    for slug in slugs:
        document = plans[slug]
        try:
            monthly = members_of(document, people, month)
        except PayError as exc:
            outcome.errors.append(exc)
            continue
        lines: list[DueLine] = []
        for component in document["components"]:
            context = Context(session, resolved.config, functions, people, document, component, hypothetical)
            try:
                found = _component_month(context, people_of, month, monthly, outcome.errors)
            except PayError as exc:
                outcome.errors.append(exc)
                continue
            for line in found:
                line.plan, line.component, line.currency = slug, component["slug"], document["currency"]
            lines.extend(found)
        lines.extend(ledger.releases(session, document, month, monthly))
        draw = {document["draw"]["amount"]} if document.get("draw") else set()
        drawn, _ = prorate(document.get("proration"), monthly, month, draw)  # a draw is target pay too
        lines.extend(ledger.settle(session, document, month, lines, drawn, document["currency"]))
        outcome.lines.extend(lines)
    return outcome


def _component_month(
    context: Context,
    people_of: Callable[[Period], People],
    month: Period,
    monthly: list[Member],
    errors: list[PayError],
) -> list[DueLine]:
    """The component's lines in `month`: what its rule earns when it is due, what it holds back and
    releases, and what refunds take back."""
    component = context.component
    rule = component["rule"]
    lines: list[DueLine] = []
    if rule["kind"] == "contest":
        if contest_month(rule) == month:
            lines = contest_lines(context, monthly, month)
    elif rule["kind"] == "award":
        lines = award_lines(context, monthly, month, errors)
    else:
        pay_period = due_period(component["frequency"], month)
        if pay_period is not None:
            members = monthly
            if pay_period != month:  # a quarter's (or a year's) members, with whoever left in it
                context = dataclasses.replace(context, people=people_of(pay_period))
                members = members_of(context.plan, context.people, pay_period)
            if rule["kind"] in PRORATED_RULES:
                amounts = {rule[key] for key in ("target_pay", "amount") if rule.get(key)}
                members, shares = prorate(context.plan.get("proration"), members, pay_period, amounts)
                context = dataclasses.replace(context, shares=shares)
            compute = formula_lines if rule["kind"] == "formula" else component_lines
            lines = compute(context, members, pay_period, errors)
            for line in lines:
                found = context.shares.get(line.member.employee_id)
                if found is not None:
                    line.words = Words(f"{line.words.en} ({found.words.en})", f"{line.words.zh}（{found.words.zh}）")
    if component.get("hold"):
        lines += ledger.holds(context, lines)
    if component.get("clawback"):
        lines += ledger.clawbacks(context, month, [line for line in lines if line.kind == "earned"], monthly)
    return lines


def check_order(session: Session, month: Period, plans: list[str] | None) -> None:
    """Months are paid in order: what a month carries, recovers, releases and claws back is read
    from the months before it, so a month is run again only until a later one has been paid."""
    later = session.execute(
        sa.select(PayLine.plan, sa.func.max(PayLine.period))
        .where(PayLine.period > str(month), *([PayLine.plan.in_(plans)] if plans is not None else []))
        .group_by(PayLine.plan)
        .order_by(PayLine.plan)
    ).first()
    if later is not None:
        raise PayError(
            later[0],
            None,
            None,
            f"{later[1]} is already paid: months are paid in order, and {month} cannot be run again after a "
            "later month (its lines would no longer be what the later month was computed from)",
        )


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
    if version == "draft":
        raise PayError(plan or "", None, None, "pay is run with a published version: estimate with the draft instead")
    if session.get_bind().dialect.name == "postgresql":
        # one pay run at a time (several workers may be asked at once): what a month pays depends
        # on the months before it, and a month's lines are replaced whole; SQLite's write
        # transactions are one at a time already
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAY_RUN_LOCK})
    check_order(session, month, [plan] if plan else None)
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
    unsynchronised = {"synchronize_session": False}  # no line is in the session: nothing to fetch back
    session.execute(sa.delete(PayCredit).where(PayCredit.line_id.in_(old_lines)), execution_options=unsynchronised)
    session.execute(replaced, execution_options=unsynchronised)
    if not outcome.lines:
        return
    # set-based, as scorecards are written: the lines' ids drawn at once, so that a line refers to
    # another of the same run (a hold to its line, a clawback of this month's commission) and the
    # credits to their lines without reading anything back; then lines and credits in bulk
    connection = session.connection()
    ids = dict(zip(map(id, outcome.lines), reserve_ids(connection, PayLine.__tablename__, len(outcome.lines))))
    driver_insert(connection, PayLine.__tablename__, LINE_COLUMNS, (_row(run, line, ids) for line in outcome.lines))
    driver_insert(
        connection,
        PayCredit.__tablename__,
        ("line_id", "record_id", "amount_minor"),
        ((ids[id(line)], record_id, minor) for line in outcome.lines for record_id, minor in line.credits),
    )


def _row(run: PayRun, line: DueLine, ids: dict[int, int]) -> tuple:
    original = ids[id(line.original)] if line.original is not None else line.original_id
    return (
        ids[id(line)],
        line.kind,
        line.reference,
        original,
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
