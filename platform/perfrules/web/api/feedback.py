"""Peer feedback (同事评价) through the API: the feedback asked of you, answered or declined, and
asking colleagues for feedback on a scorecard, with the pages' checks (`workflow.feedback`). A
request asked of someone else is a 404, and nothing here shows a colleague's scorecard."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...plugins import load_plugins
from ...workflow.feedback import ask, drop, peer_forms
from ...workflow.feedback_answers import Asked, answer, asked_of, decline, one_asked
from ...workflow.feedback_models import FEEDBACK_STATES, FeedbackRequest
from ...workflow.feedback_views import feedback_view
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, Timestamp, abort, committed
from .reviews import FormFieldOut, visible_review

blp = Blueprint("api_feedback", __name__, url_prefix="/api/v1", description="Peer feedback (同事评价 / 360)")


class AskedOut(Schema):
    id = fields.Int()
    colleague = fields.Str(metadata={"description": "whose period it is about: their name, nothing of their scorecard"})
    period = fields.Str()
    form = fields.Str()
    label = fields.Dict()
    fields_ = fields.List(fields.Nested(FormFieldOut), data_key="fields", attribute="fields")
    state = fields.Str(metadata={"description": ", ".join(s for s in FEEDBACK_STATES if s != "proposed")})
    values = fields.Dict(metadata={"description": "your answers (a draft's too)"})
    due_on = fields.Date(allow_none=True)
    overdue = fields.Bool()
    requested_at = Timestamp(allow_none=True)
    submitted_at = Timestamp(allow_none=True)
    decline_reason = fields.Str(allow_none=True)
    may_answer = fields.Bool(metadata={"description": "whether you may save, submit or decline it now"})


class AnswerIn(Schema):
    values = fields.Dict(required=True, metadata={"description": "field name → answer"})
    submit = fields.Bool(
        load_default=False, metadata={"description": "submit (checked in full, counted) or save a draft"}
    )


class DeclineIn(Schema):
    reason = fields.Str(load_default=None, metadata={"description": "required"})


class AskIn(Schema):
    form = fields.Str(required=True, metadata={"description": "a peer form of the scorecard's template"})
    peers = fields.List(
        fields.Str(),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the colleagues' logins"},
    )
    due_on = fields.Date(load_default=None, metadata={"description": "a reminder for them; not for a proposal"})


class PeerRequestOut(Schema):
    id = fields.Int()
    peer = fields.Str()
    name = fields.Str(allow_none=True)
    state = fields.Str(
        metadata={
            "description": "proposed, requested, draft, submitted or declined; to the employee only proposed or asked"
        }
    )
    proposed = fields.Bool(metadata={"description": "proposed by the employee"})
    due_on = fields.Date(allow_none=True)
    requested_at = Timestamp(allow_none=True)
    submitted_at = Timestamp(allow_none=True)
    decline_reason = fields.Str(allow_none=True)
    answers = fields.Dict(allow_none=True, metadata={"description": "the submitted answers, field name → answer"})


class SummaryFieldOut(Schema):
    name = fields.Str()
    label = fields.Dict()
    type = fields.Str()
    count = fields.Int(metadata={"description": "how many answers give this field"})
    mean = fields.Float(allow_none=True, metadata={"description": "ratings and numbers"})
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    options = fields.List(fields.Dict(), metadata={"description": "choices: how often each was made"})
    answers = fields.List(fields.Dict(), metadata={"description": "text: {text, by}; `by` is null when anonymous"})


class FeedbackOut(Schema):
    period = fields.Str()
    employee = fields.Str()
    form = fields.Str()
    label = fields.Dict()
    anonymous = fields.Bool()
    items = fields.List(fields.Str(), metadata={"description": "the manual items the answers score"})
    asked = fields.Int()
    answered = fields.Int()
    points = fields.Float(
        allow_none=True,
        metadata={
            "description": "the mean of the submitted answers' points, which "
            "the item scores; null until they count (see `counts`)"
        },
    )
    counts = fields.Bool(
        metadata={
            "description": "whether the answers score the item now: a named form's from the "
            "first, an anonymous one's from `anonymity_minimum` answers on, and "
            "never once a dispute settled the item"
        }
    )
    anonymity_minimum = fields.Int(
        metadata={"description": "how many answers an anonymous form needs to be shown and to score the item"}
    )
    settled = fields.Bool(
        metadata={
            "description": "an accepted dispute corrected the item's value: the correction "
            "stands, and the form takes no more answers nor colleagues"
        }
    )
    individual = fields.Bool(metadata={"description": "whether you see each answer and who gave it"})
    may_ask = fields.Bool()
    may_propose = fields.Bool()
    requests = fields.List(
        fields.Nested(PeerRequestOut),
        metadata={"description": "every request to those who see answers; the employee's own proposals"},
    )
    summary = fields.List(
        fields.Nested(SummaryFieldOut),
        allow_none=True,
        metadata={"description": "null until the anonymity minimum of answers"},
    )


def _asked_object(asked: Asked) -> dict:
    request = asked.request
    return {
        "id": request.id,
        "colleague": asked.colleague,
        "period": request.period,
        "form": request.form,
        "label": asked.label,
        "fields": [{"required": True, **spec} for spec in asked.definition.get("fields", [])],
        "state": request.state,
        "values": request.values or {},
        "due_on": request.due_on,
        "overdue": asked.overdue(),
        "requested_at": request.requested_at,
        "submitted_at": request.submitted_at,
        "decline_reason": request.decline_reason,
        "may_answer": asked.may_answer,
    }


def _asked(request_id: int) -> Asked:
    asked = one_asked(get_session(), g.user, request_id)
    if asked is None:
        abort(404, message=f"no feedback request {request_id} asked of you")
    return asked


@blp.route("/feedback")
class MyRequests(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AskedOut(many=True))
    @token_required()
    def get(self):
        """The feedback colleagues' managers asked of you: still to answer first, the soonest due first."""
        return [_asked_object(asked) for asked in asked_of(get_session(), g.user)]


