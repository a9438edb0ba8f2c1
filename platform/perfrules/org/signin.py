"""Signing in with a login and password, slowed down after repeated failures.

Failures are counted under three keys, each with its own allowance:

- a login from one place (a client address; IPv6 by /64 network): someone mistyping, or one
  machine guessing one person's password. 5 failures free.
- a place, whatever the logins: one password sprayed across the company. 20 failures free.
- a login from everywhere except the places its owner signed in from in the last 90 days: many
  machines guessing one password. 10 failures free. Its owner, at their usual places, is never
  slowed by what others do elsewhere; at a new place they wait like anyone else.

Past its allowance, a key makes each further attempt wait 2^(n − free) s after its last failure
(1, 2, 4 … up to MAX_WAIT); an attempt made too early is refused without its password being
looked at, so waiting cannot be skipped by guessing right. Counts leak away with time (LEAK per
failure), so an office behind one address is not slowed by a day of ordinary typos. A success
clears its login-from-place count; the other two only leak, so that one good account cannot
reset a spray. Unknown logins are counted too, and take as long to check as known ones.

The records stay bounded: a key is forgotten a day after its last failure; login-from-anywhere
keys exist for real logins only; a user keeps at most MAX_PLACES places.

Concurrent attempts queue on their keys' rows (created if missing, then locked FOR UPDATE, always
in the same order so that two attempts cannot deadlock; SQLite's write transactions are serial
anyway), so a burst of guesses is counted one by one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import SignInFailures, SignInPlace, User

MAX_WAIT = dt.timedelta(minutes=5)
#: how long a key's failures are remembered after the last one
FORGET_AFTER = dt.timedelta(days=1)
#: how long a place a user signed in from counts as theirs
PLACE_MEMORY = dt.timedelta(days=90)
MAX_PLACES = 20
#: compared against when the login is unknown, so that both cases cost one hash check
_NOBODY = generate_password_hash("perfrules: no such user")


@dataclass(frozen=True)
class Allowance:
    prefix: str
    #: failures let through before waiting starts
    free: int
    #: one failure is forgotten per this much time without one
    leak: dt.timedelta


LOGIN_FROM_PLACE = Allowance("login+place", 5, dt.timedelta(minutes=10))
PLACE = Allowance("place", 20, dt.timedelta(minutes=3))
LOGIN = Allowance("login", 10, dt.timedelta(minutes=10))


@dataclass(frozen=True)
class SignIn:
    user: User | None
    #: seconds to wait before trying again, when refused for too many failures
    retry_after: int = 0


def place_of(address: str | None) -> str:
    """The place a request comes from: its IPv4 address, or its IPv6 /64 network (one machine
    holds a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def wait_after(failures: int, allowance: Allowance) -> dt.timedelta:
    if failures < allowance.free:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - allowance.free, 20)), MAX_WAIT)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _leaked(row: SignInFailures, allowance: Allowance, now: dt.datetime) -> int:
    """The row's count once the failures forgotten since its last one are taken off."""
    return max(0, row.count - int((now - _aware(row.last_at)) / allowance.leak))


def sign_in(session: Session, login: str, password: str, address: str | None, now: dt.datetime | None = None) -> SignIn:
    """Check a login and password from a client address; the caller commits (failures are
    counted either way)."""
    now = now or dt.datetime.now(dt.UTC)
    login, place = login.strip()[:64], place_of(address)
    user = session.scalar(sa.select(User).where(User.login == login))
    allowances = {f"{LOGIN_FROM_PLACE.prefix}:{login}@{place}": LOGIN_FROM_PLACE, f"{PLACE.prefix}:{place}": PLACE}
    if user is not None and not _usual_place(session, user, place, now):
        allowances[f"{LOGIN.prefix}:{login}"] = LOGIN
    rows = _locked_failures(session, sorted(allowances), now)
    ready_at = max(_aware(row.last_at) + wait_after(row.count, allowances[row.key]) for row in rows)
    if now < ready_at:
        return SignIn(None, retry_after=max(1, int((ready_at - now).total_seconds() + 0.999)))
    good = check_password_hash(user.password_hash if user else _NOBODY, password)
    if user is not None and good and user.active:
        for row in rows:
            if allowances[row.key] is LOGIN_FROM_PLACE or row.count == 0:
                session.delete(row)
        _remember_place(session, user, place, now)
        return SignIn(user)
    for row in rows:
        row.count = _leaked(row, allowances[row.key], now) + 1
        row.last_at = now
    _forget_old_failures(session, now)
    return SignIn(None)


def _forget_old_failures(session: Session, now: dt.datetime) -> None:
    # rows another attempt holds are skipped: waiting for them while holding ours could deadlock
    old = (
        sa.select(SignInFailures.key)
        .where(SignInFailures.last_at < now - FORGET_AFTER)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        sa.delete(SignInFailures).where(SignInFailures.key.in_(old.scalar_subquery())),
        execution_options={"synchronize_session": False},
    )


def _usual_place(session: Session, user: User, place: str, now: dt.datetime) -> bool:
    return (
        session.scalar(
            sa.select(SignInPlace.last_at).where(
                SignInPlace.user_id == user.id, SignInPlace.place == place, SignInPlace.last_at >= now - PLACE_MEMORY
            )
        )
        is not None
    )


def _insert(session: Session):
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _remember_place(session: Session, user: User, place: str, now: dt.datetime) -> None:
    """Note the place as the user's, and forget their places not used for PLACE_MEMORY, or
    beyond the MAX_PLACES most recent."""
    insert = _insert(session)(SignInPlace).values(user_id=user.id, place=place, last_at=now)
    session.execute(insert.on_conflict_do_update(index_elements=["user_id", "place"], set_={"last_at": now}))
    recent = (
        sa.select(SignInPlace.place)
        .where(SignInPlace.user_id == user.id)
        .order_by(SignInPlace.last_at.desc(), SignInPlace.place)
        .limit(MAX_PLACES)
    )
    session.execute(
        sa.delete(SignInPlace).where(
            SignInPlace.user_id == user.id,
            sa.or_(SignInPlace.last_at < now - PLACE_MEMORY, SignInPlace.place.not_in(recent.scalar_subquery())),
        )
    )


def _locked_failures(session: Session, keys: list[str], now: dt.datetime) -> list[SignInFailures]:
    """The keys' failure rows, created with a count of 0 where there are none, locked until the
    caller's transaction ends. `keys` come sorted: rows are created and locked in that order."""
    session.execute(
        _insert(session)(SignInFailures)
        .values([{"key": key, "count": 0, "last_at": now} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return list(
        session.scalars(
            sa.select(SignInFailures)
            .where(SignInFailures.key.in_(keys))
            .order_by(SignInFailures.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
