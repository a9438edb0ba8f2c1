"""Special awards (特别奖): the awards of the people the user may see, by month and status, a page
at a time; a form to ask for one — managers, HR and administrators, for someone they may see —
paid by a plan component that takes awards (`base: {manual: true}`); and HR's and administrators'
approval or rejection, with a note, of an award someone else asked for. `pay.awards` checks,
writes and audits; the rules are the REST API's (`web.api.pay`), and the month's run pays the
approved ones.

The form is checked here first, so that each problem is said beside its field in the reader's
language; whatever the service still refuses (the person is not in the plan that month, an
award decided already, asked for by the one deciding) is shown in its words."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...engine.periods import Period
from ...money import MoneyError, exact, from_minor, parse_money
from ...org.access import visibility
from ...org.models import Employee
from ...pay.awards import REASON_LIMIT, AwardError, decide_award, request_award
from ...pay.models import AWARD_STATUSES, PayAward
from ...pay.statements import page_of
from ..api.pay import AWARD_ROLES, DECIDE_ROLES
from ..auth import login_required
from ..db import get_session
from ..i18n import label
from .blueprint import bp, money, month_of, page_number
from .people import currency_of, labels, published, visible_person, who

#: the awards a page lists, newest first
AWARDS_PER_PAGE = 20
FIELDS = ("employee", "component", "month", "amount", "reason")


def actor() -> str:
    """Who the audit and the award name: the pay runs page's convention."""
    return f"web:{g.user.login}"


def asked_by_user(award: PayAward) -> bool:
    """Whether the signed-in user asked for the award, whichever door they came in by."""
    return who(award.requested_by) == g.user.login


def takers(config: dict) -> dict[str, dict]:
    """The "plan:component" key → what the form offers of each component that takes awards."""
    found = {}
    for slug, plan in sorted(config.get("plans", {}).items()):
        for component in plan.get("components", []):
            if not component.get("base", {}).get("manual"):
                continue
            most = component.get("rule", {}).get("most")
            found[f"{slug}:{component['slug']}"] = {
                "plan": slug,
                "component": component["slug"],
                "label": f"{label(plan.get('label')) or slug} · {label(component.get('label')) or component['slug']}",
                "most": None if most is None else exact(most),
                "currency": plan.get("currency") or "CNY",
            }
    return found


def _visible():
    return visibility(g.user).condition(Employee.department_id, PayAward.employee_id)


def _page(form: dict | None = None, errors: dict | None = None, problem: str | None = None, status: int = 200):
    session = get_session()
    config = published(session)
    offered = takers(config)
    chosen = {
        "month": month_of(request.args.get("month")) or "",
        "status": request.args.get("status") if request.args.get("status") in AWARD_STATUSES else "",
    }
    query = sa.select(PayAward).join(Employee, Employee.id == PayAward.employee_id).where(_visible())
    if chosen["month"]:
        query = query.where(PayAward.period == chosen["month"])
    if chosen["status"]:
        query = query.where(PayAward.status == chosen["status"])
    count = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(count / AWARDS_PER_PAGE))
    page = min(page_number(), pages)
    months = session.scalars(
        sa.select(PayAward.period)
        .join(Employee, Employee.id == PayAward.employee_id)
        .where(_visible())
        .distinct()
        .order_by(PayAward.period.desc())
    ).all()
    may_decide = g.user.has_role(*DECIDE_ROLES)
    rows = []
    for (award,) in page_of(session, query.order_by(PayAward.id.desc()), page, AWARDS_PER_PAGE):
        plan, component = labels([config], award.plan, award.component)
        rows.append(
            {
                "award": award,
                "plan": plan,
                "component": component,
                "amount": from_minor(award.amount_minor),
                "currency": currency_of([config], award.plan),
                "requested_by": who(award.requested_by),
                "decided_by": who(award.decided_by),
                "may_decide": may_decide and award.status == "requested" and not asked_by_user(award),
                "mine": asked_by_user(award),
            }
        )
    query_args: dict[str, Any] = {key: value for key, value in chosen.items() if value}
    return render_template(
        "pay/awards.html",
        rows=rows,
        count=count,
        chosen=chosen,
        months=months,
        statuses=AWARD_STATUSES,
        page=page,
        pages=pages,
        page_url=lambda number: url_for("pay_pages.awards", page=number, **query_args),
        may_ask=g.user.has_role(*AWARD_ROLES),
        may_decide=may_decide,
        takers=offered,
        form=form or {"month": f"{dt.date.today():%Y-%m}"},
        errors=errors or {},
        problem=problem,
        reason_limit=REASON_LIMIT,
        money=money,
    ), status


