"""Evaluation runs: list them, start one, follow its status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates

from ...engine.models import RUN_STATUSES, EvaluationRun
from ...engine.periods import PeriodError, period_from_text
from ...engine.templates import left_out_message
from ..auth import token_required
from ..db import get_session
from ..runner import RunRefused, start_run_in_background
from .common import SECURITY, Timestamp, abort, one_page, only_for

blp = Blueprint("runs", __name__, url_prefix="/api/v1/runs", description="Evaluation runs (评估运行)")

RUN_ROLES = ("admin", "hr", "auditor")


class RunIn(Schema):
    period = fields.Str(
        required=True,
        metadata={"description": "2026-10, 2026-Q4, 2026-H2, 2026, or last-month, last-quarter, last-half, last-year"},
    )
    templates = fields.List(fields.Str(), load_default=list, metadata={"description": "only these templates"})
    department = fields.Str(load_default=None, metadata={"description": "only this department and below"})
    version = fields.Str(load_default="latest", metadata={"description": "a published version number or latest"})

    @validates("period")
    def _period(self, value, **_):
        try:
            period_from_text(value)
        except PeriodError as exc:
            raise ValidationError(str(exc)) from None


class RunProblemOut(Schema):
    employee = fields.Str(allow_none=True)
    item = fields.Str(allow_none=True)
    message = fields.Str()


class LeftOutOut(Schema):
    employee = fields.Str(metadata={"description": "the employee's code"})
    employee_id = fields.Int()
    name = fields.Str()
    department = fields.Str(metadata={"description": "the department's code when the run left them out"})
    role = fields.Str(allow_none=True, metadata={"description": "the role's code then; null without a role"})
    reason = fields.Str(
        metadata={"description": "no_template: no template applies; ambiguous: two or more apply equally"}
    )
    templates = fields.List(fields.Str(), metadata={"description": "the templates that apply equally"})
    message = fields.Function(left_out_message, metadata={"description": "why, in words"})


class RunOut(Schema):
    id = fields.Int()
    period = fields.Str()
    status = fields.Str(metadata={"description": ", ".join(RUN_STATUSES)})
    schedule = fields.Str(allow_none=True)
    version_number = fields.Int(allow_none=True)
    version_hash = fields.Str(allow_none=True)
    scope = fields.Dict()
    actor = fields.Str()
    started_at = Timestamp()
    finished_at = Timestamp(allow_none=True)
    counts = fields.Dict(metadata={"description": "while running: {progress: {step, done, total}}"})
    timings = fields.Dict(metadata={"description": "seconds: aggregate, evaluate, write, total"})
    errors = fields.List(fields.Nested(RunProblemOut))
    left_out = fields.List(
        fields.Nested(LeftOutOut),
        metadata={"description": "the active employees in scope who got no scorecard, and why"},
    )
    message = fields.Str(allow_none=True)


class RunListArgs(Schema):
    period = fields.Str()
    status = fields.Str(validate=validate.OneOf(RUN_STATUSES))


@blp.route("")
class Runs(MethodView):
    @token_required(*RUN_ROLES)
    @blp.alt_response(403, description=only_for(*RUN_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(RunListArgs, location="query")
    @blp.response(200, RunOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Runs, newest first."""
        query = sa.select(EvaluationRun)
        for key in ("period", "status"):
            if key in args:
                query = query.where(getattr(EvaluationRun, key) == args[key])
        session = get_session()
        return one_page(session, query.order_by(EvaluationRun.id.desc()), pagination_parameters).scalars().all()

    @token_required("admin", "hr")
    @blp.alt_response(403, description=only_for("admin", "hr"))
    @blp.doc(security=SECURITY)
    @blp.arguments(RunIn)
    @blp.response(202, RunOut, description="Recorded and started; follow it at the Location header")
    @blp.alt_response(409, description="A run of this period is still going")
    @blp.alt_response(422, description="Unknown period, version, template or department")
    def post(self, payload):
        """Evaluate a period with a published version, in the background."""
        period = period_from_text(payload["period"])
        try:
            run = start_run_in_background(
                get_session(),
                period,
                version=payload["version"],
                templates=payload["templates"],
                department=payload["department"],
                actor=f"api:{g.user.login}",
            )
        except RunRefused as exc:
            if exc.busy:
                abort(409, message=exc.message)
            abort(422, message=exc.message, errors=[{"path": f"json.{exc.field}", "message": exc.message}])
        return run, 202, {"Location": url_for("runs.Run", run_id=run.id)}


@blp.route("/<int:run_id>")
class Run(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, RunOut)
    @blp.alt_response(403, description=only_for(*RUN_ROLES))
    @token_required(*RUN_ROLES)
    def get(self, run_id):
        """One run: status, progress while running, counts, timings and errors."""
        run = get_session().get(EvaluationRun, run_id)
        if run is None:
            abort(404, message=f"no run {run_id}")
        return run
