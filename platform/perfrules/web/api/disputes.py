"""Disputes (申诉): an employee contests an item of their approved scorecard; the manager or HR
accepts it with a correction or rejects it. The same checks as the pages: `workflow.disputes`
decides who may do what, `workflow.dispute_views` who sees which."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...engine.periods import PeriodError, period_from_text
from ...org.access import visibility
from ...org.models import Employee
from ...plugins import load_plugins
from ...workflow.dispute_models import DISPUTE_ROUTES, DISPUTE_STATES, Dispute
from ...workflow.dispute_views import dispute_objects, visible_query
from ...workflow.disputes import (
    DECISIONS,
    DisputeError,
    DisputeInvalid,
    raise_dispute,
    resolve_dispute,
    withdraw_dispute,
)
from ...workflow.models import Review
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, Timestamp, abort, one_page, valid_period

blp = Blueprint(
    "api_disputes", __name__, url_prefix="/api/v1/disputes", description="Disputes on approved scorecards (申诉)"
)


class DisputeOut(Schema):
    id = fields.Int()
    period = fields.Str()
    employee = fields.Str()
    employee_name = fields.Str()
    item = fields.Str(metadata={"description": "the item's name, as in the scorecard's trace"})
    item_label = fields.Dict(allow_none=True)
    item_kind = fields.Str(metadata={"description": "kpi or manual"})
    points_raised = fields.Float(allow_none=True, metadata={"description": "the item's points when disputed"})
    review_state = fields.Str(metadata={"description": "the review's state when disputed: approved or locked"})
    reason = fields.Str()
    raised_by = fields.Str()
    raised_at = Timestamp()
    state = fields.Str(metadata={"description": ", ".join(DISPUTE_STATES)})
    routed_to = fields.Str(metadata={"description": ", ".join(DISPUTE_ROUTES)})
    resolved_by = fields.Str(allow_none=True)
    on_behalf_of = fields.Str(allow_none=True, metadata={"description": "whom a delegate resolved it for"})
    resolved_at = Timestamp(allow_none=True)
    resolution = fields.Str(allow_none=True)
    correction = fields.Dict(
        allow_none=True,
        metadata={
            "description": "what an acceptance changed: value and previous_value (a manual item) or data_corrected "
            "(a KPI item), total_before/after, points_before/after, reopened"
        },
    )
    may_resolve = fields.Bool(metadata={"description": "whether you may accept or reject it now"})
    may_withdraw = fields.Bool()


class DisputeArgs(Schema):
    period = fields.Str(validate=valid_period)
    state = fields.Str(validate=validate.OneOf(DISPUTE_STATES))
    employee = fields.Str()


class DisputeIn(Schema):
    period = fields.Str(required=True, metadata={"description": "2026-10, 2026-Q4 …"})
    employee = fields.Str(load_default=None, metadata={"description": "your own employee code (the default)"})
    item = fields.Str(required=True, metadata={"description": "the item's name, as in the scorecard's trace"})
    reason = fields.Str(required=True)


class CorrectionIn(Schema):
    value = fields.Raw(metadata={"description": "a manual item's corrected value, 0–100"})
    data_corrected = fields.Bool(metadata={"description": "a KPI item: the records have been corrected"})


class ResolveIn(Schema):
    decision = fields.Str(required=True, validate=validate.OneOf(DECISIONS))
    resolution = fields.Str(required=True, metadata={"description": "what the employee reads: why"})
    correction = fields.Nested(CorrectionIn, load_default=None, metadata={"description": "to accept"})


def _period(text: str, field: str | None = None) -> str:
    try:
        return str(period_from_text(text))
    except PeriodError as exc:
        if field:
            abort(422, message=str(exc), errors={"json": {field: [str(exc)]}})
        abort(404, message=str(exc))


def _visible(dispute_id: int) -> Dispute:
    """The dispute, if the asker may see it; 404 otherwise."""
    session = get_session()
    row = session.execute(visible_query(session, g.user).where(Dispute.id == dispute_id)).first()
    if row is None:
        abort(404, message=f"no dispute {dispute_id} that you may see")
    return row[0]


def _object(dispute: Dispute) -> dict:
    """The dispute as its actor sees it just after acting (a delegate may no longer see it)."""
    session = get_session()
    code, name = session.execute(
        sa.select(Employee.code, Employee.name).where(Employee.id == dispute.employee_id)
    ).one()
    return dispute_objects(session, [(dispute, code, name)], g.user)[0]


def _refused(exc: DisputeError) -> None:
    get_session().rollback()
    if isinstance(exc, DisputeInvalid):
        abort(422, message=str(exc), errors={"json": {exc.field: [str(exc)]}})
    abort(409, message=str(exc))


@blp.route("")
class Disputes(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(DisputeArgs, location="query")
    @blp.response(200, DisputeOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The disputes you may see (your own, your teams', or all for HR), newest first."""
        session = get_session()
        query = visible_query(session, g.user)
        if "period" in args:
            query = query.where(Dispute.period == _period(args["period"]))
        if "state" in args:
            query = query.where(Dispute.state == args["state"])
        if "employee" in args:
            query = query.where(Employee.code == args["employee"])
        rows = one_page(session, query.order_by(Dispute.raised_at.desc(), Dispute.id.desc()), pagination_parameters)
        return dispute_objects(session, rows, g.user)

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(DisputeIn)
    @blp.response(201, DisputeOut)
    @blp.alt_response(409, description="Not yours to dispute now: the message says why; nothing changed")
    @blp.alt_response(422, description="An unknown item or no reason: `errors` has the path")
    def post(self, payload):
        """Dispute an item of your approved or locked scorecard, with a reason."""
        session = get_session()
        period = _period(payload["period"], "period")
        employee = payload["employee"]
        query = (
            sa.select(Review)
            .join(Employee, Employee.id == Review.employee_id)
            .where(
                Review.period == period,
                visibility(g.user).condition(Employee.department_id, Review.employee_id),
            )
        )
        review = session.scalar(
            query.where(Employee.code == employee) if employee else query.where(Employee.id == g.user.employee_id)
        )
        if review is None:
            abort(404, message=f"no scorecard under review of {employee or 'yours'} for {period}")
        try:
            dispute = raise_dispute(session, review, g.user, payload["item"], payload["reason"])
        except DisputeError as exc:
            _refused(exc)
        session.commit()
        return _object(dispute)


