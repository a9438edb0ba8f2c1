"""Calibration (校准): a group's grades against its template's target distribution, and grades
adjusted with a reason. HR, administrators and auditors read; HR and administrators adjust,
never their own grade."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...engine.periods import PeriodError, period_from_text
from ...workflow.calibration import CalibrationError, adjust_grade, adjustment_object, distribution
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, abort, only_for

blp = Blueprint(
    "api_calibration",
    __name__,
    url_prefix="/api/v1/calibration",
    description="Calibration against a target grade distribution (校准)",
)


class DistributionArgs(Schema):
    period = fields.Str(required=True, metadata={"description": "2026-10, 2026-Q4 … or last-month"})
    department = fields.Str(metadata={"description": "this department and the ones below it (default: everyone)"})
    template = fields.Str(required=True)


class GradeOut(Schema):
    grade = fields.Str()
    label = fields.Raw(allow_none=True)
    target_percent = fields.Float(allow_none=True)
    target_count = fields.Int(allow_none=True, metadata={"description": "rounded by the largest remainder"})
    computed_count = fields.Int()
    adjusted_count = fields.Int()


class AdjustmentOut(Schema):
    grade = fields.Str()
    computed_grade = fields.Str(allow_none=True)
    reason = fields.Str()
    by = fields.Str()
    at = fields.Str()


class CardOut(Schema):
    employee = fields.Str()
    name = fields.Str()
    department = fields.Str()
    total = fields.Float(allow_none=True)
    computed_grade = fields.Str(allow_none=True)
    grade = fields.Str(allow_none=True, metadata={"description": "after calibration"})
    adjustment = fields.Nested(AdjustmentOut, allow_none=True)
    locked = fields.Bool()


class DistributionOut(Schema):
    period = fields.Str()
    department = fields.Str(allow_none=True)
    template = fields.Str()
    size = fields.Int()
    configured = fields.Bool(metadata={"description": "whether the template has a target distribution"})
    grades = fields.List(fields.Nested(GradeOut))
    ungraded = fields.Dict(keys=fields.Str(), values=fields.Int())
    scorecards = fields.List(fields.Nested(CardOut))


class AdjustIn(Schema):
    grade = fields.Str(required=True, validate=validate.Length(min=1, max=8))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class AdjustOut(Schema):
    period = fields.Str()
    employee = fields.Str()
    adjustment = fields.Nested(
        AdjustmentOut, allow_none=True, metadata={"description": "null: back at the computed grade"}
    )


def _period(text: str) -> str:
    try:
        return str(period_from_text(text))
    except PeriodError as exc:
        abort(422, message=str(exc), errors={"query": {"period": [str(exc)]}})


@blp.route("")
class Distribution(MethodView):
    @token_required("admin", "hr", "auditor")
    @blp.alt_response(403, description=only_for("admin", "hr", "auditor"))
    @blp.doc(security=SECURITY)
    @blp.arguments(DistributionArgs, location="query")
    @blp.response(200, DistributionOut)
    def get(self, args):
        """Per grade: the target percent and count, the computed count and the count after calibration;
        with the group's scorecards, highest total first."""
        try:
            return distribution(get_session(), _period(args["period"]), args.get("department"), args["template"])
        except CalibrationError as exc:
            abort(404, message=str(exc))


@blp.route("/<period>/<employee>")
class Adjust(MethodView):
    @token_required("admin", "hr")
    @blp.alt_response(403, description=only_for("admin", "hr"))
    @blp.doc(security=SECURITY)
    @blp.arguments(AdjustIn)
    @blp.response(200, AdjustOut)
    @blp.alt_response(
        409,
        description="The scorecard is locked, or it is your own (nobody calibrates their own "
        "grade): the message says which; nothing changed",
    )
    def put(self, payload, period, employee):
        """Set the employee's grade for the period, with a reason (adjusting again replaces it; the
        computed grade removes the adjustment)."""
        session = get_session()
        key = _period(period)
        try:
            adjusted = adjust_grade(session, key, employee, payload["grade"], payload["reason"], g.user)
        except CalibrationError as exc:
            session.rollback()
            abort({"missing": 404, "locked": 409, "own": 409}.get(exc.kind, 422), message=str(exc))
        session.commit()
        return {"period": key, "employee": employee, "adjustment": adjustment_object(adjusted)}
