"""Delegation page (/delegations, 代理): away for a while, a user lets a colleague act for them —
the delegations they gave (with cancel) and received, and a form to give one. HR and
administrators see every delegation and may set one up or cancel it for anyone; auditors see
them all. The rules are `workflow.delegations`', the same as the REST API's and the CLI's."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..workflow.delegations import (
    DelegationConflict,
    DelegationError,
    DelegationForbidden,
    DelegationInvalid,
    cancel,
    delegate,
    delegations_of,
    every_delegation,
    find_stand_ins,
    manages,
    sees_all,
    visible,
)
from .auth import login_required
from .db import get_session

bp = Blueprint("delegations", __name__, url_prefix="/delegations")

FIELDS = ("delegate", "starts_on", "ends_on", "for_user")
#: the most delegations the "every delegation" table shows
LIST_ROWS = 500


def _page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    session = get_session()
    today = dt.date.today()
    mine = delegations_of(session, g.user, today)
    everyone = every_delegation(session, g.user, today, limit=LIST_ROWS) if sees_all(g.user) else None
    form = form or {"starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=6)).isoformat()}
    return render_template(
        "delegations.html",
        mine=mine,
        everyone=everyone,
        form=form,
        errors=errors or {},
        may_manage=manages(g.user),
        today=today,
        row_limit=LIST_ROWS,
    ), status


@bp.route("")
@login_required()
def index():
    return _page()


@bp.route("/people")
@login_required()
def people():
    """Who may stand in, found by a few letters of their login or name (never the whole list)."""
    found = find_stand_ins(get_session(), request.args.get("q", "")[:64])
    return jsonify(people=[{"login": login, "name": name} for login, name in found])


@bp.route("", methods=["POST"])
@login_required()
def create():
    """Give a delegation: to a stand-in, between two dates; HR and admin for anyone."""
    form = {name: (request.form.get(name) or "").strip() for name in FIELDS}
    for_user = form["for_user"] or None
    if for_user and for_user != g.user.login and not manages(g.user):
        abort(403)
    session = get_session()
    try:
        made = delegate(
            session,
            g.user,
            for_user=for_user,
            delegate_login=form["delegate"],
            starts_on=form["starts_on"],
            ends_on=form["ends_on"],
            actor=g.user.login,
        )
    except DelegationInvalid as exc:
        session.rollback()
        return _page(form, {exc.field: exc.detail}, 422)
    except DelegationForbidden:
        session.rollback()
        abort(403)
    except DelegationError as exc:
        session.rollback()
        flash(str(exc), "danger")
        return _page(form, status=409)
    session.commit()
    if for_user and for_user != g.user.login:
        flash(
            _(
                "%(delegate)s may act for %(user)s from %(start)s to %(end)s.",
                delegate=form["delegate"],
                user=for_user,
                start=made.starts_on.isoformat(),
                end=made.ends_on.isoformat(),
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(delegate)s may act for you from %(start)s to %(end)s.",
                delegate=form["delegate"],
                start=made.starts_on.isoformat(),
                end=made.ends_on.isoformat(),
            ),
            "success",
        )
    return redirect(url_for("delegations.index"))


@bp.route("/<int:delegation_id>/cancel", methods=["POST"])
@login_required()
def cancel_delegation(delegation_id: int):
    session = get_session()
    found = visible(session, g.user, delegation_id)
    if found is None:
        abort(404)  # someone else's, or none: the same answer
    try:
        outcome = cancel(session, found, g.user)
    except DelegationForbidden:
        session.rollback()
        abort(403)
    except DelegationConflict as exc:
        session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("delegations.index"))
    session.commit()
    flash(
        _("Delegation cancelled: it ended yesterday, and stays in the history.")
        if outcome.outcome == "ended"
        else _("Delegation cancelled."),
        "success",
    )
    return redirect(url_for("delegations.index"))
