"""Running a month's pay (HR and administrators; auditors read the runs): a dry run shows every
line in words and every problem with its plan, component and employee, writing nothing; the run
itself, confirmed, writes the month's lines — replacing any an earlier run of the month wrote —
or, when anything cannot be computed, records the failure with its reasons and writes none.
The services are `pay.runs`', the same as the API's and the CLI's."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...engine.periods import Period, period_from_text
from ...org.models import Employee
from ...pay.members import PayError
from ...pay.models import PayRun
from ...pay.runs import PayOutcome, compute_pay, run_pay
from ...pay.statements import PlanBook, employees_named, page_of
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from ..db import get_session
from ..i18n import label, label_language
from .blueprint import RUN_ROLES, RUNS_READERS, bp, money, money_text, month_of, page_number

#: the runs a page lists, newest first
RUNS_PER_PAGE = 20
#: the lines a dry run shows in full; its counts and totals cover every line
PREVIEW_LINES = 200


def _labels(book: PlanBook, version: int, plan: str, component: str | None) -> tuple[str, str]:
    return (
        label(book.plan(version, plan).get("label")) or plan,
        "" if component is None else label(book.component(version, plan, component).get("label")) or component,
    )


def problems_view(book: PlanBook, version: int, errors: list[dict]) -> list[dict]:
    """A run's problems with the plan's and component's labels and the employee's name."""
    session = get_session()
    codes = sorted({error["employee"] for error in errors if error.get("employee")})
    names = dict(session.execute(sa.select(Employee.code, Employee.name).where(Employee.code.in_(codes))).all())
    shown = []
    for error in errors:
        plan, component = _labels(book, version, error.get("plan") or "", error.get("component"))
        employee = error.get("employee")
        shown.append(
            {
                "plan": plan,
                "component": component,
                "employee": f"{names.get(employee, '')} ({employee})" if employee else "",
                "message": error["message"],
            }
        )
    return shown


def _preview(outcome: PayOutcome) -> dict:
    """A dry run as the page shows it: its first lines in words, subtotals by plan and component."""
    session = get_session()
    book = PlanBook(session)
    version = outcome.version_number
    shown = outcome.lines[:PREVIEW_LINES]
    names = employees_named(session, (line.member.employee_id for line in shown))
    language = label_language()
    by_component: dict[tuple[str, str, str], list] = defaultdict(lambda: [0, Decimal("0.00")])
    for line in outcome.lines:
        subtotal = by_component[(line.plan, line.component, line.currency)]
        subtotal[0] += 1
        subtotal[1] += line.amount
    return {
        "month": str(outcome.month),
        "version": version,
        "count": len(outcome.lines),
        "employees": len({line.member.employee_id for line in outcome.lines}),
        "totals": dict(sorted(outcome.totals().items())),
        "components": [
            (*_labels(book, version, plan, component), currency, count, total)
            for (plan, component, currency), (count, total) in sorted(by_component.items())
        ],
        "lines": [
            {
                "employee": names.get(line.member.employee_id, (line.member.code, "")),
                "labels": _labels(book, version, line.plan, line.component),
                "period": str(line.pay_period),
                "amount": line.amount,
                "currency": line.currency,
                "explanation": line.words.as_dict().get(language) or line.words.en,
            }
            for line in shown
        ],
        "problems": problems_view(book, version, [error.as_dict() for error in outcome.errors]),
    }


def _page(preview: dict | None = None, month: str | None = None, problem: str | None = None, status: int = 200):
    session = get_session()
    count = session.scalar(sa.select(sa.func.count()).select_from(PayRun)) or 0
    pages = max(1, math.ceil(count / RUNS_PER_PAGE))
    page = min(page_number(), pages)
    runs = [run for (run,) in page_of(session, sa.select(PayRun).order_by(PayRun.id.desc()), page, RUNS_PER_PAGE)]
    return render_template(
        "pay/runs.html",
        runs=runs,
        page=page,
        pages=pages,
        page_url=lambda number: url_for("pay_pages.runs", page=number),
        may_run=g.user.has_role(*RUN_ROLES),
        month=month or str(period_from_text("last-month")),
        preview=preview,
        problem=problem,
        money=money,
        money_text=money_text,
    ), status


@bp.route("/runs")
@login_required(*RUNS_READERS)
def runs():
    """The form to run a month's pay, and the runs so far, newest first."""
    return _page()


def _asked_month() -> tuple[str | None, str]:
    typed = (request.form.get("month") or "").strip()[:20]
    return month_of(typed), typed


@bp.route("/runs/preview", methods=["POST"])
@login_required(*RUN_ROLES)
def preview():
    """Compute the month's pay and show it, writing nothing."""
    month, typed = _asked_month()
    if month is None:
        return _page(month=typed, problem=_("Pay is run for a month, such as 2026-10."), status=422)
    session = get_session()
    try:
        outcome = compute_pay(session, Period.parse(month), load_plugins().functions)
    except (PayError, ConfigError) as exc:
        return _page(month=month, problem=str(exc), status=422)
    finally:
        session.rollback()  # a dry run: whatever was read or flushed, nothing stays
    return _page(_preview(outcome), month)


@bp.route("/runs", methods=["POST"])
@login_required(*RUN_ROLES)
def run():
    """Compute and write the month's pay, once confirmed."""
    month, typed = _asked_month()
    if month is None:
        return _page(month=typed, problem=_("Pay is run for a month, such as 2026-10."), status=422)
    if request.form.get("confirm") != "yes":
        return _page(month=month, problem=_("Tick the box to confirm the run."), status=422)
    session = get_session()
    try:
        outcome = run_pay(session, Period.parse(month), load_plugins().functions, f"web:{g.user.login}")
    except (PayError, ConfigError) as exc:
        session.rollback()
        return _page(month=month, problem=str(exc), status=422)
    session.commit()  # a failed run is recorded with its reasons too
    assert outcome.run is not None
    if outcome.errors:
        flash(_("The run of %(month)s failed: nothing was written.", month=month), "danger")
    else:
        flash(
            _("Pay for %(month)s was run: %(count)s lines.", month=month, count=len(outcome.lines)),
            "success",
        )
    return redirect(url_for("pay_pages.run_detail", run_id=outcome.run.id))


@bp.route("/runs/<int:run_id>")
@login_required(*RUNS_READERS)
def run_detail(run_id: int):
    """One run: its month, version, status, counts and totals, and a failed run's problems."""
    session = get_session()
    found = session.get(PayRun, run_id)
    if found is None:
        abort(404)
    return render_template(
        "pay/run.html",
        run=found,
        problems=problems_view(PlanBook(session), found.version_number, found.errors or []),
        money=money,
        money_text=money_text,
    )
