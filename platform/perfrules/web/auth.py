"""Who is asking. Until the sign-in pages arrive, users authenticate with HTTP Basic against their
hashed passwords; every page and endpoint states which roles may use it."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import Response, g, request
from werkzeug.security import check_password_hash

from ..org.models import User
from .db import get_session


def authenticated_user() -> User | None:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        return None
    user = get_session().scalar(sa.select(User).where(User.login == credentials.username, User.active))
    if user is None or not check_password_hash(user.password_hash, credentials.password or ""):
        return None
    return user


def _challenge() -> Response:
    return Response("Sign in with your perfrules login.\n", 401,
                    {"WWW-Authenticate": 'Basic realm="perfrules", charset="UTF-8"'})


def login_required(*roles: str):
    """Only signed-in users holding one of `roles` (any role when none are given)."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = authenticated_user()
            if user is None:
                return _challenge()
            if roles and not set(roles) & set(user.roles):
                return Response("You do not have access to this.\n", 403)
            g.user = user
            return view(*args, **kwargs)
        return guarded
    return decorate
