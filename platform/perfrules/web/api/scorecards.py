"""Scorecards (绩效考核表): lists with filters and pages, and one with its full trace. Lists hold
what the organisation lets you see (org.access): employees their own, managers their department
and below, HR, admins and auditors everyone. One scorecard opens too when its review or one of its
disputes waits for you or you acted on it (workflow.reading, as on the scorecard page)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates

from ...engine.export import Definitions, scorecard_object, scorecard_query
from ...engine.models import Scorecard
from ...engine.periods import PeriodError, period_from_text
from ...org.access import department_subtree, visibility
from ...org.models import Department, Employee
from ...workflow.calibration import calibrated_grades
from ...workflow.models import Review
from ...workflow.reading import may_read_scorecard
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, abort, one_page

blp = Blueprint("api_scorecards", __name__, url_prefix="/api/v1/scorecards", description="Scorecards with their traces")


def _period(value: str) -> str:
    try:
        return str(period_from_text(value))
    except PeriodError as exc:
        raise ValidationError(str(exc)) from None


class ScorecardArgs(Schema):
    period = fields.Str(metadata={"description": "2026-10, 2026-Q4 … or last-month"})
    department = fields.Str(metadata={"description": "this department and the ones below it"})
    template = fields.Str()
    employee = fields.Str(metadata={"description": "an employee code"})
    grade = fields.Str()
    items = fields.Bool(load_default=False, metadata={"description": "include each scorecard's items and trace"})

    @validates("period")
    def _valid_period(self, value, **_):
        _period(value)


ITEM_KEYS = (
    "key, section, kind (kpi or manual), label, value, target, score, weight, points, error, excluded, "
    "notes, inputs (the formula's inputs by name with their values), formula, metrics, scoring, policy"
)


class ScorecardOut(Schema):
    employee = fields.Str()
    name = fields.Str()
    department = fields.Str()
    template = fields.Str()
    period = fields.Str()
    total = fields.Float(allow_none=True)
    grade = fields.Str(allow_none=True)
    rank_department = fields.Int(allow_none=True)
    rank_company = fields.Int(allow_none=True)
    error = fields.Str(allow_none=True)
    locked = fields.Bool()
    version = fields.Int(allow_none=True)
    run = fields.Int()
    calibrated_grade = fields.Str(allow_none=True, metadata={"description": "the grade HR calibrated it to, if any"})
    calibration = fields.Dict(allow_none=True, metadata={"description": "the calibration's reason, by and at"})
    review = fields.Dict(
        allow_none=True,
        metadata={
            "description": "where it is in its approval flow: state (in_review, approved, locked) and step; "
            "null when its template has no flow"
        },
    )
    items = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={"description": f"each item: {ITEM_KEYS}; in lists, null unless items=true"},
    )


def _visible(query):
    return query.where(
        visibility(g.user).condition(Scorecard.department_id, Scorecard.employee_id, Scorecard.reporting_line)
    )


def _objects(session, rows, definitions: Definitions | None) -> list[dict]:
    """The rows as scorecard objects with their calibrated grades and review states, read in two
    queries for the whole page."""
    employee_ids = {card.employee_id for card, *_ in rows}
    adjusted = calibrated_grades(session, employee_ids=employee_ids)
    reviews = {
        (review.period, review.employee_id): review
        for review in session.scalars(sa.select(Review).where(Review.employee_id.in_(sorted(employee_ids))))
    }
    objects = []
    for card, code, name, department in rows:
        key = (card.period, card.employee_id)
        result = scorecard_object(
            card,
            code,
            name,
            department,
            definitions(card.version_number, card.template) if definitions else None,
            adjusted.get(key),
        )
        result.setdefault("calibrated_grade", None)
        result.setdefault("calibration", None)
        review = reviews.get(key)
        result["review"] = None if review is None else {"state": review.state, "step": review.step}
        objects.append(result)
    return objects


@blp.route("")
class Scorecards(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ScorecardArgs, location="query")
    @blp.response(200, ScorecardOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The scorecards you may see in the organisation, by period, template and rank: your own,
        your department and the ones below it as a manager, everyone's as HR, an administrator or
        an auditor. A scorecard outside that which its review or a dispute opens to you (a step
        that names you, a stand-in's) is not listed: read it singly."""
        session = get_session()
        department_ids = None
        if "department" in args:
            department_id = session.scalar(sa.select(Department.id).where(Department.code == args["department"]))
            if department_id is None:
                abort(
                    422, errors=[{"path": "query.department", "message": f"unknown department '{args['department']}'"}]
                )
            department_ids = department_subtree(session, department_id)
        query = _visible(
            scorecard_query(
                _period(args["period"]) if "period" in args else None,
                template=args.get("template"),
                department_ids=department_ids,
            )
        )
        if "employee" in args:
            query = query.where(Employee.code == args["employee"])
        if "grade" in args:
            query = query.where(Scorecard.grade == args["grade"])
        rows = one_page(session, query, pagination_parameters).all()
        cards = _objects(session, rows, Definitions(session) if args["items"] else None)
        if not args["items"]:
            for card in cards:
                card["items"] = None
        return cards


@blp.route("/<period>/<employee>")
class OneScorecard(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, ScorecardOut)
    @token_required()
    def get(self, period, employee):
        """One employee's scorecard for a period, each item with its trace and definition: one you
        may see, or one whose review or dispute waits for you or that you acted on."""
        session = get_session()
        try:
            key = _period(period)
        except ValidationError as exc:
            abort(404, message=" ".join(exc.messages))
        row = session.execute(scorecard_query(key).where(Employee.code == employee)).first()
        card = None if row is None else row[0]
        if card is None or not may_read_scorecard(
            session, g.user, key, card.employee_id, card.department_id, card.reporting_line
        ):
            # not there, or not yours: the answer is the same, so codes cannot be probed
            abort(404, message=f"no scorecard of {employee} for {key} that you may see")
        return _objects(session, [row], Definitions(session))[0]
