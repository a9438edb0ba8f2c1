"""Peer feedback pages (同事评价): the feedback asked of the signed-in user, each answered on a page
that shows the colleague's name, the period and the form — nothing of their scorecard — and
asking colleagues from the forms panel of a scorecard. The rules are `workflow.feedback`'s."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..engine.periods import Period, PeriodError
from ..org.models import Employee
from ..plugins import load_plugins
from ..workflow.feedback import ask, drop, suggestions
from ..workflow.feedback_answers import Asked, answer, asked_of, decline, one_asked
from ..workflow.feedback_models import FeedbackRequest
from ..workflow.feedback_views import feedback_view
from ..workflow.forms import FormError, FormNeed
from ..workflow.models import Review
from ..workflow.reading import may_read_scorecard
from ..workflow.steps import WorkflowError
from .auth import login_required
from .db import get_session
from .form_fields import form_fields
from .i18n import label

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

#: what separates the logins typed into the "colleagues" field (full-width ones too)
LOGIN_SEPARATORS = re.compile(r"[\s,;，；、]+")


def peer_panel(session, review: Review, need: FormNeed) -> dict:
    """A peer form on the scorecard page: its feedback as far as the reader may see it, and the
    colleagues to suggest when they may ask or propose."""
    view = feedback_view(session, review, need, g.user)
    view["suggestions"] = suggestions(session, review, g.user) if view["may_ask"] or view["may_propose"] else []
    return view


@bp.route("")
@login_required()
def requests():
    """The feedback asked of the user: still to answer first, then answered, declined or closed."""
    return render_template("feedback/list.html", asked=asked_of(get_session(), g.user), today=dt.date.today())


def _asked(request_id: int) -> Asked:
    asked = one_asked(get_session(), g.user, request_id)
    if asked is None:
        abort(404)  # someone else's request, or none: the same answer
    return asked


@bp.route("/<int:request_id>")
@login_required()
def show(request_id):
    """One request: the colleague's name, the period and the form to answer or decline."""
    asked = _asked(request_id)
    state = asked.request.state
    form = {
        "slug": asked.request.form,
        "label": asked.label,
        "fields": form_fields(asked.definition),
        "may_fill": asked.may_answer,
        "state": state if state in ("draft", "submitted") else None,
        "values": dict(asked.request.values or {}),
        "by": g.user.login,
        "submitted_at": asked.request.submitted_at,
        "action": url_for("feedback.answer_request", request_id=request_id),
        "peer": None,
    }
    return render_template("feedback/answer.html", asked=asked, forms=[form], today=dt.date.today())


@bp.route("/<int:request_id>", methods=["POST"])
@login_required()
def answer_request(request_id):
    """Save the answers as a draft, or submit them."""
    asked = _asked(request_id)
    submit = request.form.get("action") == "submit"
    fields = asked.definition.get("fields", [])
    values = {spec["name"]: request.form[spec["name"]] for spec in fields if spec["name"] in request.form}
    session = get_session()
    try:
        answer(session, asked, g.user, values, submit, functions=load_plugins().functions)
    except FormError as exc:
        session.rollback()
        labels = {spec["name"]: label(spec.get("label")) or spec["name"] for spec in fields}
        for name, problem in exc.errors.items():
            flash(_("%(field)s: %(problem)s", field=labels.get(name, name), problem=problem), "danger")
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        flash(
            _("Thank you: your feedback is submitted.") if submit else _("Your feedback is saved as a draft."),
            "success",
        )
    return redirect(url_for("feedback.show", request_id=request_id))


@bp.route("/<int:request_id>/decline", methods=["POST"])
@login_required()
def decline_request(request_id):
    """Decline the request, with a reason."""
    asked = _asked(request_id)
    session = get_session()
    try:
        decline(session, asked, g.user, request.form.get("reason"))
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        flash(_("You declined this request."), "success")
    return redirect(url_for("feedback.show", request_id=request_id))


def _visible_review(period: str, employee_code: str) -> tuple[Review, str]:
    """The review, if the user may see its scorecard; 404 otherwise."""
    try:
        key = str(Period.parse(period))
    except PeriodError:
        abort(404)
    session = get_session()
    found = session.execute(
        sa.select(Review, Employee.department_id)
        .join(Employee, Employee.id == Review.employee_id)
        .where(Review.period == key, Employee.code == employee_code)
    ).first()
    if found is None or not may_read_scorecard(session, g.user, key, found[0].employee_id, found[1]):
        abort(404)
    return found[0], key


def _back_to_card(key: str, employee_code: str, form_slug: str):
    return redirect(
        url_for("scorecards.show", period=key, employee_code=employee_code, _anchor=f"feedback-{form_slug}")
    )


@bp.route("/ask/<period>/<employee_code>/<form_slug>", methods=["POST"])
@login_required()
def ask_colleagues(period, employee_code, form_slug):
    """Ask colleagues for feedback on a scorecard (the employee: propose them)."""
    review, key = _visible_review(period, employee_code)
    logins = list(dict.fromkeys(login for login in LOGIN_SEPARATORS.split(request.form.get("peers", "")) if login))
    session = get_session()
    try:
        due = (request.form.get("due_on") or "").strip()
        try:
            due_on = dt.date.fromisoformat(due) if due else None
        except ValueError:
            raise WorkflowError(_("%(value)s is not a date (YYYY-MM-DD)", value=due)) from None
        asked = ask(session, review, g.user, form_slug, logins, due_on)
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        named = ", ".join(logins)
        flash(
            _("Proposed to the manager: %(logins)s.", logins=named)
            if asked[0].state == "proposed"
            else _("Feedback asked of %(logins)s.", logins=named),
            "success",
        )
    return _back_to_card(key, employee_code, form_slug)


@bp.route("/proposals/<int:request_id>/drop", methods=["POST"])
@login_required()
def drop_proposal(request_id):
    """Drop a colleague the employee proposed and nobody has asked yet."""
    session = get_session()
    proposal = session.get(FeedbackRequest, request_id)
    code = session.scalar(sa.select(Employee.code).where(Employee.id == proposal.employee_id)) if proposal else None
    if code is None:
        abort(404)
    review, key = _visible_review(proposal.period, code)
    form_slug = proposal.form
    try:
        drop(session, review, proposal, g.user)
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        flash(_("The proposal is dropped."), "success")
    return _back_to_card(key, code, form_slug)
