"""The team table: the scorecards of the user's department subtree (everyone's for HR, admins
and auditors) filtered and sorted, with their counts, a histogram of totals and the grades,
aggregated in SQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template, request, url_for
from flask_babel import gettext as _

from ...engine.explain import RuleBook, format_number, format_points
from ...engine.models import Scorecard
from ...org.access import department_subtree
from ...org.models import Department, Employee
from ...workflow.calibration_models import GradeAdjustment
from ...workflow.models import Review
from ..auth import login_required
from ..db import get_session
from .blueprint import SEE_ALL, bp
from .periods import parse_period
from .visible import GRADE_COLOURS, grade_order, template_labels, visible_condition, visible_periods

#: the most rows the team table shows; the counts and charts cover every scorecard that matches
TEAM_ROWS = 1000
#: histogram bins of totals: [0, 10), [10, 20) … [110, 120), 120 and more
BIN_WIDTH, BIN_COUNT = 10, 12
SORTS = {
    "employee": Employee.code,
    "name": Employee.name,
    "department": Department.code,
    "template": Scorecard.template,
    "total": Scorecard.total,
    "grade": Scorecard.grade,
    "rank_department": Scorecard.rank_department,
    "rank_company": Scorecard.rank_company,
}
#: the order a column sorts in when first asked for
DEFAULT_ORDER = {"total": "desc"}


def _histogram(condition: sa.ColumnElement[bool]) -> dict[str, list]:
    """Totals in bins of 10 points, counted in SQL."""
    edges = list(range(BIN_WIDTH, BIN_WIDTH * BIN_COUNT + 1, BIN_WIDTH))
    # literal numbers, so that the CASE in GROUP BY is the very expression selected (PostgreSQL)
    bucket = sa.case(
        *[
            (Scorecard.total < sa.literal_column(str(edge)), sa.literal_column(str(index)))
            for index, edge in enumerate(edges)
        ],
        else_=sa.literal_column(str(len(edges))),
    )
    counts: dict[int, int] = dict(
        get_session()
        .execute(
            sa.select(bucket.label("bin"), sa.func.count())
            .select_from(Scorecard)
            .join(Employee, Employee.id == Scorecard.employee_id)
            .join(Department, Department.id == Scorecard.department_id)
            .where(condition, Scorecard.total.is_not(None))
            .group_by(bucket)
        )
        .all()
    )
    labels = [f"<{BIN_WIDTH}"] + [f"{low}–{low + BIN_WIDTH}" for low in edges[:-1]] + [f"≥{edges[-1]}"]
    return {"labels": labels, "values": [counts.get(index, 0) for index in range(len(labels))]}


@bp.route("/team")
@login_required("manager", *SEE_ALL)
def team():
    """The scorecards of the user's department subtree (everyone's for HR, admins and auditors):
    filtered by department, template, grade and a search, sortable by any column."""
    session = get_session()
    visible = visible_condition()
    periods = visible_periods()
    period = parse_period(request.args.get("period")) or (periods[0] if periods else None)
    args = {key: (request.args.get(key) or "").strip() for key in ("department", "template", "grade", "q")}
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "total"
    order = (
        request.args.get("order") if request.args.get("order") in ("asc", "desc") else DEFAULT_ORDER.get(sort, "asc")
    )

    base = [Scorecard.period == period, visible]
    departments = session.execute(
        sa.select(Department.code, Department.label)
        .where(Department.id.in_(sa.select(Scorecard.department_id).where(*base)))
        .order_by(Department.code)
    ).all()
    templates = template_labels(period, visible) if period else {}
    problems = []
    filters = list(base)
    if args["department"]:
        department_id = session.scalar(sa.select(Department.id).where(Department.code == args["department"]))
        if department_id is None:
            problems.append(_("There is no department %(code)s.", code=args["department"]))
            filters.append(sa.false())
        else:
            filters.append(Scorecard.department_id.in_(sorted(department_subtree(session, department_id))))
    if args["template"]:
        filters.append(Scorecard.template == args["template"])
    if args["grade"]:
        filters.append(Scorecard.total.is_(None) if args["grade"] == "-" else Scorecard.grade == args["grade"])
    if args["q"]:
        filters.append(
            sa.or_(
                Employee.code.icontains(args["q"], autoescape=True), Employee.name.icontains(args["q"], autoescape=True)
            )
        )
    condition = sa.and_(*filters)

    column = SORTS[sort]
    ordering = [column.is_(None), column.desc() if order == "desc" else column.asc(), Employee.code]
    rows = session.execute(
        sa.select(
            Scorecard.period,
            Scorecard.template,
            Scorecard.total,
            Scorecard.grade,
            Scorecard.error,
            Scorecard.rank_department,
            Scorecard.rank_company,
            Employee.code,
            Employee.name,
            Department.code.label("department"),
            Department.label.label("department_label"),
            GradeAdjustment.adjusted_grade,
            GradeAdjustment.reason.label("adjustment_reason"),
            Review.state.label("review_state"),
            Review.step.label("review_step"),
            Review.flow.label("review_flow"),
            Review.version_number.label("review_version"),
        )
        .join(Employee, Employee.id == Scorecard.employee_id)
        .join(Department, Department.id == Scorecard.department_id)
        .outerjoin(
            GradeAdjustment,
            sa.and_(GradeAdjustment.period == Scorecard.period, GradeAdjustment.employee_id == Scorecard.employee_id),
        )
        .outerjoin(Review, sa.and_(Review.period == Scorecard.period, Review.employee_id == Scorecard.employee_id))
        .where(condition)
        .order_by(*ordering)
        .limit(TEAM_ROWS)
    ).all()
    step_labels = _step_labels(
        RuleBook(session), {(row.review_version, row.review_flow) for row in rows if row.review_step}
    )
    summary = session.execute(
        sa.select(
            sa.func.count(), sa.func.avg(Scorecard.total), sa.func.min(Scorecard.total), sa.func.max(Scorecard.total)
        )
        .join(Employee, Employee.id == Scorecard.employee_id)
        .join(Department, Department.id == Scorecard.department_id)
        .where(condition)
    ).one()
    by_grade = dict(
        session.execute(
            sa.select(Scorecard.grade, sa.func.count())
            .join(Employee, Employee.id == Scorecard.employee_id)
            .join(Department, Department.id == Scorecard.department_id)
            .where(condition)
            .group_by(Scorecard.grade)
        ).all()
    )
    grade_names = grade_order(period, visible, [grade for grade in by_grade if grade]) if period else []
    all_grades = dict(
        session.execute(sa.select(Scorecard.grade, sa.func.count()).where(*base).group_by(Scorecard.grade)).all()
    )
    charts = {
        "histogram": {**_histogram(condition), "title": _("Scorecards"), "axis": _("Total")},
        "grades": {
            "labels": grade_names,
            "values": [by_grade.get(grade, 0) for grade in grade_names],
            "colours": [GRADE_COLOURS[i % len(GRADE_COLOURS)] for i in range(len(grade_names))],
            "title": _("Scorecards"),
        },
    }

    def sort_url(key: str) -> str:
        next_order = ("asc" if order == "desc" else "desc") if key == sort else DEFAULT_ORDER.get(key, "asc")
        return url_for(
            "scorecards.team", **{k: v for k, v in args.items() if v}, period=period, sort=key, order=next_order
        )

    return render_template(
        "scorecards/team.html",
        periods=periods,
        period=period,
        args=args,
        sort=sort,
        order=order,
        rows=rows,
        count=summary[0],
        average=summary[1],
        lowest=summary[2],
        highest=summary[3],
        by_grade=by_grade,
        grade_names=grade_names,
        grade_choices=sorted(g for g in all_grades if g),
        departments=departments,
        templates=templates,
        problems=problems,
        charts=charts,
        sort_url=sort_url,
        row_limit=TEAM_ROWS,
        see_all=g.user.has_role(*SEE_ALL),
        format_points=format_points,
        format_number=format_number,
        step_labels=step_labels,
    )


def _step_labels(rules: RuleBook, flows: set[tuple[int, str]]) -> dict[tuple[int, str, str], dict]:
    """The label of each step of the given (version, flow) pairs, by (version, flow, step)."""
    labels = {}
    for version, flow in flows:
        for step in rules.snapshot(version).get("approval_flows", {}).get(flow, {}).get("steps", []):
            labels[(version, flow, step["name"])] = step.get("label") or {}
    return labels
