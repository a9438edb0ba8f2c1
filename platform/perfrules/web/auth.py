"""Who is asking.

People sign in with a password (Flask-Login keeps them signed in with a session cookie); programs
send an API token (`Authorization: Bearer prt_…`, from `perfrules token create`). Pages and API
endpoints each state which roles may use them. Anonymous visitors get the sign-in page and
nothing else.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, redirect, request, url_for
from flask import abort as page_abort
from flask_login import LoginManager, current_user
from flask_smorest import abort

from ..org.models import User
from ..org.tokens import authenticate
from .bodies import API_BODY, limit_body
from .db import get_session

login_manager = LoginManager()
login_manager.login_view = "signin.sign_in"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """`<user id>.<session epoch>`: a cookie from before the user's last sign-out is worthless."""
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def bearer_token() -> str | None:
    credentials = request.authorization
    if credentials is not None and credentials.type == "bearer" and credentials.token:
        return credentials.token
    return None


def token_user() -> User | None:
    token = bearer_token()
    if token is None:
        return None
    user_id = authenticate(
        current_app.extensions["perfrules.read_sessions"], current_app.extensions["perfrules.write_sessions"], token
    )
    return None if user_id is None else get_session().get(User, user_id)


def requesting_user() -> User | None:
    """The token's user for API calls that carry one, else the signed-in user."""
    if bearer_token() is not None:
        return token_user()
    return current_user if current_user.is_authenticated else None


def _allowed(user: User, roles: tuple[str, ...]) -> bool:
    return not roles or user.has_role(*roles)


def login_required(*roles: str):
    """Pages: signed-in users holding one of `roles` (any role when none are given); anyone else
    is sent to sign in, and a user without the role gets 403."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("signin.sign_in", next=request.full_path.rstrip("?")))
            if not _allowed(current_user, roles):
                page_abort(403)
            g.user = current_user._get_current_object()
            return view(*args, **kwargs)

        return guarded

    return decorate


def token_required(*roles: str, max_body: int = API_BODY):
    """API endpoints: a live token, or a signed-in browser session (which must then carry the
    CSRF token on writes), of a user holding one of `roles`; only then may the body be read, and
    it may be `max_body` bytes at most. Errors are JSON like every other API error."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = requesting_user()
            if user is None:
                abort(
                    401,
                    message="send a valid API token: Authorization: Bearer <token>",
                    headers={"WWW-Authenticate": 'Bearer realm="perfrules"'},
                )
            if not _allowed(user, roles):
                abort(403, message=f"this needs one of the roles: {', '.join(roles)}")
            g.user = user
            limit_body(max_body)
            return view(*args, **kwargs)

        return guarded

    return decorate


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
