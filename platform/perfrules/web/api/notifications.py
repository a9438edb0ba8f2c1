"""Notifications (通知): your own inbox, in your language, and marking it read. Another user's
notification answers 404, the same as one that does not exist."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ...notify import inbox
from ...notify.messages import language_of
from ..auth import token_required
from ..db import get_session
from ..i18n import label_language
from .common import SECURITY, Timestamp, abort, page_start

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Your notifications (通知): what waits for you and what happened to your scorecards",
)


class NotificationOut(Schema):
    id = fields.Int()
    kind = fields.Str(metadata={"description": "review.waiting, review.rejected, review.overdue, …"})
    period = fields.Str(allow_none=True)
    employee = fields.Str(allow_none=True, metadata={"description": "whose scorecard it is about"})
    subject = fields.Str(metadata={"description": "in your language"})
    body = fields.Str()
    link = fields.Str(allow_none=True, metadata={"description": "a path in the web app"})
    params = fields.Dict(metadata={"description": "what the text is made from"})
    created_at = Timestamp()
    read_at = Timestamp(allow_none=True)


class NotificationArgs(Schema):
    unread = fields.Bool(load_default=False, metadata={"description": "only the unread ones"})


class MarkedOut(Schema):
    marked = fields.Int()


def _language() -> str:
    """The user's own choice, else the request's language."""
    return language_of(g.user.language) if g.user.language else label_language()


def _out(item: inbox.InboxItem) -> dict:
    note = item.notification
    return {
        "id": note.id,
        "kind": note.kind,
        "period": note.period,
        "employee": item.employee_code,
        "subject": item.subject,
        "body": item.body,
        "link": note.link,
        "params": note.params,
        "created_at": note.created_at,
        "read_at": note.read_at,
    }


@blp.route("")
class Notifications(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Your notifications, newest first, in pages (totals in the `X-Pagination` header)."""
        session = get_session()
        pagination_parameters.item_count = inbox.count(session, g.user.id, args["unread"])
        return [
            _out(item)
            for item in inbox.items(
                session,
                g.user.id,
                _language(),
                unread_only=args["unread"],
                offset=page_start(pagination_parameters),
                limit=pagination_parameters.page_size,
            )
        ]


@blp.route("/<int:notification_id>/read")
class ReadNotification(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, NotificationOut)
    @token_required()
    def post(self, notification_id):
        """Mark one of your notifications read."""
        session = get_session()
        if inbox.item(session, g.user.id, notification_id, _language()) is None:
            abort(404, message=f"you have no notification {notification_id}")
        inbox.mark_read(session, g.user.id, notification_id)
        session.commit()
        return _out(inbox.item(session, g.user.id, notification_id, _language()))


@blp.route("/read-all")
class ReadAllNotifications(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, MarkedOut)
    @token_required()
    def post(self):
        """Mark every one of your notifications read; how many were unread."""
        session = get_session()
        marked = inbox.mark_read(session, g.user.id)
        session.commit()
        return {"marked": marked}
