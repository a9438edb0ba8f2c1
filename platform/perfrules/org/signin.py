"""Signing in with a login and password, slowed down after repeated failures.

After FREE_FAILURES failed attempts for a login, each further attempt must wait 2^(n − FREE) s
after the last failure (1, 2, 4 … up to MAX_WAIT), and an attempt made too early is refused
without its password being looked at, so waiting cannot be skipped by guessing right. A success
clears the count. Unknown logins are counted too, and take as long to check as known ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import SignInFailures, User

FREE_FAILURES = 5
MAX_WAIT = dt.timedelta(minutes=5)
#: compared against when the login is unknown, so that both cases cost one hash check
_NOBODY = generate_password_hash("perfrules: no such user")


@dataclass(frozen=True)
class SignIn:
    user: User | None
    #: seconds to wait before trying again, when refused for too many failures
    retry_after: int = 0


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def wait_after(failures: int) -> dt.timedelta:
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)


def sign_in(session: Session, login: str, password: str, now: dt.datetime | None = None) -> SignIn:
    """Check a login and password; the caller commits (failures are counted either way)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    login = login.strip()[:64]
    failures = session.get(SignInFailures, login)
    if failures is not None:
        ready_at = _aware(failures.last_at) + wait_after(failures.count)
        if now < ready_at:
            return SignIn(None, retry_after=max(1, int((ready_at - now).total_seconds() + 0.999)))
    user = session.scalar(sa.select(User).where(User.login == login))
    good = check_password_hash(user.password_hash if user else _NOBODY, password)
    if user is not None and good and user.active:
        if failures is not None:
            session.delete(failures)
        return SignIn(user)
    if failures is None:
        session.add(SignInFailures(login=login, count=1, last_at=now))
    else:
        failures.count += 1
        failures.last_at = now
    return SignIn(None)
