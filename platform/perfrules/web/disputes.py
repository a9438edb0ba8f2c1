"""Dispute pages (申诉): the panel on a scorecard (the employee raises and withdraws, the manager
or HR resolves), and the list of disputes a manager or HR works through. The checks are
`workflow.disputes`' alone, the same as the REST API's."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..engine.explain import format_points
from ..engine.models import Scorecard
from ..engine.periods import Period, PeriodError
from ..engine.scorecards import ItemDefinition, item_definitions
from ..org.access import visibility
from ..org.models import Employee
from ..plugins import load_plugins
from ..workflow.dispute_models import DISPUTE_STATES, Dispute
from ..workflow.dispute_views import dispute_objects, disputes_of_scorecard, visible_query
from ..workflow.disputes import DisputeError, may_raise, raise_dispute, resolve_dispute, withdraw_dispute
from ..workflow.models import Review
from ..workflow.steps import version_config
from .auth import login_required
from .db import get_session
from .i18n import label
from .words import word

bp = Blueprint("disputes", __name__, url_prefix="/scorecards")

LIST_ROWS = 500


def _correction_text(correction: dict) -> str:
    """What an accepted dispute changed, in words."""
    parts = [
        _(
            "Value corrected: %(before)s → %(after)s.",
            before=format_points(correction.get("previous_value")),
            after=format_points(correction["value"]),
        )
        if "value" in correction
        else _("The data was corrected.")
    ]
    if "total_after" in correction:
        parts.append(
            _(
                "Total %(before)s → %(after)s.",
                before=format_points(correction.get("total_before")),
                after=format_points(correction["total_after"]),
            )
        )
    if correction.get("reopened"):
        parts.append(_("The scorecard was reopened for review."))
    return " ".join(parts)


def _shown(objects: list[dict]) -> list[dict]:
    """The disputes with their words for the page: state, route, points, correction."""
    return [
        {
            **d,
            "state_name": word(d["state"], "dispute_state"),
            "route_name": word(d["routed_to"], "dispute_route"),
            "points_text": format_points(d["points_raised"]),
            "correction_text": _correction_text(d["correction"])
            if d["state"] == "accepted" and d["correction"]
            else "",
        }
        for d in objects
    ]


def dispute_panel(session, card: Scorecard) -> dict | None:
    """The scorecard's disputes and, for its employee once it is approved, the items they may
    dispute; None when there is nothing to show."""
    review = session.scalar(
        sa.select(Review).where(Review.period == card.period, Review.employee_id == card.employee_id)
    )
    if review is None:
        return None
    disputes = _shown(disputes_of_scorecard(session, card.period, card.employee_id, g.user))
    raising = may_raise(review, g.user)
    if not disputes and not raising:
        return None
    items = []
    if raising:
        definitions: dict[str, ItemDefinition] = (
            item_definitions(version_config(session, card.version_number), card.template)
            if card.version_number is not None
            else {}
        )
        disputed = {d["item"] for d in disputes if d["state"] == "open"}
        items = [
            {
                "key": entry["key"],
                "label": definitions[entry["key"]]["label"] if entry["key"] in definitions else None,
                "points": format_points(entry.get("points")),
            }
            for entry in card.items or []
            if entry["key"] not in disputed
        ]
    return {"disputes": disputes, "items": items, "may_raise": raising and bool(items)}


def _item_name(session, dispute: Dispute) -> str:
    """The disputed item as people read it: its label in the scorecard's version, else its key."""
    card = session.execute(
        sa.select(Scorecard.version_number, Scorecard.template).where(
            Scorecard.period == dispute.period, Scorecard.employee_id == dispute.employee_id
        )
    ).first()
    definitions: dict[str, ItemDefinition] = (
        item_definitions(version_config(session, card.version_number), card.template)
        if card is not None and card.version_number is not None
        else {}
    )
    definition = definitions.get(dispute.item)
    return label(definition["label"] if definition else None) or dispute.item


