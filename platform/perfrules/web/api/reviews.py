"""Reviews (审批): where each scorecard is in its approval flow, and acting on it. The same
checks as everywhere: who may act at which step is the workflow engine's answer alone."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...engine.models import Scorecard
from ...engine.periods import PeriodError, period_from_text
from ...org.access import visibility
from ...org.models import Employee, User
from ...plugins import load_plugins
from ...workflow.deadlines import Deadline, review_deadlines
from ...workflow.engine import ACTIONS, act, allowed_actions
from ...workflow.forms import forms_for, save_response
from ...workflow.history import review_history
from ...workflow.models import REVIEW_STATES, Review
from ...workflow.reading import may_read_scorecard
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, Timestamp, abort, committed, one_page, valid_period

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews", description="The scorecard lifecycle (审批)")


class ActionOut(Schema):
    step = fields.Str(allow_none=True)
    action = fields.Str()
    by = fields.Str()
    on_behalf_of = fields.Str(allow_none=True)
    comment = fields.Str(allow_none=True)
    at = Timestamp()


class ReviewOut(Schema):
    period = fields.Str()
    employee = fields.Str()
    template = fields.Str()
    flow = fields.Str()
    version = fields.Int()
    state = fields.Str(metadata={"description": ", ".join(REVIEW_STATES)})
    step = fields.Str(allow_none=True)
    path = fields.List(fields.Str())
    due_at = Timestamp(allow_none=True, metadata={"description": "when the current step is due, if it has a deadline"})
    overdue = fields.Bool(metadata={"description": "the current step's deadline has passed"})
    actions = fields.List(fields.Nested(ActionOut), metadata={"description": "in one review only"})
    allowed = fields.List(fields.Str(), metadata={"description": "what you may do now (in one review only)"})


class ReviewArgs(Schema):
    period = fields.Str(validate=valid_period)
    state = fields.Str(validate=validate.OneOf(REVIEW_STATES))
    step = fields.Str()


class ActionIn(Schema):
    comment = fields.Str(load_default=None, metadata={"description": "required to reject, return and reopen"})


def _period(text: str) -> str:
    try:
        return str(period_from_text(text))
    except PeriodError as exc:
        abort(404, message=str(exc))


def _row(review: Review, code: str, deadlines: dict[int, Deadline] | None = None) -> dict:
    """`deadlines`: those of a page of reviews, read at once; without it, this review's is read."""
    if deadlines is None:
        deadlines = review_deadlines(get_session(), [review])
    deadline = deadlines.get(review.id)
    return {
        "period": review.period,
        "employee": code,
        "template": review.template,
        "flow": review.flow,
        "version": review.version_number,
        "state": review.state,
        "step": review.step,
        "path": review.path,
        "due_at": deadline.due_at if deadline else None,
        "overdue": deadline is not None and deadline.overdue(dt.datetime.now(dt.UTC)),
    }


def visible_review(period: str, code: str) -> tuple[Review, str]:
    """The review, if the asker may read its scorecard (`workflow.reading`: what they see, or a
    review or dispute that waits for them or that they acted on, as on the scorecard page); 404
    otherwise, the same as for one that is not there."""
    session = get_session()
    found = session.execute(
        sa.select(Review, Employee.department_id)
        .join(Employee, Employee.id == Review.employee_id)
        .where(Review.period == _period(period), Employee.code == code)
    ).first()
    if found is not None:
        review, department_id = found
        if may_read_scorecard(session, g.user, review.period, review.employee_id, department_id):
            return review, code
    abort(404, message=f"no review of {code} for {period} that you may see")