@blp.route("/<int:dispute_id>")
class OneDispute(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DisputeOut)
    @token_required()
    def get(self, dispute_id):
        """One dispute with its resolution and what you may do now."""
        return _object(_visible(dispute_id))


@blp.route("/<int:dispute_id>/resolve")
class ResolveDispute(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ResolveIn)
    @blp.response(200, DisputeOut)
    @blp.alt_response(409, description="Not yours to resolve: the message says why; nothing changed")
    @blp.alt_response(422, description="No resolution, or a correction that does not fit the item")
    def post(self, payload, dispute_id):
        """Accept with a correction (`{"value": 80}` for a manual item, `{"data_corrected": true}` for a
        KPI item: the scorecard is scored again and its review reopened), or reject, with a resolution."""
        dispute = _visible(dispute_id)
        session = get_session()
        try:
            resolve_dispute(
                session,
                dispute,
                g.user,
                payload["decision"],
                payload["resolution"],
                payload["correction"],
                functions=load_plugins().functions,
            )
        except DisputeError as exc:
            _refused(exc)
        session.commit()
        return _object(dispute)


@blp.route("/<int:dispute_id>/withdraw")
class WithdrawDispute(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DisputeOut)
    @blp.alt_response(409, description="Not yours, or no longer open; nothing changed")
    @token_required()
    def post(self, dispute_id):
        """Take back your open dispute."""
        dispute = _visible(dispute_id)
        session = get_session()
        try:
            withdraw_dispute(session, dispute, g.user)
        except DisputeError as exc:
            _refused(exc)
        session.commit()
        return _object(dispute)