def _back(period: str, code: str):
    if request.form.get("back") == "list":
        return redirect(url_for("disputes.index"))
    return redirect(url_for("scorecards.show", period=period, employee_code=code))


def _visible(dispute_id: int) -> tuple[Dispute, str]:
    session = get_session()
    row = session.execute(visible_query(session, g.user).where(Dispute.id == dispute_id)).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _flash_refusal(exc: DisputeError) -> None:
    get_session().rollback()
    flash(str(exc), "danger")


@bp.route("/<period>/<employee_code>/disputes", methods=["POST"])
@login_required()
def raise_(period, employee_code):
    """The employee disputes an item of their scorecard."""
    try:
        key = str(Period.parse(period))
    except PeriodError:
        abort(404)
    session = get_session()
    review = session.scalar(
        sa.select(Review)
        .join(Employee, Employee.id == Review.employee_id)
        .where(
            Review.period == key,
            Employee.code == employee_code,
            visibility(g.user).condition(Employee.department_id, Review.employee_id),
        )
    )
    if review is None:
        abort(404)
    try:
        dispute = raise_dispute(session, review, g.user, request.form.get("item", ""), request.form.get("reason"))
    except DisputeError as exc:
        _flash_refusal(exc)
    else:
        session.commit()
        flash(
            _(
                "Your dispute of %(item)s is sent to %(whom)s.",
                item=_item_name(session, dispute),
                whom=word(dispute.routed_to, "dispute_route"),
            ),
            "success",
        )
    return redirect(url_for("scorecards.show", period=key, employee_code=employee_code))


@bp.route("/disputes/<int:dispute_id>/resolve", methods=["POST"])
@login_required()
def resolve(dispute_id):
    """Accept a dispute with a correction, or reject it; both with a resolution."""
    dispute, code = _visible(dispute_id)
    session = get_session()
    decision = request.form.get("decision", "")
    correction = None
    if decision == "accept":
        correction = (
            {"value": request.form.get("value")}
            if request.form.get("kind") == "manual"
            else {"data_corrected": request.form.get("data_corrected") == "yes"}
        )
    try:
        resolve_dispute(
            session,
            dispute,
            g.user,
            decision,
            request.form.get("resolution"),
            correction,
            functions=load_plugins().functions,
        )
    except DisputeError as exc:
        _flash_refusal(exc)
    else:
        session.commit()
        flash(
            _(
                "Dispute of %(item)s: %(state)s.",
                item=_item_name(session, dispute),
                state=word(dispute.state, "dispute_state"),
            ),
            "success",
        )
    return _back(dispute.period, code)


@bp.route("/disputes/<int:dispute_id>/withdraw", methods=["POST"])
@login_required()
def withdraw(dispute_id):
    """The employee takes back their open dispute."""
    dispute, code = _visible(dispute_id)
    session = get_session()
    try:
        withdraw_dispute(session, dispute, g.user)
    except DisputeError as exc:
        _flash_refusal(exc)
    else:
        session.commit()
        flash(_("Dispute of %(item)s withdrawn.", item=_item_name(session, dispute)), "success")
    return _back(dispute.period, code)


@bp.route("/disputes")
@login_required()
def index():
    """The disputes the user may see — open ones first by default — with the forms to resolve
    those waiting for them."""
    session = get_session()
    state = request.args.get("state", "open")
    query = visible_query(session, g.user)
    if state in DISPUTE_STATES:
        query = query.where(Dispute.state == state)
    period = (request.args.get("period") or "").strip()
    if period:
        try:
            period = str(Period.parse(period))
        except PeriodError as exc:
            flash(str(exc), "warning")
        query = query.where(Dispute.period == period)
    rows = session.execute(query.order_by(Dispute.raised_at.desc(), Dispute.id.desc()).limit(LIST_ROWS)).all()
    return render_template(
        "scorecards/disputes.html",
        disputes=_shown(dispute_objects(session, rows, g.user)),
        state=state if state in DISPUTE_STATES else "",
        period=period,
        states=DISPUTE_STATES,
        row_limit=LIST_ROWS,
    )
