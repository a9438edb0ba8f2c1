"""Scorecard pages (绩效考核表): an employee's own scorecards explained item by item, any one
scorecard the user may see, a manager's team table, and the company summary by department.

Who sees what is decided by `org.access.visibility` and applied in every query: employees see
their own, managers their department and the departments below it, HR, admins and auditors
everyone. A scorecard that is not there and one that is not yours to see are the same 404.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..engine.explain import RuleBook, explain_scorecard, format_number, format_points, label_text
from ..engine.export import scorecard_object, scorecard_query
from ..engine.models import Scorecard
from ..engine.periods import Period, PeriodError
from ..engine.scorecards import item_definitions
from ..org.access import department_subtree, visibility
from ..org.models import Department, Employee, User
from ..plugins import load_plugins
from ..workflow.calibration import CalibrationError, adjustment_object, adjustments, distribution
from ..workflow.calibration import adjust_grade as calibrate
from ..workflow.calibration_models import GradeAdjustment
from ..workflow.deadlines import step_deadline
from ..workflow.engine import ACTIONS, WorkflowError, act, allowed_actions
from ..workflow.forms import FormError, forms_for, save_response
from ..workflow.history import review_history
from ..workflow.models import Review
from ..workflow.reading import may_read_scorecard
from ..workflow.reruns import RECOMPUTED
from .auth import login_required
from .db import get_session
from .disputes import dispute_panel
from .feedback import peer_panel
from .i18n import label, label_language

bp = Blueprint("scorecards", __name__, url_prefix="/scorecards")

SEE_ALL = ("admin", "hr", "auditor")
#: the most rows the team table shows; the counts and charts cover every scorecard that matches
TEAM_ROWS = 1000
#: histogram bins of totals: [0, 10), [10, 20) … [110, 120), 120 and more
BIN_WIDTH, BIN_COUNT = 10, 12
GRADE_COLOURS = ["#1a7f37", "#2f6fb0", "#5b9bd5", "#d4a72c", "#c2410c", "#8b1e3f"]


def _condition():
    return visibility(get_session(), g.user).condition(Scorecard.department_id, Scorecard.employee_id)


def _period_key(text: str):
    """Periods in time order: by their last day, then the longer first (2026-Q4 after 2026-12)."""
    try:
        period = Period.parse(text)
    except PeriodError:
        return (0, 0, 0)
    return (period.end.toordinal(), period.months, text)


def _parse_period(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(Period.parse(text))
    except PeriodError:
        return None


def _same_cycle(periods, period: str) -> list[str]:
    try:
        months = Period.parse(period).months
    except PeriodError:
        return []
    return sorted((p for p in periods if _period_key(p)[1] == months), key=_period_key)


# --- one scorecard -------------------------------------------------------------------------------


def _card_page(row, picker_url, mine: bool):
    """Render one scorecard row (Scorecard, code, name, department code, department label)."""
    session = get_session()
    card, code, name, department, department_label = row
    language = label_language()
    rules = RuleBook(session)  # the version's snapshot, read once for the definitions and the rules
    current = scorecard_object(
        card, code, name, department, item_definitions(rules.snapshot(card.version_number), card.template)
    )

    # the employee's scorecards the user may see: the period picker, the trend, the previous one
    history = session.execute(
        sa.select(Scorecard.period, Scorecard.total, Scorecard.grade).where(
            Scorecard.employee_id == card.employee_id, _condition()
        )
    ).all()
    periods = sorted((h.period for h in history), key=_period_key, reverse=True)
    trend_periods = _same_cycle(periods, card.period)
    totals = {h.period: h.total for h in history}
    earlier = [p for p in trend_periods if _period_key(p) < _period_key(card.period)]
    previous = None
    if earlier:
        found = session.execute(scorecard_query(earlier[-1], employee_id=card.employee_id).where(_condition())).first()
        if found is not None:
            old, *names = found
            previous = scorecard_object(old, *names)
    view = explain_scorecard(current, rules(card.version_number, card.template), language, _, previous)

    # ranks are among the scorecards of the same template: in the company and in the department
    counts = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Scorecard.department_id == card.department_id)).where(
            Scorecard.period == card.period, Scorecard.template == card.template, Scorecard.total.is_not(None)
        )
    ).one()
    charts = {
        "attainment": {
            "labels": [a["label"] for a in view["attainment"]],
            "values": [round(a["ratio"] * 100, 1) for a in view["attainment"]],
            "basis": [a["basis"] for a in view["attainment"]],
            "title": _("Attainment (%)"),
            "note_score": _("share of the item's top score (no target)"),
        },
        "trend": {
            "labels": trend_periods,
            "values": [None if totals[p] is None else round(totals[p], 1) for p in trend_periods],
            "title": _("Total"),
        },
    }
    return render_template(
        "scorecards/card.html",
        card=view,
        department_label=department_label,
        periods=periods,
        picker_url=picker_url,
        mine=mine,
        charts=charts,
        company_count=counts[0],
        department_count=counts[1],
        see_team=g.user.has_role("manager", *SEE_ALL),
        review=_review_panel(session, card, rules),
        action_names=ACTION_NAMES,
        forms=_forms_panel(session, card),
        disputes=dispute_panel(session, card),
        calibration=adjustment_object(adjustments(session, card.period, [card.employee_id]).get(card.employee_id)),
    )


def _review_panel(session, card: Scorecard, rules: RuleBook) -> dict | None:
    """Where the scorecard is in its approval flow, what happened, and what the user may do."""
    review = session.scalar(
        sa.select(Review).where(Review.period == card.period, Review.employee_id == card.employee_id)
    )
    if review is None:
        return None
    steps = {
        step["name"]: step
        for step in rules.snapshot(review.version_number)
        .get("approval_flows", {})
        .get(review.flow, {})
        .get("steps", [])
    }
    history = review_history(session, review.id)
    deadline = step_deadline(steps.get(review.step), review.step_started_at) if review.state == "in_review" else None
    return {
        "state": review.state,
        "step": steps.get(review.step, {}).get("label") if review.step else None,
        "due_at": deadline.due_at if deadline else None,
        "overdue": deadline is not None and deadline.overdue(dt.datetime.now(dt.UTC)),
        "steps": [(name, step.get("label"), name in review.path) for name, step in steps.items()],
        "history": [
            {
                "step": steps.get(a.step, {}).get("label"),
                "action": a.action,
                "by": by,
                "for": behalf,
                "comment": a.comment,
                "at": a.at,
            }
            for a, by, behalf in history
        ],
        "allowed": sorted({a.action for a in allowed_actions(session, review, g.user)}, key=ACTIONS.index),
    }


@bp.route("/<period>/<employee_code>/review/<any(approve, reject, return, lock, reopen):action>", methods=["POST"])
@login_required()
def act_on_review(period, employee_code, action):
    """Approve, reject, return, lock or reopen, as the workflow engine allows the user."""
    key = _parse_period(period)
    row = _card_row(scorecard_query(key).where(Employee.code == employee_code)) if key else None
    review = None
    if row is not None:
        review = get_session().scalar(
            sa.select(Review).where(Review.period == key, Review.employee_id == row[0].employee_id)
        )
    if review is None:
        abort(404)
    session = get_session()
    try:
        act(session, review, g.user, action, request.form.get("comment"), functions=load_plugins().functions)
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        flash(_("Done: %(action)s.", action=ACTION_NAMES.get(action, action)), "success")
    return redirect(url_for("scorecards.show", period=key, employee_code=employee_code))


#: the actions in the reader's language
ACTION_NAMES = {
    "approve": _l("approve"),
    "reject": _l("reject"),
    "return": _l("return to the employee"),
    "lock": _l("lock"),
    "reopen": _l("reopen"),
    RECOMPUTED: _l("sent back: the numbers changed"),
}


def _card_row(query):
    """The scorecard row the query finds, if the user may read it: within what they see, or
    because its review or one of its disputes opens it to them (`workflow.reading`, the rule the
    API follows too)."""
    session = get_session()
    row = session.execute(query.add_columns(Department.label)).first()
    if row is None or not may_read_scorecard(session, g.user, row[0].period, row[0].employee_id, row[0].department_id):
        return None
    return row


@bp.route("/mine")
@login_required()
def mine():
    """The signed-in employee's own scorecards, one period at a time."""
    session = get_session()
    if g.user.employee_id is None:
        return render_template("scorecards/card.html", card=None, no_employee=True, periods=[], mine=True)
    periods = sorted(
        session.scalars(sa.select(Scorecard.period).where(Scorecard.employee_id == g.user.employee_id)),
        key=_period_key,
        reverse=True,
    )
    if not periods:
        return render_template("scorecards/card.html", card=None, no_employee=False, periods=[], mine=True)
    asked = request.args.get("period")
    period = _parse_period(asked) if asked else periods[0]
    if period not in periods:
        abort(404)
    row = _card_row(scorecard_query(period, employee_id=g.user.employee_id))
    if row is None:
        abort(404)
    return _card_page(row, lambda p: url_for("scorecards.mine", period=p), mine=True)


