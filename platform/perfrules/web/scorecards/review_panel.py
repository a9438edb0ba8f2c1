"""A scorecard's review on its page: where it is in its approval flow, what happened, and what
the user may do; and acting on it (approve, reject, return, lock, reopen) as the workflow
engine allows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...engine.explain import RuleBook
from ...engine.export import scorecard_query
from ...engine.models import Scorecard
from ...org.models import Employee
from ...plugins import load_plugins
from ...workflow.deadlines import step_deadline
from ...workflow.engine import ACTIONS, act, allowed_actions
from ...workflow.history import review_history
from ...workflow.models import Review
from ...workflow.steps import WorkflowError
from ..auth import login_required
from ..db import get_session
from ..words import word
from .blueprint import bp
from .periods import parse_period
from .visible import readable_card_row


def review_panel(session: Session, card: Scorecard, rules: RuleBook) -> dict | None:
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
    key = parse_period(period)
    row = readable_card_row(scorecard_query(key).where(Employee.code == employee_code)) if key else None
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
        flash(_("Done: %(action)s.", action=word(action, "action")), "success")
    return redirect(url_for("scorecards.show", period=key, employee_code=employee_code))