@bp.route("/awards")
@login_required()
def awards():
    """The awards of the people the user may see, newest first; the form to ask for one."""
    return _page()


def _checked(form: dict[str, str], offered: dict[str, dict]) -> tuple[dict[str, str], Employee | None, Decimal]:
    """What is wrong with the form, by field, in the reader's words; the person and the amount."""
    errors: dict[str, str] = {}
    person = visible_person(get_session(), form["employee"])
    if person is None:
        errors["employee"] = (
            _("There is nobody with the code %(code)s among the people you may see.", code=form["employee"])
            if form["employee"]
            else _("Choose the person.")
        )
    taker = offered.get(form["component"])
    if taker is None:
        errors["component"] = _("Choose what pays the award.")
    if month_of(form["month"]) is None:
        errors["month"] = _("A month, such as 2026-10.")
    amount = Decimal(0)
    try:
        amount = parse_money(form["amount"])
    except MoneyError:
        errors["amount"] = _("An amount with at most two decimals, such as 1,500.00.")
    else:
        if amount <= 0:
            errors["amount"] = _("An amount more than 0.")
        elif taker is not None and taker["most"] is not None and amount > taker["most"]:
            errors["amount"] = _(
                "At most %(most)s: the most one award of %(component)s may be.",
                most=money(taker["most"]),
                component=taker["label"],
            )
    if not form["reason"]:
        errors["reason"] = _("Say why: an award needs a reason.")
    elif len(form["reason"]) > REASON_LIMIT:
        errors["reason"] = _("At most %(count)s characters.", count=REASON_LIMIT)
    return errors, person, amount


@bp.route("/awards", methods=["POST"])
@login_required(*AWARD_ROLES)
def ask():
    """Ask for an award for someone the user may see; someone else approves it."""
    form = {name: (request.form.get(name) or "").strip()[: REASON_LIMIT + 1] for name in FIELDS}
    session = get_session()
    offered = takers(published(session))
    errors, person, amount = _checked(form, offered)
    if errors or person is None:
        return _page(form, errors, status=422)
    taker = offered[form["component"]]
    month = month_of(form["month"])
    assert month is not None
    try:
        award = request_award(
            session,
            actor(),
            employee=person.code,
            plan=taker["plan"],
            component=taker["component"],
            month=Period.parse(month),
            amount=amount,
            reason=form["reason"],
        )
    except AwardError as exc:
        session.rollback()
        return _page(form, problem=_("The award was not asked for: %(reason)s", reason=str(exc)), status=422)
    session.commit()
    flash(
        _(
            "Award %(award)s of %(amount)s %(currency)s to %(name)s in %(month)s asked for: it is paid once "
            "someone else approves it.",
            award=award.id,
            amount=money(amount),
            currency=taker["currency"],
            name=person.name,
            month=month,
        ),
        "success",
    )
    return redirect(url_for("pay_pages.awards", month=month))


@bp.route("/awards/<int:award_id>/decision", methods=["POST"])
@login_required(*DECIDE_ROLES)
def decide(award_id: int):
    """Approve or reject, with a note, an award someone else asked for."""
    session = get_session()
    found = session.scalar(
        sa.select(PayAward)
        .join(Employee, Employee.id == PayAward.employee_id)
        .where(PayAward.id == award_id, _visible())
    )
    if found is None:
        abort(404)
    decision = request.form.get("decision")
    note = (request.form.get("note") or "").strip()
    if decision not in ("approve", "reject"):
        return _page(problem=_("Approve or reject the award."), status=422)
    if len(note) > REASON_LIMIT:
        return _page(problem=_("The note has more than %(count)s characters.", count=REASON_LIMIT), status=422)
    if asked_by_user(found) and found.requested_by != actor():
        # asked for through another door (the API, the CLI): the service compares the names it
        # was given, so the page says it first
        return _page(problem=_("You asked for this award: someone else approves or rejects it."), status=422)
    try:
        decided = decide_award(session, award_id, actor(), approve=decision == "approve", note=note or None)
    except AwardError as exc:
        session.rollback()
        return _page(problem=_("The award was not decided: %(reason)s", reason=str(exc)), status=422)
    session.commit()
    flash(
        _("Award %(award)s approved: the pay run of %(month)s pays it.", award=award_id, month=decided.period)
        if decided.status == "approved"
        else _("Award %(award)s rejected.", award=award_id),
        "success",
    )
    return redirect(url_for("pay_pages.awards", month=decided.period))
