"""API tokens: issued once in clear, stored as a SHA-256 digest, revocable, optionally expiring.

A token is 32 random bytes, so a plain digest is as strong as a slow password hash would be and
lets a request find its token with one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import overload

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ..audit import record_change
from .models import ApiToken, User

TOKEN_PREFIX = "prt_"
#: how long a token's last use may be stale before it is written again (one write a minute, not per request)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def _aware(moment: dt.datetime) -> dt.datetime: ...
@overload
def _aware(moment: None) -> None: ...
@overload
def _aware(moment: dt.datetime | None) -> dt.datetime | None: ...
def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def issue_token(
    session: Session, user: User, name: str, actor: str, expires_in: dt.timedelta | None = None
) -> tuple[str, ApiToken]:
    """A new token for `user`: (the token in clear, its row)."""
    if not name.strip():
        raise ValueError("a token needs a name that says what it is for")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        digest=_digest(token),
        prefix=token[:10],
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="token.issue",
        kind="api_tokens",
        key=str(row.id),
        after={
            "user": user.login,
            "name": row.name,
            "prefix": row.prefix,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        },
    )
    return token, row


def authenticate(read_sessions: sessionmaker, write_sessions: sessionmaker, token: str) -> int | None:
    """The id of the active user a live token belongs to, or None. Notes when the token was last
    used, in a short write of its own (and only once a minute), so that no caller's transaction
    is held up by it."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = _now()
    with read_sessions() as session:
        row = session.execute(
            sa.select(
                ApiToken.id,
                ApiToken.user_id,
                ApiToken.expires_at,
                ApiToken.revoked_at,
                ApiToken.last_used_at,
                User.active,
            )
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.digest == _digest(token))
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return None
    last = _aware(row.last_used_at)
    if last is None or now - last > LAST_USED_RESOLUTION:
        with write_sessions() as session, session.begin():
            session.execute(sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return row.user_id


def revoke_token(session: Session, token_id: int, actor: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise ValueError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = _now()
        record_change(
            session,
            actor=actor,
            action="token.revoke",
            kind="api_tokens",
            key=str(row.id),
            after={"user": row.user.login, "name": row.name, "prefix": row.prefix},
        )
    return row
