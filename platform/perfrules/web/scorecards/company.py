"""The company summary (HR, admins and auditors): every department's count, average, lowest and
highest total and grades for a period, and the company average over the periods of its cycle."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _

from ...engine.explain import format_points, label_text
from ...engine.models import Scorecard
from ...org.models import Department
from ..auth import login_required
from ..db import get_session
from ..i18n import label_language
from .blueprint import SEE_ALL, bp
from .periods import parse_period, same_cycle
from .visible import GRADE_COLOURS, grade_order, template_labels, visible_periods


@bp.route("/company")
@login_required(*SEE_ALL)
def company():
    """Every department's count, average, lowest and highest total and grades, aggregated in SQL;
    the grades per department and the company average over the periods as charts."""
    session = get_session()
    periods = visible_periods()
    period = parse_period(request.args.get("period")) or (periods[0] if periods else None)
    template = (request.args.get("template") or "").strip()
    filters = [Scorecard.period == period]
    if template:
        filters.append(Scorecard.template == template)
    language = label_language()

    aggregates = (
        sa.func.count().label("count"),
        sa.func.count(Scorecard.total).label("scored"),
        sa.func.avg(Scorecard.total).label("average"),
        sa.func.min(Scorecard.total).label("lowest"),
        sa.func.max(Scorecard.total).label("highest"),
    )
    per_department = (
        sa.select(Scorecard.department_id, *aggregates).where(*filters).group_by(Scorecard.department_id).subquery()
    )
    departments = session.execute(
        sa.select(Department.id, Department.code, Department.label, *[per_department.c[a.name] for a in aggregates])
        .join(per_department, per_department.c.department_id == Department.id)
        .order_by(Department.code)
    ).all()
    grades = {}
    for department_id, grade, count in session.execute(
        sa.select(Scorecard.department_id, Scorecard.grade, sa.func.count())
        .where(*filters)
        .group_by(Scorecard.department_id, Scorecard.grade)
    ):
        grades.setdefault(department_id, {})[grade] = count
    overall = session.execute(sa.select(*aggregates).where(*filters)).one()
    overall_grades = dict(
        session.execute(sa.select(Scorecard.grade, sa.func.count()).where(*filters).group_by(Scorecard.grade)).all()
    )
    grade_names = grade_order(period, sa.true(), [grade for grade in overall_grades if grade]) if period else []

    cycle_periods = same_cycle(periods, period) if period else []
    trend_filters = [Scorecard.period.in_(cycle_periods)] + ([Scorecard.template == template] if template else [])
    trend = {
        p: (average, count)
        for p, average, count in session.execute(
            sa.select(Scorecard.period, sa.func.avg(Scorecard.total), sa.func.count(Scorecard.total))
            .where(*trend_filters)
            .group_by(Scorecard.period)
        )
    }
    charts = {
        "departments": {
            "labels": [label_text(row.label, language) or row.code for row in departments],
            "datasets": [
                {
                    "label": grade,
                    "colour": GRADE_COLOURS[i % len(GRADE_COLOURS)],
                    "values": [grades.get(row.id, {}).get(grade, 0) for row in departments],
                }
                for i, grade in enumerate(grade_names)
            ],
            "title": _("Scorecards"),
        },
        "trend": {
            "labels": cycle_periods,
            "values": [None if trend.get(p, (None,))[0] is None else round(trend[p][0], 1) for p in cycle_periods],
            "title": _("Company average"),
        },
    }
    return render_template(
        "scorecards/company.html",
        periods=periods,
        period=period,
        template=template,
        templates=template_labels(period, sa.true()) if period else {},
        departments=departments,
        grades=grades,
        grade_names=grade_names,
        overall=overall,
        overall_grades=overall_grades,
        charts=charts,
        format_points=format_points,
    )