@blp.route("")
class Reviews(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ReviewArgs, location="query")
    @blp.response(200, ReviewOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The reviews of the scorecards you may see in the organisation (your own, your department
        and the ones below it as a manager, everyone's as HR, an administrator or an auditor). A
        review outside that which waits for you, or that you acted on, is read singly."""
        session = get_session()
        query = (
            sa.select(Review, Employee.code)
            .join(Employee, Employee.id == Review.employee_id)
            .where(visibility(g.user).condition(Employee.department_id, Review.employee_id))
        )
        if "period" in args:
            query = query.where(Review.period == _period(args["period"]))
        for key in ("state", "step"):
            if key in args:
                query = query.where(getattr(Review, key) == args[key])
        rows = one_page(session, query.order_by(Review.period.desc(), Employee.code), pagination_parameters).all()
        deadlines = review_deadlines(session, [review for review, _ in rows])
        return [_row(review, code, deadlines) for review, code in rows]


@blp.route("/<period>/<employee>")
class OneReview(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, ReviewOut)
    @token_required()
    def get(self, period, employee):
        """One review with its history and what you may do now: of a scorecard you may see, or one
        whose review or dispute waits for you or that you acted on."""
        review, code = visible_review(period, employee)
        session = get_session()
        history = review_history(session, review.id)
        return {
            **_row(review, code),
            "actions": [
                {"step": a.step, "action": a.action, "by": by, "on_behalf_of": behalf, "comment": a.comment, "at": a.at}
                for a, by, behalf in history
            ],
            "allowed": sorted({a.action for a in allowed_actions(session, review, g.user)}),
        }


@blp.route("/<period>/<employee>/<any(" + ", ".join(ACTIONS) + "):action>")
class ReviewAct(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ActionIn)
    @blp.response(200, ReviewOut)
    @blp.alt_response(409, description="Not yours to do now: the message says why; nothing changed")
    def post(self, payload, period, employee, action):
        """Approve, reject (back a step), return (to the first step), lock or reopen."""
        review, code = visible_review(period, employee)
        session = get_session()
        with committed(session):
            act(session, review, g.user, action, payload["comment"], functions=load_plugins().functions)
        return _row(review, code)


# --- appraisal forms ---------------------------------------------------------------------------


class FormFieldOut(Schema):
    name = fields.Str()
    label = fields.Dict()
    type = fields.Str()
    required = fields.Bool()
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    weight = fields.Float(allow_none=True)
    scale_labels = fields.Dict(allow_none=True)
    options = fields.List(fields.Dict(), allow_none=True)


class FormResponseOut(Schema):
    period = fields.Str()
    employee = fields.Str()
    form = fields.Str()
    label = fields.Dict()
    filled_by = fields.Str(
        metadata={"description": "employee, manager or peer (see /api/v1/reviews/…/feedback): who fills this form"}
    )
    items = fields.List(fields.Str(), metadata={"description": "the manual items its ratings score"})
    fields_ = fields.List(fields.Nested(FormFieldOut), data_key="fields", attribute="fields")
    state = fields.Str(allow_none=True, metadata={"description": "draft, submitted, or null when not started"})
    values = fields.Dict(allow_none=True, metadata={"description": "a draft only to the one filling it"})
    filled_by_user = fields.Str(allow_none=True)
    submitted_at = Timestamp(allow_none=True)
    updated_at = Timestamp(allow_none=True)
    may_fill = fields.Bool(metadata={"description": "whether you may save or submit it now"})
    total = fields.Float(allow_none=True, metadata={"description": "the scorecard's total now"})


class FormResponseIn(Schema):
    values = fields.Dict(required=True, metadata={"description": "field name → answer"})
    submit = fields.Bool(
        load_default=False, metadata={"description": "submit (checked in full, counted) or save a draft"}
    )


def _form_need(review: Review, slug: str):
    need = next((n for n in forms_for(get_session(), review) if n.slug == slug), None)
    if need is None:
        abort(404, message=f"this scorecard has no form '{slug}'")
    return need


def _form_out(review: Review, code: str, need) -> dict:
    session = get_session()
    may_fill = need.may_fill(g.user)
    response = need.response if (need.submitted or may_fill) else None
    by = session.scalar(sa.select(User.login).where(User.id == response.filled_by)) if response else None
    total = session.scalar(
        sa.select(Scorecard.total).where(Scorecard.period == review.period, Scorecard.employee_id == review.employee_id)
    )
    return {
        "period": review.period,
        "employee": code,
        "form": need.slug,
        "label": need.label,
        "filled_by": need.filled_by,
        "items": need.items,
        "fields": [{"required": True, **spec} for spec in need.definition.get("fields", [])],
        "state": response.state if response else None,
        "values": response.values if response else None,
        "filled_by_user": by,
        "submitted_at": response.submitted_at if response else None,
        "updated_at": response.updated_at if response else None,
        "may_fill": may_fill,
        "total": total,
    }


@blp.route("/<period>/<employee>/forms/<form>")
class ReviewForm(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, FormResponseOut)
    @token_required()
    def get(self, period, employee, form):
        """An appraisal form of the scorecard: its fields and the answers you may see."""
        review, code = visible_review(period, employee)
        return _form_out(review, code, _form_need(review, form))

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(FormResponseIn)
    @blp.response(200, FormResponseOut)
    @blp.alt_response(409, description="Not yours to fill now: the message says why; nothing changed")
    @blp.alt_response(422, description="Answers that do not fit: `errors` has the path of each field")
    def put(self, payload, period, employee, form):
        """Save your answers as a draft, or submit them: submitting scores the manual items and
        the scorecard again."""
        review, code = visible_review(period, employee)
        _form_need(review, form)  # 404 for a form the template does not use
        session = get_session()
        with committed(session):
            save_response(
                session, review, g.user, form, payload["values"], payload["submit"], functions=load_plugins().functions
            )
        return _form_out(review, code, _form_need(review, form))
