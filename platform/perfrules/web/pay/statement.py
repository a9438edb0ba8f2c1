"""A person's pay statement (工资条): a month's lines with their totals per currency, and one
line opened with what it was computed from — the records it credits, a page at a time.

An employee reads their own; a manager, HR, administrators and auditors anyone's they may see
(`org.access.visibility`, as the API). Someone not there and someone not yours to see are the
same 404, so codes cannot be probed."""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import abort, g, render_template, request, url_for

from ...org.access import visibility
from ...org.models import Department, Employee
from ...pay.models import PayLine
from ...pay.statements import LineFilter, PlanBook, credit_count, credits_page, filtered_lines, line_months, summary
from ..auth import login_required
from ..db import get_session
from ..i18n import label
from .blueprint import bp, field_text, line_view, money, month_of, page_number, visible_lines

#: the records a line's page shows at a time
CREDITS_PER_PAGE = 50


def _statement(employee: Employee, mine: bool) -> str:
    session = get_session()
    visible = visible_lines()
    months = line_months(session, visible, employee.id)
    asked = request.args.get("month")
    month = month_of(asked) if asked else (months[0] if months else None)
    if asked and month not in months:
        abort(404)
    chosen = LineFilter(employee_id=employee.id)
    book = PlanBook(session)
    lines = (
        [line_view(book, line) for line, *_ in session.execute(filtered_lines(session, month, visible, chosen))]
        if month
        else []
    )
    return render_template(
        "pay/statement.html",
        employee=employee,
        department=label(session.scalar(sa.select(Department.label).where(Department.id == employee.department_id))),
        months=months,
        month=month,
        lines=lines,
        totals=summary(session, month, visible, chosen).totals if month else {},
        mine=mine,
        month_url=lambda m: (
            url_for("pay_pages.mine", month=m)
            if mine
            else url_for("pay_pages.statement", employee_code=employee.code, month=m)
        ),
        money=money,
    )


@bp.route("/statement")
@login_required()
def mine():
    """The signed-in employee's own pay, one month at a time (the latest by default)."""
    if g.user.employee_id is None:
        return render_template("pay/statement.html", employee=None, months=[], lines=[], totals={}, mine=True)
    return _statement(get_session().get(Employee, g.user.employee_id), mine=True)


@bp.route("/statement/<employee_code>")
@login_required()
def statement(employee_code: str):
    """The pay of anyone the user may see; anyone else is a 404."""
    session = get_session()
    employee = session.scalar(sa.select(Employee).where(Employee.code == employee_code))
    if employee is None or not visibility(g.user).allows(session, employee.department_id, employee.id):
        abort(404)
    return _statement(employee, mine=employee.id == g.user.employee_id)


@bp.route("/line/<int:line_id>")
@login_required()
def line(line_id: int):
    """One line: its base, rate, source and explanation, and the records it credits, paged."""
    session = get_session()
    found = session.execute(
        sa.select(PayLine, Employee)
        .join(Employee, Employee.id == PayLine.employee_id)
        .where(PayLine.id == line_id, visible_lines())
    ).first()
    if found is None:
        abort(404)
    pay_line, employee = found
    book = PlanBook(session)
    count, credited = credit_count(session, pay_line.id)
    pages = max(1, math.ceil(count / CREDITS_PER_PAGE))
    page = min(page_number(), pages)
    mine = employee.id == g.user.employee_id
    return render_template(
        "pay/line.html",
        line=line_view(book, pay_line),
        employee=employee,
        statement_url=(
            url_for("pay_pages.mine", month=pay_line.period)
            if mine
            else url_for("pay_pages.statement", employee_code=employee.code, month=pay_line.period)
        ),
        credit_count=count,
        credited=credited,
        credits=credits_page(session, pay_line.id, page, CREDITS_PER_PAGE),
        fields=book.main_fields(pay_line.version_number, pay_line.plan, pay_line.component),
        field_text=field_text,
        page=page,
        pages=pages,
        page_url=lambda number: url_for("pay_pages.line", line_id=line_id, page=number),
        money=money,
    )
