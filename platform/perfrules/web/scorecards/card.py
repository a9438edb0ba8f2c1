"""One scorecard's page: the employee's own (`mine`) or any one the user may read (`show`),
explained item by item, with the trend over the periods of its cycle, its ranks, and the panels
of its review, forms, disputes and calibration."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _

from ...engine.explain import RuleBook, explain_scorecard
from ...engine.export import scorecard_object, scorecard_query
from ...engine.models import Scorecard
from ...engine.scorecards import item_definitions
from ...org.models import Employee
from ...workflow.calibration import adjustment_object, adjustments
from ..auth import login_required
from ..db import get_session
from ..disputes import dispute_panel
from ..i18n import label_language
from .blueprint import SEE_ALL, bp
from .forms_panel import forms_panel
from .periods import parse_period, period_key, same_cycle
from .review_panel import review_panel
from .visible import readable_card_row, visible_condition


def _card_page(row, picker_url: Callable[[str], str], mine: bool) -> str:
    """Render one scorecard row (Scorecard, code, name, department code, department label)."""
    session = get_session()
    card, code, name, department, department_label = row
    language = label_language()
    rules = RuleBook(session)  # the version's snapshot, read once for the definitions and the rules
    current = scorecard_object(
        card, code, name, department, item_definitions(rules.snapshot(card.version_number), card.template)
    )

    # the employee's scorecards the user may see: the period picker, the trend, the previous one
    history = session.execute(
        sa.select(Scorecard.period, Scorecard.total, Scorecard.grade).where(
            Scorecard.employee_id == card.employee_id, visible_condition()
        )
    ).all()
    periods = sorted((h.period for h in history), key=period_key, reverse=True)
    trend_periods = same_cycle(periods, card.period)
    totals = {h.period: h.total for h in history}
    earlier = [p for p in trend_periods if period_key(p) < period_key(card.period)]
    previous = None
    if earlier:
        found = session.execute(
            scorecard_query(earlier[-1], employee_id=card.employee_id).where(visible_condition())
        ).first()
        if found is not None:
            previous = scorecard_object(*found)
    view = explain_scorecard(current, rules(card.version_number, card.template), language, _, previous)

    # ranks are among the scorecards of the same template: in the company and in the department
    counts = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Scorecard.department_id == card.department_id)).where(
            Scorecard.period == card.period, Scorecard.template == card.template, Scorecard.total.is_not(None)
        )
    ).one()
    charts = {
        "attainment": {
            "labels": [a["label"] for a in view["attainment"]],
            "values": [round(a["ratio"] * 100, 1) for a in view["attainment"]],
            "basis": [a["basis"] for a in view["attainment"]],
            "title": _("Attainment (%)"),
            "note_score": _("share of the item's top score (no target)"),
        },
        "trend": {
            "labels": trend_periods,
            "values": [None if totals[p] is None else round(totals[p], 1) for p in trend_periods],
            "title": _("Total"),
        },
    }
    return render_template(
        "scorecards/card.html",
        card=view,
        department_label=department_label,
        periods=periods,
        picker_url=picker_url,
        mine=mine,
        charts=charts,
        company_count=counts[0],
        department_count=counts[1],
        see_team=g.user.has_role("manager", *SEE_ALL),
        review=review_panel(session, card, rules),
        forms=forms_panel(session, card),
        disputes=dispute_panel(session, card),
        calibration=adjustment_object(adjustments(session, card.period, [card.employee_id]).get(card.employee_id)),
    )


@bp.route("/mine")
@login_required()
def mine():
    """The signed-in employee's own scorecards, one period at a time."""
    session = get_session()
    if g.user.employee_id is None:
        return render_template("scorecards/card.html", card=None, no_employee=True, periods=[], mine=True)
    periods = sorted(
        session.scalars(sa.select(Scorecard.period).where(Scorecard.employee_id == g.user.employee_id)),
        key=period_key,
        reverse=True,
    )
    if not periods:
        return render_template("scorecards/card.html", card=None, no_employee=False, periods=[], mine=True)
    asked = request.args.get("period")
    period = parse_period(asked) if asked else periods[0]
    if period not in periods:
        abort(404)
    row = readable_card_row(scorecard_query(period, employee_id=g.user.employee_id))
    if row is None:
        abort(404)
    return _card_page(row, lambda p: url_for("scorecards.mine", period=p), mine=True)


@bp.route("/<period>/<employee_code>")
@login_required()
def show(period, employee_code):
    """Any one scorecard the user may see; anything else is a 404, so codes cannot be probed."""
    key = parse_period(period)
    if key is None:
        abort(404)
    row = readable_card_row(scorecard_query(key).where(Employee.code == employee_code))
    if row is None:
        abort(404)
    own = row[0].employee_id == g.user.employee_id
    return _card_page(row, lambda p: url_for("scorecards.show", period=p, employee_code=employee_code), mine=own)
