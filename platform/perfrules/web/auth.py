"""Who is asking.

The REST API takes tokens (`Authorization: Bearer prt_…`, issued with `perfrules token create`).
Until the sign-in pages arrive, pages authenticate with HTTP Basic against hashed passwords.
Every page and endpoint states which roles may use it.
"""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import Response, current_app, g, request
from flask_smorest import abort
from werkzeug.security import check_password_hash

from ..org.models import User
from ..org.tokens import authenticate
from .db import get_session


def password_user() -> User | None:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        return None
    user = get_session().scalar(sa.select(User).where(User.login == credentials.username, User.active))
    if user is None or not check_password_hash(user.password_hash, credentials.password or ""):
        return None
    return user


def token_user() -> User | None:
    credentials = request.authorization
    if credentials is None or credentials.type != "bearer" or not credentials.token:
        return None
    user_id = authenticate(current_app.extensions["perfrules.read_sessions"],
                           current_app.extensions["perfrules.write_sessions"], credentials.token)
    return None if user_id is None else get_session().get(User, user_id)


def _has_role(user: User, roles: tuple[str, ...]) -> bool:
    return not roles or bool(set(roles) & set(user.roles))


def login_required(*roles: str):
    """Pages: only signed-in users holding one of `roles` (any role when none are given)."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = password_user()
            if user is None:
                return Response("Sign in with your perfrules login.\n", 401,
                                {"WWW-Authenticate": 'Basic realm="perfrules", charset="UTF-8"'})
            if not _has_role(user, roles):
                return Response("You do not have access to this.\n", 403)
            g.user = user
            return view(*args, **kwargs)
        return guarded
    return decorate


def token_required(*roles: str):
    """API endpoints: a live token of a user holding one of `roles` (any role when none are given).
    Errors are JSON like every other API error."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = token_user()
            if user is None:
                abort(401, message="send a valid API token: Authorization: Bearer <token>",
                      headers={"WWW-Authenticate": 'Bearer realm="perfrules"'})
            if not _has_role(user, roles):
                abort(403, message=f"this needs one of the roles: {', '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)
        return guarded
    return decorate
