"""The inbox (/inbox): the signed-in user's notifications, newest first, in their language;
opening one marks it read. The count of unread ones is shown in the menu bar."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from ..notify import inbox, is_app_path
from .auth import login_required
from .db import get_session
from .i18n import label_language

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PAGE_SIZE = 50


@bp.route("")
@login_required()
def index():
    session = get_session()
    unread_only = request.args.get("unread") == "1"
    page = max(request.args.get("page", 1, type=int), 1)
    total = inbox.count(session, g.user.id, unread_only)
    shown = inbox.items(
        session, g.user.id, label_language(), unread_only=unread_only, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render_template(
        "inbox.html",
        items=shown,
        unread_only=unread_only,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        unread=inbox.count(session, g.user.id, unread_only=True),
    )


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required()
def open_notification(notification_id: int):
    """Mark it read and go where it points."""
    session = get_session()
    found = inbox.item(session, g.user.id, notification_id, label_language())
    if found is None:
        abort(404)
    inbox.mark_read(session, g.user.id, notification_id)
    session.commit()
    link = found.notification.link
    return redirect(link if link and is_app_path(link) else url_for("inbox.index"))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required()
def mark_read(notification_id: int):
    session = get_session()
    if inbox.item(session, g.user.id, notification_id, label_language()) is None:
        abort(404)
    inbox.mark_read(session, g.user.id, notification_id)
    session.commit()
    return redirect(url_for("inbox.index", unread=request.args.get("unread")))


@bp.route("/read-all", methods=["POST"])
@login_required()
def mark_all_read():
    session = get_session()
    marked = inbox.mark_read(session, g.user.id)
    session.commit()
    flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", marked), "success")
    return redirect(url_for("inbox.index"))


def unread_notifications() -> int:
    """For the menu bar: the signed-in user's unread notifications, counted once per request."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = inbox.count(get_session(), current_user.id, unread_only=True)
    return g.unread_notifications
