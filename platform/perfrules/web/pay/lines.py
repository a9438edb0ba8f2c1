"""A month's pay lines of everyone the user may see — a manager the people below them, HR,
administrators and auditors everyone, an employee their own (`org.access.visibility`, as the
API) — filtered by department, plan, component and a search, a page at a time, with counts and
totals per currency worked out in SQL; and the same lines, exactly as filtered, as CSV or XLSX
(`pay.exports`: amounts as numbers, text neutralised)."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, abort, render_template, request, url_for

from ...pay.exports import as_row, to_csv, to_xlsx
from ...pay.statements import LineFilter, PlanBook, filter_choices, filtered_lines, line_months, page_of, summary
from ..auth import login_required
from ..db import get_session
from ..i18n import label, label_language
from .blueprint import bp, line_view, money, month_of, page_number, visible_lines

#: the lines a page shows; the counts and totals cover every line the filters keep
LINES_PER_PAGE = 50
FILTERS = ("department", "plan", "component", "q")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _chosen() -> tuple[dict[str, str], LineFilter]:
    args = {key: (request.args.get(key) or "").strip()[:100] for key in FILTERS}
    return args, LineFilter(
        department=args["department"] or None,
        plan=args["plan"] or None,
        component=args["component"] or None,
        search=args["q"] or None,
    )


@bp.route("/lines")
@login_required()
def lines() -> str:
    """The month's lines the user sees (the latest month by default), filtered and paged."""
    session = get_session()
    visible = visible_lines()
    months = line_months(session, visible)
    month = month_of(request.args.get("month")) or (months[0] if months else None)
    args, chosen = _chosen()
    if month is None:
        return render_template("pay/lines.html", months=[], month=None, args=args, rows=[], total=None)
    found = summary(session, month, visible, chosen)
    pages = max(1, math.ceil(found.lines / LINES_PER_PAGE))
    page = min(page_number(), pages)
    book = PlanBook(session)
    rows = [
        {**line_view(book, line), "code": code, "name": name, "department": department}
        for line, code, name, department in page_of(
            session, filtered_lines(session, month, visible, chosen), page, LINES_PER_PAGE
        )
    ]
    choices = filter_choices(session, month, visible)
    plans: dict[str, str] = {}
    components: dict[str, str] = {}
    for plan, component, version in choices["components"]:
        plans.setdefault(plan, label(book.plan(version, plan).get("label")) or plan)
        if not args["plan"] or plan == args["plan"]:
            components.setdefault(component, label(book.component(version, plan, component).get("label")) or component)
    departments = {code: label(department_label) or code for code, department_label in choices["departments"]}
    query: dict[str, Any] = {key: value for key, value in args.items() if value}
    return render_template(
        "pay/lines.html",
        months=months,
        month=month,
        args=args,
        rows=rows,
        total=found,
        departments=departments,
        plans=plans,
        components=components,
        page=page,
        pages=pages,
        page_url=lambda number: url_for("pay_pages.lines", month=month, page=number, **query),
        download_url=lambda kind: url_for("pay_pages.download", kind=kind, month=month, **query),
        filtered=bool(query),
        money=money,
    )


@bp.route("/lines/download.<kind>")
@login_required()
def download(kind: str):
    """The month's lines the user sees, exactly as the page's filters keep them, every page."""
    if kind not in DOWNLOADS:
        abort(404)
    month = month_of(request.args.get("month"))
    if month is None:
        abort(404)
    session = get_session()
    _, chosen = _chosen()
    rows = [
        as_row(line, code, name, department, label_language())
        for line, code, name, department in session.execute(filtered_lines(session, month, visible_lines(), chosen))
    ]
    # a byte order mark, so that Excel opens the CSV's Chinese as UTF-8
    body = to_xlsx(rows) if kind == "xlsx" else ("\ufeff" + to_csv(rows)).encode("utf-8")
    return Response(
        body,
        mimetype=DOWNLOADS[kind],
        headers={"Content-Disposition": f'attachment; filename="pay-lines-{month}.{kind}"'},
    )
