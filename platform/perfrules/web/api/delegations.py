"""Delegations (代理) through the API: a user away for a while lets a colleague act for them
between two dates, with the page's checks (`workflow.delegations`). Someone else's delegation is
a 404; HR and administrators set up and cancel anyone's, and auditors see them all."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ...workflow.delegations import (
    MAX_DAYS,
    STATUSES,
    DelegationError,
    DelegationForbidden,
    DelegationInvalid,
    cancel,
    delegate,
    shown,
    visible,
    visible_query,
)
from ...workflow.models import Delegation
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, abort, one_page

blp = Blueprint(
    "api_delegations",
    __name__,
    url_prefix="/api/v1/delegations",
    description="Delegations: a stand-in acts for you between two dates (代理)",
)


class DelegationOut(Schema):
    id = fields.Int()
    user = fields.Str(metadata={"description": "the login of whom the stand-in acts for"})
    user_name = fields.Str(allow_none=True)
    delegate = fields.Str(metadata={"description": "the stand-in's login"})
    delegate_name = fields.Str(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "the last day, included"})
    created_by = fields.Str()
    status = fields.Str(metadata={"description": ", ".join(STATUSES)})
    may_cancel = fields.Bool(metadata={"description": "whether you may cancel it now"})


class DelegationIn(Schema):
    delegate = fields.Str(required=True, metadata={"description": "the stand-in's login: another active user"})
    starts_on = fields.Date(required=True, metadata={"description": "today or later"})
    ends_on = fields.Date(required=True, metadata={"description": f"the last day, included; at most {MAX_DAYS} days"})
    for_user = fields.Str(
        load_default=None,
        metadata={
            "description": "whose delegation it is, by login: yourself (the default); HR and administrators may name anyone"
        },
    )


class CancelledOut(Schema):
    id = fields.Int()
    outcome = fields.Str(
        metadata={
            "description": "ended: it was in force, now ended yesterday and kept as history; deleted: it had not begun"
        }
    )
    delegation = fields.Nested(DelegationOut, allow_none=True, metadata={"description": "null when deleted"})


def _refused(exc: DelegationError) -> None:
    get_session().rollback()
    if isinstance(exc, DelegationInvalid):
        abort(422, message=str(exc), errors={"json": {exc.field: [exc.detail]}})
    if isinstance(exc, DelegationForbidden):
        abort(403, message=str(exc))
    abort(409, message=str(exc))


def _object(delegation: Delegation) -> dict:
    session = get_session()
    rows = session.execute(visible_query(session, g.user).where(Delegation.id == delegation.id))
    return shown(rows, g.user)[0].as_dict()


@blp.route("")
class Delegations(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, DelegationOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Your delegations, given and received (every one for admin, HR and auditors), newest first."""
        session = get_session()
        return [
            row.as_dict()
            for row in shown(one_page(session, visible_query(session, g.user), pagination_parameters), g.user)
        ]

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(DelegationIn)
    @blp.response(201, DelegationOut)
    @blp.alt_response(403, description="A delegation for someone else, without the HR or admin role")
    @blp.alt_response(409, description="Its dates overlap another delegation of the same user: cancel that first")
    @blp.alt_response(
        422,
        description="An unknown or inactive stand-in, yourself, dates in the past, the wrong way "
        "round or over a year: `errors` has the field's path",
    )
    def post(self, payload):
        """Let a stand-in act for you (or, as HR or an administrator, for `for_user`) between two dates."""
        session = get_session()
        try:
            made = delegate(
                session,
                g.user,
                for_user=payload["for_user"],
                delegate_login=payload["delegate"],
                starts_on=payload["starts_on"],
                ends_on=payload["ends_on"],
                actor=g.user.login,
            )
        except DelegationError as exc:
            _refused(exc)
        session.commit()
        return _object(made)


@blp.route("/<int:delegation_id>")
class OneDelegation(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DelegationOut)
    @token_required()
    def get(self, delegation_id):
        """One delegation you gave or received (any, for admin, HR and auditors)."""
        found = visible(get_session(), g.user, delegation_id)
        if found is None:
            abort(404, message=f"no delegation {delegation_id} of yours")
        return _object(found)

    @blp.doc(security=SECURITY)
    @blp.response(200, CancelledOut)
    @blp.alt_response(403, description="Received, not given: only the delegating user, HR and administrators cancel")
    @blp.alt_response(409, description="Already over: kept as history")
    @token_required()
    def delete(self, delegation_id):
        """Cancel a delegation: one under way ends yesterday and is kept, one not begun is removed."""
        session = get_session()
        found = visible(session, g.user, delegation_id)
        if found is None:
            abort(404, message=f"no delegation {delegation_id} of yours")
        try:
            result = cancel(session, found, g.user)
        except DelegationError as exc:
            _refused(exc)
        session.commit()
        return {
            "id": delegation_id,
            "outcome": result.outcome,
            "delegation": _object(result.delegation) if result.delegation is not None else None,
        }
