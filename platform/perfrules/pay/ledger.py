"""What a month's pay owes beyond the components' rules, as lines of their own: holds and their
release, clawbacks of refunded commission, a plan's draw, and negative months carried forward.

Past lines are never edited. A refund in a later month is a new negative line in that month,
linked to the line that paid on the refunded record; a hold is a negative line beside the line it
holds back from, and its release a positive one in the month it falls due; a draw tops a month up
and, when recoverable, is taken back from later earnings above it. What earlier months did is read
from their stored lines, which is why months are paid in order (`runs.check_order`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..data.models import Record
from ..engine.periods import Period
from ..money import from_minor, to_cents, to_minor
from ..org.models import Employee
from . import rules
from .compute import Context, DueLine
from .compute import percent as fraction
from .members import Member
from .models import PayCredit, PayLine
from .rules import Words, money, percent

ZERO = Decimal(0)
#: (employee id, amount, kind, words) → a closing line added to the month
Add = Callable[[int, Decimal, str, Words], None]


def someone(session: Session, employee_ids: set[int], members: list[Member]) -> dict[int, Member]:
    """A Member for each id: the plan's own members as they are, anyone else (who has left the
    plan but is still owed or owes) without parameters."""
    found = {member.employee_id: member for member in members}
    missing = employee_ids - set(found)
    if missing:
        for employee_id, code in session.execute(sa.select(Employee.id, Employee.code).where(Employee.id.in_(missing))):
            found[employee_id] = Member(-1, employee_id, code, {})
    return found


# --- holds --------------------------------------------------------------------------------------


def holds(context: Context, earned: list[DueLine]) -> list[DueLine]:
    """The share of each positive earned line held back, beside it. Each hold keeps the terms of
    its release, so that it is paid out as it was held whatever the plan says later."""
    hold = context.component["hold"]
    rate = fraction(hold["percent"])
    when_en, when_zh = _release_words(hold)
    lines = []
    for line in earned:
        if line.amount <= 0:
            continue
        held = to_cents(line.amount * rate)
        words = Words(
            f"{percent(rate)} of {money(line.amount)} held back, paid out {when_en}: −{money(held)}",
            f"{money(line.amount)} 的 {percent(rate)} 暂扣，{when_zh}发放：−{money(held)}",
        )
        if hold.get("until_paid"):
            terms = {"until_paid": hold["until_paid"], "amount": context.component["base"]["amount"]}
        else:
            terms = {"release": str(_release_month(hold, line.pay_period))}
        lines.append(DueLine(line.member, line.pay_period, -held, words, line.amount, rate, terms, kind="hold"))
        lines[-1].original = line
    return lines


def _release_words(hold: dict) -> tuple[str, str]:
    if hold.get("until_paid"):
        return "once its records are paid", "待所计记录全部回款后"
    if hold.get("until"):
        return f"in the month of {hold['until']}", f"于 {hold['until']} 所在月"
    return f"{hold['months']} months after the period", f"期末后 {hold['months']} 个月"


def _release_month(hold: dict, pay_period: Period) -> Period:
    if hold.get("until"):
        return Period.of(dt.date.fromisoformat(hold["until"]), "monthly")
    last = pay_period.end - dt.timedelta(days=1)
    months = last.year * 12 + last.month - 1 + hold["months"]
    return Period.of(dt.date(months // 12, months % 12 + 1, 1), "monthly")


def releases(session: Session, plan: dict, month: Period, members: list[Member]) -> list[DueLine]:
    """The plan's stored holds that fall due by `month` and have not been paid out, by the terms
    each was held on (even if the component has since changed or gone)."""
    released = sa.select(PayLine.original_line_id).where(
        PayLine.kind == "release", PayLine.period < str(month), PayLine.original_line_id.is_not(None)
    )
    rows = session.execute(
        sa.select(
            PayLine.id,
            PayLine.employee_id,
            PayLine.component,
            PayLine.pay_period,
            PayLine.amount_minor,
            PayLine.original_line_id,
            PayLine.source,
            PayLine.currency,
        )
        .where(
            PayLine.plan == plan["slug"],
            PayLine.kind == "hold",
            PayLine.period < str(month),
            PayLine.id.not_in(released),
        )
        .order_by(PayLine.id)
    ).all()
    by_date = [row for row in rows if "release" in row.source and Period.parse(row.source["release"]) <= month]
    by_payment = [row for row in rows if "until_paid" in row.source]
    paid_out = _paid_holds(session, month, by_payment)
    due = by_date + [row for row in by_payment if row.id in paid_out]
    people = someone(session, {row.employee_id for row in due}, members)
    lines = []
    for row in sorted(due, key=lambda row: row.id):
        amount = -from_minor(row.amount_minor)
        why_en, why_zh = ("its records are paid", "所计记录已全部回款") if row.id in paid_out else ("", "")
        words = Words(
            f"held back from {row.pay_period}, paid out now{f' ({why_en})' if why_en else ''}: {money(amount)}",
            f"{row.pay_period} 暂扣部分，本月发放{f'（{why_zh}）' if why_zh else ''}：{money(amount)}",
        )
        line = DueLine(people[row.employee_id], month, amount, words, None, None, {"hold": row.id}, kind="release")
        line.plan, line.component, line.currency = plan["slug"], row.component, row.currency
        line.reference, line.original_id = row.pay_period, row.id
        lines.append(line)
    return lines


def _paid_holds(session: Session, month: Period, holds: Sequence[sa.Row]) -> set[int]:
    """The holds whose every credited record is paid by the end of `month`: the records their
    terms name, referring to it, add up to its amount."""
    found: set[int] = set()
    by_terms: dict[str, list[sa.Row]] = defaultdict(list)
    for row in holds:
        by_terms[orjson.dumps(row.source, option=orjson.OPT_SORT_KEYS).decode()].append(row)
    for group in by_terms.values():
        paid, amount = group[0].source["until_paid"], group[0].source["amount"]
        lines = {row.original_line_id: row.id for row in group}
        credited = session.execute(
            sa.select(PayCredit.line_id, Record.external_id, sa.cast(Record.values[amount].as_string(), sa.BigInteger))
            .join(Record, Record.id == PayCredit.record_id)
            .where(PayCredit.line_id.in_(set(lines)))
        ).all()
        refers_to = Record.values[paid["refers_to"]].as_string()
        settled: dict[str, int] = dict(
            session.execute(
                sa.select(refers_to, sa.func.sum(sa.cast(Record.values[paid["amount"]].as_string(), sa.BigInteger)))
                .where(
                    Record.dataset == paid["records"],
                    Record.occurred_on < month.end,
                    refers_to.in_({external_id for _, external_id, _ in credited}),
                )
                .group_by(refers_to)
            ).all()
        )
        unpaid = {line for line, external_id, minor in credited if (settled.get(external_id) or 0) < (minor or 0)}
        found |= {hold_id for line, hold_id in lines.items() if line not in unpaid}
    return found


# --- clawbacks ----------------------------------------------------------------------------------


@dataclass
class _Paid:
    """An earned line that paid on a record: which line, how much the record brought to it."""

    line: DueLine | None  # a line of this run, or
    line_id: int | None  # a stored one
    employee_id: int
    pay_period: str
    line_amount: Decimal
    line_base: Decimal
    credited: int  # minor units
    clawed_before: Decimal  # taken back from the line by earlier months


#: how far back a refund may wait to be taken back: a refund comes within its lookback of its
#: record, and a record is paid by the end of its component's period, a year at the most
PENDING_DAYS = 400


def clawbacks(context: Context, month: Period, earned: list[DueLine], members: list[Member]) -> list[DueLine]:
    """Refunds, dated by the end of `month` and not yet taken back, of records this component has
    paid on (in an earlier month or in this one), taken back at the rate their line paid: one
    negative line per line taken back from, never more than that line paid, and a record's refunds
    together never more than it brought. A refund of a record not yet paid on (a quarterly
    commission paid in the quarter's last month) waits for it."""
    clawback, base = context.component["clawback"], context.component["base"]
    session = context.session
    amount = sa.cast(Record.values[clawback["amount"]].as_string(), sa.BigInteger)
    refers_to = Record.values[clawback["refers_to"]].as_string()
    refunds = sa.select(Record.id, Record.external_id, Record.occurred_on, amount, refers_to).where(
        Record.dataset == clawback["records"],
        amount.is_not(None),
        refers_to.is_not(None),
        Record.occurred_on < month.end,
    )
    taken_back = set(
        session.scalars(
            sa.select(PayCredit.record_id)
            .join(PayLine, PayLine.id == PayCredit.line_id)
            .where(
                PayLine.plan == context.plan["slug"],
                PayLine.component == context.component["slug"],
                PayLine.kind == "clawback",
                PayLine.period < str(month),
            )
        )
    )
    since = month.start - dt.timedelta(days=PENDING_DAYS)
    pending = [row for row in session.execute(refunds.where(Record.occurred_on >= since)) if row[0] not in taken_back]
    if not pending:
        return []
    refunded = {row[4] for row in pending}
    record_amount = sa.cast(Record.values[base["amount"]].as_string(), sa.BigInteger)
    originals = {
        external_id: (record_id, day, minor)
        for record_id, external_id, day, minor in session.execute(
            sa.select(Record.id, Record.external_id, Record.occurred_on, record_amount).where(
                Record.dataset == base["records"], Record.external_id.in_(refunded)
            )
        )
    }
    for row in pending:
        if row[4] not in originals:
            raise context.error(
                f"refund {row[1]} of {clawback['records']} refers to {base['records']} record '{row[4]}', "
                "which does not exist"
            )
    # every refund of those records, in order: the ones taken back before used up part of them
    history = session.execute(refunds.where(refers_to.in_(refunded)).order_by(Record.occurred_on, Record.id)).all()
    paid = _paid_on(context, month, earned, {record_id for record_id, _, _ in originals.values()})
    taken: dict[int, int] = defaultdict(int)
    by_line: dict[tuple[str, int], list[tuple[_Paid, str, int, Decimal]]] = defaultdict(list)
    for refund_id, external_id, day, minor, original in history:
        record_id, record_day, record_minor = originals[original]
        if record_id not in paid or not record_minor or (day - record_day).days > clawback["lookback_days"]:
            continue  # not paid on (yet), or refunded after the window: nothing to take back
        applied = min(int(minor), int(record_minor) - taken[record_id])
        if applied <= 0:
            continue
        taken[record_id] += applied
        if refund_id in taken_back:
            continue
        # each line that paid on the record gives back its part: its credit's share of the record
        for credit in paid[record_id]:
            part = from_minor(applied) * credit.credited / int(record_minor)
            by_line[(credit.pay_period, credit.employee_id)].append((credit, external_id, refund_id, part))
    return _clawback_lines(context, month, by_line, members)


def _paid_on(context: Context, month: Period, earned: list[DueLine], record_ids: set[int]) -> dict[int, list[_Paid]]:
    """Record id → the earned lines of this component that paid on it (stored, or this run's):
    its owner's, or with shared credit each person's it credited."""
    found: dict[int, list[_Paid]] = defaultdict(list)
    for line in earned:
        for record_id, minor in line.credits:
            if record_id in record_ids and line.base:
                found[record_id].append(
                    _Paid(
                        line, None, line.member.employee_id, str(line.pay_period), line.amount, line.base, minor, ZERO
                    )
                )
    if not record_ids:
        return found
    clawed = (
        sa.select(PayLine.original_line_id, sa.func.sum(PayLine.amount_minor).label("minor"))
        .where(PayLine.kind == "clawback", PayLine.period < str(month))
        .group_by(PayLine.original_line_id)
        .subquery()
    )
    rows = context.session.execute(
        sa.select(
            PayCredit.record_id,
            PayCredit.amount_minor,
            PayLine.id,
            PayLine.employee_id,
            PayLine.pay_period,
            PayLine.amount_minor,
            PayLine.base_minor,
            clawed.c.minor,
        )
        .join(PayLine, PayLine.id == PayCredit.line_id)
        .outerjoin(clawed, clawed.c.original_line_id == PayLine.id)
        .where(
            PayCredit.record_id.in_(record_ids),
            PayLine.plan == context.plan["slug"],
            PayLine.component == context.component["slug"],
            PayLine.kind == "earned",
            PayLine.period < str(month),
        )
    )
    for record_id, credited, line_id, employee_id, pay_period, line_minor, base_minor, clawed_minor in rows:
        if base_minor:
            found[record_id].append(
                _Paid(
                    None,
                    line_id,
                    employee_id,
                    pay_period,
                    from_minor(line_minor),
                    from_minor(base_minor),
                    credited,
                    -from_minor(clawed_minor or 0),
                )
            )
    return found


def _clawback_lines(
    context: Context,
    month: Period,
    by_line: dict[tuple[str, int], list[tuple[_Paid, str, int, Decimal]]],
    members: list[Member],
) -> list[DueLine]:
    people = someone(context.session, {employee_id for _, employee_id in by_line}, members)
    lines = []
    for (pay_period, employee_id), refunds in sorted(by_line.items()):
        original = refunds[0][0]
        refunded = sum((part for *_, part in refunds), ZERO)
        left = original.line_amount - original.clawed_before
        wanted = to_cents(refunded * original.line_amount / original.line_base)
        taken = min(wanted, max(left, ZERO))
        names = ", ".join(external_id for _, external_id, _, _ in refunds)
        how_en = (
            f"{money(refunded)} refunded ({names}) × {money(original.line_amount)} paid ÷ "
            f"{money(original.line_base)} credited in {pay_period} = {money(wanted)} taken back"
        )
        how_zh = (
            f"退款 {money(refunded)}（{names}）× {pay_period} 已付 {money(original.line_amount)} ÷ "
            f"计提基数 {money(original.line_base)} = 追回 {money(wanted)}"
        )
        if taken != wanted:
            how_en += f", limited to the {money(left)} that line still holds"
            how_zh += f"，以该行尚余的 {money(left)} 为限"
        line = DueLine(
            people[employee_id],
            month,
            -taken,
            Words(how_en, how_zh),
            refunded,
            None,
            {"clawback_of": pay_period, "refunds": len(refunds)},
            [(refund_id, -to_minor(to_cents(part))) for _, _, refund_id, part in refunds],
            kind="clawback",
        )
        line.reference, line.original_id, line.original = pay_period, original.line_id, original.line
        lines.append(line)
    return lines


# --- a plan's month: carried amounts and the draw -----------------------------------------------


def settle(
    session: Session, plan: dict, month: Period, lines: list[DueLine], members: list[Member], currency: str
) -> list[DueLine]:
    """The lines that close each person's month under the plan: what a negative previous month
    carried in, the draw's top-up or recovery, and what a negative month carries out."""
    slug, draw = plan["slug"], plan.get("draw")
    # what earlier months carried out and no month has carried in yet (a month may go unpaid)
    carried = {
        employee_id: minor
        for employee_id, minor in session.execute(
            sa.select(PayLine.employee_id, sa.func.sum(PayLine.amount_minor))
            .where(PayLine.plan == slug, PayLine.kind.in_(("carried_out", "carried_in")), PayLine.period < str(month))
            .group_by(PayLine.employee_id)
        )
        if minor
    }
    balances: dict[int, int] = {}
    if draw and draw["recoverable"]:
        balances = dict(
            session.execute(
                sa.select(PayLine.employee_id, sa.func.sum(PayLine.amount_minor))
                .where(PayLine.plan == slug, PayLine.kind.in_(("draw", "recovery")), PayLine.period < str(month))
                .group_by(PayLine.employee_id)
            ).all()
        )
    net: dict[int, Decimal] = defaultdict(Decimal)
    #: what holds keep back and releases pay out: the person's own money, moved in time, which a
    #: draw neither tops up nor recovers from
    deferred: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        net[line.member.employee_id] += line.amount
        if line.kind in ("hold", "release"):
            deferred[line.member.employee_id] += line.amount
    drawn = {member.employee_id for member in members} if draw else set()
    people = someone(session, set(net) | set(carried) | drawn, members)
    closing: list[DueLine] = []

    def add(employee_id: int, amount: Decimal, kind: str, words: Words) -> None:
        line = DueLine(people[employee_id], month, amount, words, None, None, {}, kind=kind)
        line.plan, line.currency = slug, currency
        closing.append(line)
        net[employee_id] += amount

    for employee_id in sorted(set(net) | set(carried) | drawn):
        if carried.get(employee_id):
            amount = -from_minor(carried[employee_id])
            add(
                employee_id,
                amount,
                "carried_in",
                Words(
                    f"carried from earlier months, where pay came to less than nothing: {money(amount)}",
                    f"自此前月份结转的负数：{money(amount)}",
                ),
            )
        if employee_id in drawn:
            earned = net[employee_id] - deferred[employee_id]
            _draw(add, people[employee_id], draw or {}, earned, from_minor(balances.get(employee_id, 0)))
        if net[employee_id] < 0:
            amount = -net[employee_id]
            add(
                employee_id,
                amount,
                "carried_out",
                Words(
                    f"the month comes to {money(-amount)}: carried into the next month, nothing is paid now",
                    f"本月合计 {money(-amount)}：结转下月，本月不发放",
                ),
            )
    return closing


def _draw(add: Add, member: Member, draw: dict, earned: Decimal, balance: Decimal) -> None:
    floor = to_cents(member.parameters.get(draw["amount"], ZERO))
    outcome = rules.draw(earned, floor, balance, draw["recoverable"])
    if outcome is not None:
        kind = "recovery" if outcome.amount < 0 else "draw" if draw["recoverable"] else "guarantee"
        add(member.employee_id, outcome.amount, kind, outcome.words)
