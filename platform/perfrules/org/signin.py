"""Signing in with a login and password, slowed down after repeated failures.

After FREE_FAILURES failed attempts for a login, each further attempt must wait 2^(n − FREE) s
after the last failure (1, 2, 4 … up to MAX_WAIT), and an attempt made too early is refused
without its password being looked at, so waiting cannot be skipped by guessing right. A success
clears the count. Unknown logins are counted too, and take as long to check as known ones.

Concurrent attempts on one login queue on its row (created if missing, then locked FOR UPDATE;
SQLite's write transactions are serial anyway), so a burst of guesses is counted one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def wait_after(failures: int) -> dt.timedelta:
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)


def sign_in(session: Session, login: str, password: str, now: dt.datetime | None = None) -> SignIn:
    """Check a login and password; the caller commits (failures are counted either way)."""
    now = now or dt.datetime.now(dt.UTC)
    login = login.strip()[:64]
    failures = _locked_failures(session, login, now)
    if failures.count:
        ready_at = _aware(failures.last_at) + wait_after(failures.count)
        if now < ready_at:
            return SignIn(None, retry_after=max(1, int((ready_at - now).total_seconds() + 0.999)))
    user = session.scalar(sa.select(User).where(User.login == login))
    good = check_password_hash(user.password_hash if user else _NOBODY, password)
    if user is not None and good and user.active:
        session.delete(failures)
        return SignIn(user)
    failures.count += 1
    failures.last_at = now
    return SignIn(None)


def _locked_failures(session: Session, login: str, now: dt.datetime) -> SignInFailures:
    """The login's failure row, created with a count of 0 when there is none, locked until the
    caller's transaction ends."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInFailures)
        .values(login=login, count=0, last_at=now)
        .on_conflict_do_nothing(index_elements=["login"])
    )
    return session.scalars(
        sa.select(SignInFailures)
        .where(SignInFailures.login == login)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
