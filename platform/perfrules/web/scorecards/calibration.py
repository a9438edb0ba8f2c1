"""Calibration (校准): a group's grades against its template's target distribution, and HR or an
administrator adjusting an employee's grade with a reason (`workflow.calibration`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...engine.explain import format_points
from ...org.models import Department
from ...workflow.calibration import CalibrationError, distribution, template_definition
from ...workflow.calibration import adjust_grade as calibrate
from ..auth import login_required
from ..db import get_session
from .blueprint import SEE_ALL, bp
from .periods import parse_period
from .visible import template_labels, visible_periods

#: who may adjust grades; auditors see the calibration page read-only
CALIBRATORS = ("admin", "hr")


def _opening_template(session, templates: dict[str, str]) -> str:
    """The template the page opens on: the first in the list with a target distribution, as the
    latest version that has it defines it; else the first."""
    with_targets = [slug for slug in templates if template_definition(session, slug).get("calibration")]
    return next(iter(with_targets or templates), "")


@bp.route("/calibration")
@login_required(*SEE_ALL)
def calibration():
    """A group's grades (period, template, a department and the ones below it) against the
    template's target distribution, and its scorecards, highest total first, each with a form to
    adjust the grade with a reason (HR and administrators)."""
    session = get_session()
    periods = visible_periods()
    period = parse_period(request.args.get("period")) or (periods[0] if periods else None)
    department = (request.args.get("department") or "").strip()
    templates = template_labels(period, sa.true()) if period else {}
    template = (request.args.get("template") or "").strip() or _opening_template(session, templates)
    departments = session.execute(sa.select(Department.code, Department.label).order_by(Department.code)).all()
    problems, view = [], None
    if period and template:
        try:
            view = distribution(session, period, department or None, template)
        except CalibrationError as exc:
            problems.append(
                _("There is no department %(code)s.", code=department) if exc.kind == "missing" else str(exc)
            )
    chart = None
    if view is not None and view["size"]:
        chart = {
            "labels": [row["grade"] for row in view["grades"]],
            "target": [row["target_count"] or 0 for row in view["grades"]],
            "computed": [row["computed_count"] for row in view["grades"]],
            "adjusted": [row["adjusted_count"] for row in view["grades"]],
            "titles": {"target": _("Target"), "computed": _("Computed"), "adjusted": _("After calibration")},
            "axis": _("Scorecards"),
        }
    return render_template(
        "scorecards/calibration.html",
        periods=periods,
        period=period,
        department=department,
        departments=departments,
        templates=templates,
        template=template,
        view=view,
        chart=chart,
        problems=problems,
        can_adjust=g.user.has_role(*CALIBRATORS),
        format_points=format_points,
    )


@bp.route("/calibration/<period>/<employee_code>", methods=["POST"])
@login_required(*CALIBRATORS)
def adjust_grade(period, employee_code):
    """Set an employee's grade for the period, with a reason; back to the calibration page."""
    key = parse_period(period)
    if key is None:
        abort(404)
    session = get_session()
    try:
        adjusted = calibrate(
            session, key, employee_code, request.form.get("grade", ""), request.form.get("reason"), g.user.login
        )
    except CalibrationError as exc:
        session.rollback()
        if exc.kind == "missing":
            abort(404)
        flash(str(exc), "danger")
    else:
        session.commit()
        if adjusted is None:
            flash(_("%(employee)s is back at the computed grade.", employee=employee_code), "success")
        else:
            flash(_("%(employee)s: grade %(grade)s.", employee=employee_code, grade=adjusted.adjusted_grade), "success")
    return redirect(
        url_for(
            "scorecards.calibration",
            period=key,
            department=(request.form.get("department") or "").strip() or None,
            template=(request.form.get("template") or "").strip() or None,
        )
    )
