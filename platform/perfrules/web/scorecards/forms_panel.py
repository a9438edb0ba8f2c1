"""A scorecard's appraisal forms on its page: each form as far as the reader may see it (a peer
form with its feedback), and saving or submitting the one they may fill."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...engine.export import scorecard_query
from ...engine.models import Scorecard
from ...org.models import Employee, User
from ...plugins import load_plugins
from ...workflow.forms import FormError, forms_for, save_response
from ...workflow.models import Review
from ...workflow.steps import WorkflowError
from ..auth import login_required
from ..db import get_session
from ..feedback import peer_panel
from ..form_fields import form_fields
from ..i18n import label
from .blueprint import bp
from .periods import parse_period
from .visible import readable_card_row


def forms_panel(session: Session, card: Scorecard) -> list[dict]:
    """The scorecard's appraisal forms: the one the reader may fill now (with their draft), and
    the submitted answers for everyone who may see the scorecard; a peer form with its feedback
    as far as the reader may see it."""
    review = session.scalar(
        sa.select(Review).where(Review.period == card.period, Review.employee_id == card.employee_id)
    )
    if review is None:
        return []
    panels = []
    for need in forms_for(session, review):
        response, may_fill = need.response, need.may_fill(g.user)
        if not may_fill and not need.submitted:
            response = None  # someone else's draft is theirs alone
        by = session.scalar(sa.select(User.login).where(User.id == response.filled_by)) if response else None
        panels.append(
            {
                "slug": need.slug,
                "label": need.label,
                "fields": form_fields(need.definition),
                "may_fill": may_fill,
                "state": response.state if response else None,
                "values": dict(response.values or {}) if response else {},
                "by": by,
                "submitted_at": response.submitted_at if response else None,
                "peer": peer_panel(session, review, need) if need.filled_by == "peer" else None,
            }
        )
    return panels


@bp.route("/<period>/<employee_code>/forms/<form_slug>", methods=["POST"])
@login_required()
def fill_form(period, employee_code, form_slug):
    """Save an appraisal form of the scorecard as a draft, or submit it."""
    key = parse_period(period)
    row = readable_card_row(scorecard_query(key).where(Employee.code == employee_code)) if key else None
    session = get_session()
    review = None
    if row is not None:
        review = session.scalar(sa.select(Review).where(Review.period == key, Review.employee_id == row[0].employee_id))
    need = next((n for n in forms_for(session, review) if n.slug == form_slug), None) if review else None
    if need is None:
        abort(404)
    submit = request.form.get("action") == "submit"
    values = {
        spec["name"]: request.form[spec["name"]]
        for spec in need.definition.get("fields", [])
        if spec["name"] in request.form
    }
    try:
        save_response(session, review, g.user, form_slug, values, submit, functions=load_plugins().functions)
    except FormError as exc:
        session.rollback()
        labels = {spec["name"]: label(spec.get("label")) or spec["name"] for spec in need.definition["fields"]}
        for name, problem in exc.errors.items():
            flash(_("%(field)s: %(problem)s", field=labels.get(name, name), problem=problem), "danger")
    except WorkflowError as exc:
        session.rollback()
        flash(str(exc), "danger")
    else:
        session.commit()
        form_label = label(need.label) or form_slug
        flash(
            _("%(form)s submitted.", form=form_label) if submit else _("%(form)s saved as a draft.", form=form_label),
            "success",
        )
    return redirect(url_for("scorecards.show", period=key, employee_code=employee_code))
