"""Incentive pay: run a month's pay, list the runs, read the lines — each person their own, a
manager the people they may see (`org.access`), HR, administrators and auditors everyone's —
ask for and decide special awards, and estimate what-ifs."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates

from ...engine.periods import PeriodError, period_from_text
from ...money import format_money, from_minor
from ...org.access import visibility
from ...org.models import Employee
from ...pay.awards import REASON_LIMIT, AwardError, decide_award, request_award
from ...pay.estimates import compare, more
from ...pay.exports import as_row, line_query
from ...pay.members import PayError
from ...pay.models import AWARD_STATUSES, LINE_KINDS, PAY_RUN_STATUSES, PayAward, PayLine, PayRun
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
    component = fields.Str(metadata={"description": "empty for the plan's own lines (draws, carried amounts)"})
    kind = fields.Str(metadata={"description": ", ".join(LINE_KINDS)})
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


# --- awards -------------------------------------------------------------------------------------

AWARD_ROLES = ("admin", "hr", "manager")
DECIDE_ROLES = ("admin", "hr")


class PayAwardIn(Schema):
    employee = fields.Str(required=True, metadata={"description": "the employee's code"})
    plan = fields.Str(required=True)
    component = fields.Str(required=True, metadata={"description": "a component of the plan that takes awards"})
    period = fields.Str(required=True, metadata={"description": "the month it is paid in: " + MONTH})
    amount = fields.Str(required=True, metadata={"description": "the amount, as text with at most two decimals"})
    reason = fields.Str(required=True, validate=lambda text: 0 < len(text) <= REASON_LIMIT)

    @validates("period")
    def _period(self, value, **_):
        _month(value)


class PayAwardDecisionIn(Schema):
    approve = fields.Bool(required=True)
    note = fields.Str(load_default=None, validate=lambda text: len(text) <= REASON_LIMIT)


class PayAwardOut(Schema):
    id = fields.Int()
    employee = fields.Function(lambda award: award.employee.code, metadata={"description": "the employee's code"})
    plan = fields.Str()
    component = fields.Str()
    period = fields.Str()
    amount = fields.Method("_amount", metadata={"description": "two decimals, as text"})
    reason = fields.Str()
    status = fields.Str(metadata={"description": ", ".join(AWARD_STATUSES)})
    requested_by = fields.Str()
    requested_at = Timestamp()
    decided_by = fields.Str(allow_none=True)
    decided_at = Timestamp(allow_none=True)
    decision_note = fields.Str(allow_none=True)

    def _amount(self, award: PayAward) -> str:
        return f"{from_minor(award.amount_minor):.2f}"


class PayAwardArgs(Schema):
    period = fields.Str(metadata={"description": MONTH})
    status = fields.Str(validate=lambda text: text in AWARD_STATUSES)


def _visible_award(award_id: int) -> PayAward:
    session = get_session()
    found = session.execute(
        sa.select(PayAward)
        .join(Employee, Employee.id == PayAward.employee_id)
        .where(PayAward.id == award_id, visibility(g.user).condition(Employee.department_id, PayAward.employee_id))
    ).scalar_one_or_none()
    if found is None:
        abort(404, message=f"there is no award {award_id} you may see")
    return found


@blp.route("/awards")
class PayAwards(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(PayAwardArgs, location="query")
    @blp.response(200, PayAwardOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Awards for the people you may see (yourself, your reports; HR everyone), newest first."""
        query = (
            sa.select(PayAward)
            .join(Employee, Employee.id == PayAward.employee_id)
            .where(visibility(g.user).condition(Employee.department_id, PayAward.employee_id))
            .order_by(PayAward.id.desc())
        )
        for key in ("period", "status"):
            if key in args:
                query = query.where(getattr(PayAward, key) == args[key])
        return one_page(get_session(), query, pagination_parameters).scalars().all()

    @token_required(*AWARD_ROLES)
    @blp.alt_response(403, description=only_for(*AWARD_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PayAwardIn)
    @blp.response(201, PayAwardOut, description="Asked for: it waits for someone else's approval")
    @blp.alt_response(422, description="Not asked for: why")
    def post(self, payload):
        """Ask for a special award for someone you may see; someone else approves it."""
        session = get_session()
        person = session.scalar(sa.select(Employee).where(Employee.code == payload["employee"]))
        if person is None or not visibility(g.user).allows(session, person.department_id, person.id):
            abort(422, message=f"there is no employee '{payload['employee']}' you may see")
        try:
            award = request_award(
                session,
                f"api:{g.user.login}",
                employee=payload["employee"],
                plan=payload["plan"],
                component=payload["component"],
                month=period_from_text(payload["period"]),
                amount=payload["amount"],
                reason=payload["reason"],
            )
        except AwardError as exc:
            session.rollback()
            abort(422, message=str(exc))
        session.commit()
        return award, 201


@blp.route("/awards/<int:award_id>/decision")
class PayAwardDecision(MethodView):
    @token_required(*DECIDE_ROLES)
    @blp.alt_response(403, description=only_for(*DECIDE_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PayAwardDecisionIn)
    @blp.response(200, PayAwardOut)
    @blp.alt_response(422, description="Not decided: why (already decided, or asked for by you)")
    def post(self, payload, award_id):
        """Approve or reject an award someone else asked for."""
        session = get_session()
        _visible_award(award_id)
        try:
            award = decide_award(
                session, award_id, f"api:{g.user.login}", approve=payload["approve"], note=payload["note"]
            )
        except AwardError as exc:
            session.rollback()
            abort(422, message=str(exc))
        session.commit()
        return award


# --- estimates ----------------------------------------------------------------------------------


class PayAdditionIn(Schema):
    employee = fields.Str(required=True)
    dataset = fields.Str(required=True)
    amount = fields.Str(required=True, metadata={"description": "at most two decimals"})


class PayEstimateIn(Schema):
    period = fields.Str(required=True, metadata={"description": MONTH})
    plan = fields.Str(load_default=None)
    version = fields.Str(load_default="latest", metadata={"description": "latest, a version number, or draft (HR)"})
    against = fields.Str(load_default=None, metadata={"description": "compare with this version instead (HR)"})
    add = fields.List(fields.Nested(PayAdditionIn), load_default=list, validate=lambda items: len(items) <= 100)

    @validates("period")
    def _period(self, value, **_):
        _month(value)


class PayChangeOut(Schema):
    employee = fields.Str()
    plan = fields.Str()
    component = fields.Str()
    kind = fields.Str()
    before = fields.Decimal(as_string=True, places=2, allow_none=True)
    after = fields.Decimal(as_string=True, places=2, allow_none=True)
    delta = fields.Decimal(as_string=True, places=2)
    explanation = fields.Dict(attribute="words")


class PayEstimateOut(Schema):
    month = fields.Str()
    before = fields.Str(metadata={"description": "the configuration compared with: version 4"})
    after = fields.Str(metadata={"description": "the configuration estimated with: version 4, draft"})
    changes = fields.List(
        fields.Nested(PayChangeOut), metadata={"description": "the lines you may see that would change"}
    )
    total = fields.Decimal(as_string=True, places=2)


@blp.route("/estimates")
class PayEstimates(MethodView):
    @token_required()
    @blp.alt_response(403, description="another version of the configuration: only for admin, hr")
    @blp.doc(security=SECURITY)
    @blp.arguments(PayEstimateIn)
    @blp.response(200, PayEstimateOut, description="Computed; nothing written")
    @blp.alt_response(422, description="Cannot be estimated: why")
    def post(self, payload):
        """What if: a month's pay with more collected for someone (yourself, or someone you may
        see), or — for HR — with a draft beside the published plans; every line you may see that
        would change. Nothing is written."""
        session = get_session()
        hr = bool(set(g.user.roles) & set(PAY_ROLES))
        if not hr and (payload["version"] != "latest" or payload["against"]):
            abort(403, message="only HR estimates with other versions of the configuration")
        month = period_from_text(payload["period"])
        seen = visibility(g.user)
        try:
            hypothetical = []
            for addition in payload["add"]:
                person = session.scalar(sa.select(Employee).where(Employee.code == addition["employee"]))
                if person is None or not seen.allows(session, person.department_id, person.id):
                    abort(422, message=f"there is no employee '{addition['employee']}' you may see")
                hypothetical.append(more(session, month, addition["employee"], addition["dataset"], addition["amount"]))
            estimate = compare(
                session,
                month,
                load_plugins().functions,
                plan=payload["plan"],
                version=payload["version"],
                against=payload["against"],
                hypothetical=tuple(hypothetical),
            )
        except (PayError, ConfigError) as exc:
            session.rollback()
            abort(422, message=str(exc))
        session.rollback()  # nothing is written
        codes = {c.employee for c in estimate.changes} | {e.employee for e in estimate.errors if e.employee}
        visible = {
            code
            for (code,) in session.execute(
                sa.select(Employee.code).where(
                    Employee.code.in_(codes), seen.condition(Employee.department_id, Employee.id)
                )
            )
        }
        if estimate.errors:
            # only the problems of people the asker may see, and of plans as a whole
            abort(
                422,
                message="the estimate cannot be computed",
                errors=[
                    {"path": "", "message": str(e)}
                    for e in estimate.errors
                    if e.employee is None or e.employee in visible
                ],
            )
        changes = [change for change in estimate.changes if change.employee in visible]
        return {
            "month": str(month),
            "before": estimate.before,
            "after": estimate.after,
            "changes": changes,
            "total": sum((change.delta for change in changes), Decimal(0)),
        }
