"""Manual awards (特别奖: special contribution, a deal saved, a customer's praise): asked for with
an amount and a reason, approved or rejected by someone other than the person who asked, and
paid by the month's run as a line of the plan component that takes them (`base: {manual: true}`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..config.plan_schemas import base_kind
from ..config.versions import resolve
from ..engine.people import People
from ..engine.periods import Period
from ..money import MoneyError, exact, format_money, from_minor, parse_money, to_minor
from ..org.models import Employee, User
from .compute import Context, DueLine
from .members import Member, PayError, members_of
from .models import PayAward, PayLine
from .rules import Words

REASON_LIMIT = 500
#: how actors say which door they came through (web pages, the API, the command line)
DOORS = ("web", "api", "cli")


class AwardError(ValueError):
    """An award that cannot be asked for or decided as it stands: says why."""


def _award_component(config: dict, plan: str, component: str) -> tuple[dict, dict]:
    document = config.get("plans", {}).get(plan)
    if document is None:
        raise AwardError(f"there is no plan '{plan}'")
    found = next((c for c in document["components"] if c["slug"] == component), None)
    if found is None or base_kind(found["base"]) != "manual":
        takers = [c["slug"] for c in document["components"] if base_kind(c["base"]) == "manual"]
        raise AwardError(
            f"{plan} has no component '{component}' for awards (the ones that take awards: {', '.join(takers) or 'none'})"
        )
    return document, found


def request_award(
    session: Session,
    actor: str,
    *,
    employee: str,
    plan: str,
    component: str,
    month: Period,
    amount: object,
    reason: str,
) -> PayAward:
    """Ask for an award; it waits for someone else's approval. Checked against the published plan:
    the component takes awards, the person is in the plan that month, the amount is within its most."""
    document, found = _award_component(resolve(session, "latest").config, plan, component)
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise AwardError(f"the amount {exc}") from None
    if value <= 0:
        raise AwardError("the amount must be more than 0")
    most = found["rule"].get("most")
    if most is not None and value > exact(most):
        raise AwardError(
            f"the amount is more than the most an award of {component} may be ({format_money(exact(most))})"
        )
    reason = (reason or "").strip()
    if not reason:
        raise AwardError("say why: an award needs a reason")
    if len(reason) > REASON_LIMIT:
        raise AwardError(f"the reason is longer than {REASON_LIMIT} characters")
    person = session.scalar(sa.select(Employee).where(Employee.code == employee))
    if person is None:
        raise AwardError(f"there is no employee '{employee}'")
    if _employee_of(session, actor) == person.id:
        raise AwardError("nobody asks for an award to themselves: ask your manager or HR")
    _still_payable(session, plan, month)
    try:
        members = members_of(document, People.load(session, month), month)
    except PayError as exc:
        raise AwardError(str(exc)) from None
    if person.id not in {member.employee_id for member in members}:
        raise AwardError(f"{employee} is not in the plan {plan} in {month}")
    award = PayAward(
        employee_id=person.id,
        plan=plan,
        component=component,
        period=str(month),
        amount_minor=to_minor(value),
        reason=reason,
        status="requested",
        requested_by=actor,
        requested_at=dt.datetime.now(dt.UTC),
    )
    session.add(award)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="pay.award.request",
        kind="pay_awards",
        key=str(award.id),
        after=_shown(award, employee),
    )
    return award


def decide_award(session: Session, award_id: int, actor: str, *, approve: bool, note: str | None = None) -> PayAward:
    """Approve or reject an award asked for by someone else."""
    # read afresh under the row lock: an award loaded earlier in the session may since have been
    # decided by someone else
    award = session.get(PayAward, award_id, with_for_update=True, populate_existing=True)
    if award is None:
        raise AwardError(f"there is no award {award_id}")
    if award.status != "requested":
        raise AwardError(f"award {award_id} was already {award.status} by {award.decided_by}")
    if who(award.requested_by) == who(actor):
        raise AwardError("an award is approved or rejected by someone other than the person who asked for it")
    if _employee_of(session, actor) == award.employee_id:
        raise AwardError("nobody approves or rejects an award to themselves")
    if approve:
        _still_payable(session, award.plan, Period.parse(award.period))
    before = _shown(award)
    award.status = "approved" if approve else "rejected"
    award.decided_by, award.decided_at = actor, dt.datetime.now(dt.UTC)
    award.decision_note = (note or "").strip()[:REASON_LIMIT] or None
    record_change(
        session,
        actor=actor,
        action=f"pay.award.{award.status}",
        kind="pay_awards",
        key=str(award.id),
        before=before,
        after=_shown(award),
    )
    return award


def who(actor: str) -> str:
    """The person behind an actor, whatever door they came through: "web:hr1", "api:hr1" → "hr1"."""
    return actor.split(":", 1)[1] if actor.split(":", 1)[0] in DOORS else actor


def withdraw_award(session: Session, award_id: int, actor: str, *, note: str) -> PayAward:
    """Take back an approved award no run has paid yet (someone left the plan, it was a mistake)."""
    award = session.get(PayAward, award_id, with_for_update=True, populate_existing=True)
    if award is None:
        raise AwardError(f"there is no award {award_id}")
    if award.status != "approved":
        raise AwardError(f"award {award_id} is {award.status}: only an approved award is withdrawn")
    paid = session.scalar(
        sa.select(PayLine.period).where(PayLine.kind == "award", PayLine.reference == f"award {award.id}")
    )
    if paid is not None:
        raise AwardError(f"award {award_id} was paid by the run of {paid}: it can no longer be withdrawn")
    if not (note or "").strip():
        raise AwardError("say why the award is withdrawn")
    before = _shown(award)
    award.status = "withdrawn"
    award.decided_by, award.decided_at = actor, dt.datetime.now(dt.UTC)
    award.decision_note = note.strip()[:REASON_LIMIT]
    record_change(
        session,
        actor=actor,
        action="pay.award.withdrawn",
        kind="pay_awards",
        key=str(award.id),
        before=before,
        after=_shown(award),
    )
    return award


def _employee_of(session: Session, actor: str) -> int | None:
    """The employee behind an actor who is a user of the application, if any."""
    return session.scalar(sa.select(User.employee_id).where(User.login == who(actor)))


def _still_payable(session: Session, plan: str, month: Period) -> None:
    """An award is paid by its month's run, which cannot run again once a later month is paid."""
    later = session.scalar(
        sa.select(sa.func.max(PayLine.period)).where(PayLine.plan == plan, PayLine.period > str(month))
    )
    if later is not None:
        raise AwardError(f"{month} can no longer be paid ({later} is already paid): give the award in an open month")