@bp.route("/<period>/<employee_code>")
@login_required()
def show(period, employee_code):
    """Any one scorecard the user may see; anything else is a 404, so codes cannot be probed."""
    key = _parse_period(period)
    if key is None:
        abort(404)
    row = _card_row(scorecard_query(key).where(Employee.code == employee_code))
    if row is None:
        abort(404)
    own = row[0].employee_id == g.user.employee_id
    return _card_page(row, lambda p: url_for("scorecards.show", period=p, employee_code=employee_code), mine=own)


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else ""


def form_fields(definition: dict) -> list[dict]:
    """A form's fields as `_forms.html` shows them: ratings with the whole steps of their scale."""
    fields = []
    for spec in definition.get("fields", []):
        spec = dict(spec)
        if spec["type"] == "rating":
            spec["steps"] = list(range(int(-(-spec["min"] // 1)), int(spec["max"] // 1) + 1))
            spec["max_text"] = _number_text(spec["max"])
        fields.append(spec)
    return fields


def _forms_panel(session, card: Scorecard) -> list[dict]:
    """The scorecard's appraisal forms: the one the reader may fill now (with their draft), and
    the submitted answers for everyone who may see the scorecard; a peer form with its feedback
    as far as the reader may see it."""
    review = session.scalar(
        sa.select(Review).where(Review.period == card.period, Review.employee_id == card.employee_id)
    )
    if review is None:
        return []
    panels = []
    for need in forms_for(session, review):
        response, may_fill = need.response, need.may_fill(g.user)
        if not may_fill and not need.submitted:
            response = None  # someone else's draft is theirs alone
        by = session.scalar(sa.select(User.login).where(User.id == response.filled_by)) if response else None
        panels.append(
            {
                "slug": need.slug,
                "label": need.label,
                "fields": form_fields(need.definition),
                "may_fill": may_fill,
                "state": response.state if response else None,
                "values": dict(response.values or {}) if response else {},
                "by": by,
                "submitted_at": response.submitted_at if response else None,
                "peer": peer_panel(session, review, need) if need.filled_by == "peer" else None,
            }
        )
    return panels


@bp.route("/<period>/<employee_code>/forms/<form_slug>", methods=["POST"])
@login_required()
def fill_form(period, employee_code, form_slug):
    """Save an appraisal form of the scorecard as a draft, or submit it."""
    key = _parse_period(period)
    row = _card_row(scorecard_query(key).where(Employee.code == employee_code)) if key else None
    session = get_session()
    review = None
    if row is not None:
        review = session.scalar(sa.select(Review).where(Review.period == key, Review.employee_id == row[0].employee_id))
    need = next((n for n in forms_for(session, review) if n.slug == form_slug), None) if review else None
    if need is None:
        abort(404)
    submit = request.form.get("action") == "submit"
    values = {
        spec["name"]: request.form[spec["name"]]
        for spec in need.definition.get("fields", [])
        if spec["name"] in request.form
    }
    try:
        save_response(session, review, g.user, form_slug, values, submit, functions=load_plugins().functions)
    except FormError as exc:
        session.rollback()
        labels = {spec["name"]: label(spec.get("label")) or spec["name"] for spec in need.definition["fields"]}
        for name, problem in exc.errors.items():
            flash(_("%(field)s: %(problem)s", field=labels.get(name, name), problem=problem), "danger")
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        form_label = label(need.label) or form_slug
        flash(
            _("%(form)s submitted.", form=form_label) if submit else _("%(form)s saved as a draft.", form=form_label),
            "success",
        )
    return redirect(url_for("scorecards.show", period=key, employee_code=employee_code))


# --- the team table ------------------------------------------------------------------------------

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


def _visible_periods() -> list[str]:
    return sorted(
        get_session().scalars(sa.select(Scorecard.period).distinct().where(_condition())), key=_period_key, reverse=True
    )


def _template_labels(period: str, condition) -> dict[str, str]:
    """Template slug → label in the user's language, from the versions the period was scored by."""
    session = get_session()
    rules, language = RuleBook(session), label_language()
    labels: dict[str, str] = {}
    for slug, version in session.execute(
        sa.select(Scorecard.template, Scorecard.version_number)
        .distinct()
        .where(Scorecard.period == period, condition)
        .order_by(Scorecard.version_number.desc())
    ):
        labels.setdefault(slug, label_text(rules(version, slug).label, language) or slug)
    return dict(sorted(labels.items()))


def _grade_order(period: str, condition, found) -> list[str]:
    """The grades in the order of their bands (highest first), as the period's templates list them;
    grades no template lists (an older version's) go last."""
    session = get_session()
    rules = RuleBook(session)
    order: dict[str, float] = {}
    for slug, version in session.execute(
        sa.select(Scorecard.template, Scorecard.version_number).distinct().where(Scorecard.period == period, condition)
    ):
        for band in rules(version, slug).grades:
            order[band["grade"]] = max(order.get(band["grade"], float("-inf")), band.get("min", 0))
    grades = sorted(order, key=lambda grade: -order[grade])
    return grades + sorted(set(found) - set(grades))


def _histogram(condition) -> dict:
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
    counts = dict(
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
    visible = _condition()
    periods = _visible_periods()
    period = _parse_period(request.args.get("period")) or (periods[0] if periods else None)
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
    templates = _template_labels(period, visible) if period else {}
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
    grade_names = _grade_order(period, visible, [grade for grade in by_grade if grade]) if period else []
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


# --- the company summary -------------------------------------------------------------------------


@bp.route("/company")
@login_required(*SEE_ALL)
def company():
    """Every department's count, average, lowest and highest total and grades, aggregated in SQL;
    the grades per department and the company average over the periods as charts."""
    session = get_session()
    periods = _visible_periods()
    period = _parse_period(request.args.get("period")) or (periods[0] if periods else None)
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
    grade_names = _grade_order(period, sa.true(), [grade for grade in overall_grades if grade]) if period else []

    cycle_periods = _same_cycle(periods, period) if period else []
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
        templates=_template_labels(period, sa.true()) if period else {},
        departments=departments,
        grades=grades,
        grade_names=grade_names,
        overall=overall,
        overall_grades=overall_grades,
        charts=charts,
        format_points=format_points,
    )


# --- calibration (校准) -----------------------------------------------------------------------------

#: who may adjust grades; auditors see the calibration page read-only
CALIBRATORS = ("admin", "hr")


@bp.route("/calibration")
@login_required(*SEE_ALL)
def calibration():
    """A group's grades (period, template, a department and the ones below it) against the
    template's target distribution, and its scorecards, highest total first, each with a form to
    adjust the grade with a reason (HR and administrators)."""
    session = get_session()
    periods = _visible_periods()
    period = _parse_period(request.args.get("period")) or (periods[0] if periods else None)
    department = (request.args.get("department") or "").strip()
    templates = _template_labels(period, sa.true()) if period else {}
    template = (request.args.get("template") or "").strip() or next(iter(templates), "")
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
    key = _parse_period(period)
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
