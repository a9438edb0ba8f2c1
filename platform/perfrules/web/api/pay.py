"""Incentive pay: run a month's pay, list the runs, and read the lines — each person their own,
a manager the people they may see (`org.access`), HR, administrators and auditors everyone's."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates

from ...engine.periods import PeriodError, period_from_text
from ...money import format_money
from ...org.access import visibility
from ...org.models import Employee
from ...pay.exports import as_row, line_query
from ...pay.members import PayError
from ...pay.models import PAY_RUN_STATUSES, PayLine, PayRun
from ...pay.runs import compute_pay, run_pay
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, Timestamp, abort, one_page, only_for

blp = Blueprint("pay", __name__, url_prefix="/api/v1/pay", description="Incentive pay (激励): runs and lines")

PAY_ROLES = ("admin", "hr")
READ_RUN_ROLES = ("admin", "hr", "auditor")
MONTH = "a month: 2026-10, or last-month"


def _month(text: str) -> None:
    try:
        period = period_from_text(text)
    except PeriodError as exc:
        raise ValidationError(str(exc)) from None
    if period.cycle != "monthly":
        raise ValidationError(f"pay is run for a month, such as 2026-10, not {text}")


class PayRunIn(Schema):
    period = fields.Str(required=True, metadata={"description": MONTH})
    plan = fields.Str(load_default=None, metadata={"description": "only this plan"})
    version = fields.Str(load_default="latest", metadata={"description": "a published version number or latest"})
    dry_run = fields.Bool(load_default=False, metadata={"description": "compute and answer the lines; write nothing"})

    @validates("period")
    def _period(self, value, **_):
        _month(value)


class PayProblemOut(Schema):
    plan = fields.Str()
    component = fields.Str(allow_none=True)
    employee = fields.Str(allow_none=True)
    message = fields.Str()


class PayRunOut(Schema):
    id = fields.Int(allow_none=True, metadata={"description": "null for a dry run"})
    period = fields.Str()
    plan = fields.Str(allow_none=True)
    status = fields.Str(metadata={"description": ", ".join(PAY_RUN_STATUSES) + ", or dry_run"})
    version_number = fields.Int()
    counts = fields.Dict(metadata={"description": "{lines, employees, totals: {currency: amount}}"})
    errors = fields.List(fields.Nested(PayProblemOut))
    started_at = Timestamp(allow_none=True)
    finished_at = Timestamp(allow_none=True)


class PayLineOut(Schema):
    employee = fields.Str()
    name = fields.Str()
    department = fields.Str()
    plan = fields.Str()
    component = fields.Str()
    period = fields.Str(metadata={"description": "the component's period: 2026-10, 2026-Q4 …"})
    month = fields.Str(metadata={"description": "the month of the run"})
    amount = fields.Decimal(as_string=True, places=2, metadata={"description": "two decimals, as text: 12000.00"})
    currency = fields.Str()
    base = fields.Decimal(as_string=True, places=2, allow_none=True)
    rate = fields.Str(allow_none=True, metadata={"description": "the rate or coefficient, exact: 0.05"})
    source = fields.Dict()
    explanation = fields.Dict(metadata={"description": "{en, zh}: the calculation in words"})


class PayLineArgs(Schema):
    period = fields.Str(required=True, metadata={"description": MONTH})
    plan = fields.Str()
    employee = fields.Str(metadata={"description": "an employee's code"})

    @validates("period")
    def _period(self, value, **_):
        _month(value)


class PayRunListArgs(Schema):
    period = fields.Str(metadata={"description": MONTH})


@blp.route("/runs")
class PayRuns(MethodView):
    @token_required(*READ_RUN_ROLES)
    @blp.alt_response(403, description=only_for(*READ_RUN_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PayRunListArgs, location="query")
    @blp.response(200, PayRunOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Pay runs, newest first."""
        query = sa.select(PayRun).order_by(PayRun.id.desc())
        if "period" in args:
            query = query.where(PayRun.period == args["period"])
        return one_page(get_session(), query, pagination_parameters).scalars().all()

    @token_required(*PAY_ROLES)
    @blp.alt_response(403, description=only_for(*PAY_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PayRunIn)
    @blp.response(201, PayRunOut, description="Computed and written (or, with dry_run, only computed)")
    @blp.alt_response(422, description="Nothing written: the reasons, by plan, component and employee")
    def post(self, payload):
        """Compute the pay due in a month from the published plans, and write its lines at once."""
        session = get_session()
        month = period_from_text(payload["period"])
        options = {"plan": payload["plan"], "version": payload["version"]}
        try:
            if payload["dry_run"]:
                outcome = compute_pay(session, month, load_plugins().functions, **options)
            else:
                outcome = run_pay(session, month, load_plugins().functions, f"api:{g.user.login}", **options)
        except (PayError, ConfigError) as exc:
            session.rollback()
            abort(422, message=str(exc))
        session.commit()  # a failed run is recorded with its reasons too
        if outcome.errors:
            abort(
                422,
                message=f"{len(outcome.errors)} problem(s); nothing was written",
                errors=[{"path": "", "message": str(error)} for error in outcome.errors],
            )
        if outcome.run is not None:
            return outcome.run, 201
        return {
            "id": None,
            "period": str(month),
            "plan": payload["plan"],
            "status": "dry_run",
            "version_number": outcome.version_number,
            "counts": {
                "lines": len(outcome.lines),
                "employees": len({line.member.employee_id for line in outcome.lines}),
                "totals": {currency: format_money(total) for currency, total in sorted(outcome.totals().items())},
            },
            "errors": [],
        }, 201


@blp.route("/lines")
class PayLines(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(PayLineArgs, location="query")
    @blp.response(200, PayLineOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """A month's pay lines you may see, by employee, plan and component, each explained."""
        session = get_session()
        month = str(period_from_text(args["period"]))
        query = line_query(month, args.get("plan")).where(
            visibility(g.user).condition(Employee.department_id, PayLine.employee_id)
        )
        if "employee" in args:
            query = query.where(Employee.code == args["employee"])
        return [
            as_row(line, code, name, department, None)
            for line, code, name, department in one_page(session, query, pagination_parameters)
        ]