def _shown(award: PayAward, employee: str | None = None) -> dict:
    return {
        "employee": employee or award.employee_id,
        "plan": award.plan,
        "component": award.component,
        "period": award.period,
        "amount": format_money(from_minor(award.amount_minor)),
        "reason": award.reason,
        "status": award.status,
    }


def award_lines(context: Context, members: list[Member], month: Period, errors: list[PayError]) -> list[DueLine]:
    """The month's approved awards of the component, one line each."""
    by_id = {member.employee_id: member for member in members}
    awards = context.session.scalars(
        sa.select(PayAward)
        .where(
            PayAward.plan == context.plan["slug"],
            PayAward.component == context.component["slug"],
            PayAward.period == str(month),
            PayAward.status == "approved",
        )
        .order_by(PayAward.id)
    ).all()
    lines = []
    for award in awards:
        member = by_id.get(award.employee_id)
        amount: Decimal = from_minor(award.amount_minor)
        if member is None:
            errors.append(
                context.error(
                    f"award {award.id} ({format_money(amount)}) is for someone no longer in the plan: withdraw it "
                    f"(perfrules pay award withdraw {award.id}) or put them back in the plan"
                )
            )
            continue
        words = Words(
            f"award for {award.reason}, asked for by {award.requested_by}, approved by {award.decided_by}: "
            f"{format_money(amount)}",
            f"特别奖：{award.reason}，{award.requested_by} 申请，{award.decided_by} 批准：{format_money(amount)}",
        )
        line = DueLine(member, month, amount, words, None, None, {"award": award.id}, kind="award")
        line.reference = f"award {award.id}"
        lines.append(line)
    return lines