@blp.route("/feedback/<int:request_id>")
class MyRequest(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AskedOut)
    @token_required()
    def get(self, request_id):
        """One request asked of you: the colleague's name, the period, the form and your answers."""
        return _asked_object(_asked(request_id))

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(AnswerIn)
    @blp.response(200, AskedOut)
    @blp.alt_response(409, description="Not yours to answer now (declined, or the review is finished)")
    @blp.alt_response(422, description="Answers that do not fit: `errors` has the path of each field")
    def put(self, payload, request_id):
        """Save your answers as a draft, or submit them: submitting scores the colleague's item with
        the mean of every submitted answer."""
        asked = _asked(request_id)
        session = get_session()
        with committed(session):
            answer(session, asked, g.user, payload["values"], payload["submit"], functions=load_plugins().functions)
        return _asked_object(_asked(request_id))


@blp.route("/feedback/<int:request_id>/decline")
class DeclineRequest(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(DeclineIn)
    @blp.response(200, AskedOut)
    @blp.alt_response(409, description="No reason, already submitted, or the review is finished")
    def post(self, payload, request_id):
        """Decline a request, with a reason."""
        asked = _asked(request_id)
        session = get_session()
        with committed(session):
            decline(session, asked, g.user, payload["reason"])
        return _asked_object(_asked(request_id))


def _view(review, code: str, need) -> dict:
    return {"period": review.period, "employee": code, **feedback_view(get_session(), review, need, g.user)}


@blp.route("/reviews/<period>/<employee>/feedback")
class ReviewFeedback(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, FeedbackOut(many=True))
    @token_required()
    def get(self, period, employee):
        """The scorecard's peer feedback, as far as you may see it: each answer and who gave it to the
        employee's manager, HR, administrators and auditors; counts, points and a summary to others."""
        review, code = visible_review(period, employee)
        return [_view(review, code, need) for need in peer_forms(get_session(), review)]

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(AskIn)
    @blp.response(200, FeedbackOut)
    @blp.alt_response(409, description="Not yours to ask, or a colleague who may not be asked: the message says why")
    def post(self, payload, period, employee):
        """Ask colleagues for feedback (the employee's manager, HR, administrators), or propose them
        (the employee); asking a proposed colleague confirms the proposal."""
        review, code = visible_review(period, employee)
        session = get_session()
        with committed(session):
            ask(session, review, g.user, payload["form"], payload["peers"], payload["due_on"])
        return _view(review, code, next(n for n in peer_forms(session, review) if n.slug == payload["form"]))


@blp.route("/reviews/<period>/<employee>/feedback/<int:request_id>")
class Proposal(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(204)
    @blp.alt_response(409, description="Not a proposal any more, or not yours to drop")
    @token_required()
    def delete(self, period, employee, request_id):
        """Drop a proposed colleague nobody has asked yet."""
        review, _ = visible_review(period, employee)
        session = get_session()
        proposal = session.get(FeedbackRequest, request_id)
        if proposal is None or (proposal.period, proposal.employee_id) != (review.period, review.employee_id):
            abort(404, message=f"no proposal {request_id} on this scorecard")
        with committed(session):
            drop(session, review, proposal, g.user)
