"""Delegation (代理): a user away for a while lets a colleague act in their place — approve, reject
or return at the steps that wait for them, resolve the disputes routed to them — from one date to
another, both included (`Delegation`; `actors.delegators` and `engine.allowed_actions` honour it).

- a user delegates their own steps; HR and administrators may set one up for anyone;
- the stand-in is another active user; the dates run from today or later, at most a year
  (`MAX_DAYS`, both days included);
- a user has one stand-in at a time: a delegation whose dates overlap another of the same user's
  is refused, whoever it goes to — cancel the other one first. A stand-in acts for the people who
  delegated to them, never further on for whoever those people delegated to (no chains), and
  never on their own scorecard;
- the delegating user, HR and administrators cancel one. One under way is ended yesterday, so it
  stays as the history of the days it was in force; one that has not begun (or begins today) is
  removed; one already over is history and stays as it is.

The same rules for the page, the REST API and the CLI. Every creation and cancellation is
audited (`delegation.create`, `delegation.cancel`) and the stand-in is told (`delegation.granted`,
`delegation.cancelled`). A refused call raises a `DelegationError` and changes nothing; nothing
is committed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..audit import record_change
from ..formula.checker import did_you_mean
from ..notify import notify
from ..org.access import SEE_ALL_ROLES
from ..org.models import Employee, User
from .models import Delegation

#: who may set up and cancel anyone's delegation
MANAGING_ROLES = ("admin", "hr")
#: the longest delegation, in days, both ends included
MAX_DAYS = 366
#: where the stand-in is sent by the notification
PAGE_LINK = "/delegations"
#: upcoming: from a later day; current: in force today; over: ended before today
STATUSES = ("upcoming", "current", "over")


class DelegationError(Exception):
    """Refused: nothing changed."""


class DelegationInvalid(DelegationError):
    """Bad input: `field` names what is wrong (delegate, starts_on, ends_on, for_user)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class DelegationForbidden(DelegationError):
    """Not the user's to do: someone else's delegation, without the role to manage it."""


class DelegationConflict(DelegationError):
    """The delegations as they stand do not allow it: dates overlapping another one, or cancelling
    one already over."""


@dataclass(frozen=True)
class Shown:
    """A delegation with the names and logins of both people, where it stands and whether the
    reader may cancel it."""

    delegation: Delegation
    user_login: str
    user_name: str | None
    delegate_login: str
    delegate_name: str | None
    status: str
    may_cancel: bool

    @property
    def id(self) -> int:
        return self.delegation.id

    def as_dict(self) -> dict:
        d = self.delegation
        return {
            "id": d.id,
            "user": self.user_login,
            "user_name": self.user_name,
            "delegate": self.delegate_login,
            "delegate_name": self.delegate_name,
            "starts_on": d.starts_on,
            "ends_on": d.ends_on,
            "created_by": d.created_by,
            "status": self.status,
            "may_cancel": self.may_cancel,
        }


@dataclass(frozen=True)
class Mine:
    #: the user's own delegations: who acts for them
    given: list[Shown]
    #: the delegations to the user: whom they act for
    received: list[Shown]


@dataclass(frozen=True)
class Cancelled:
    #: ended: it was in force and now ended yesterday (kept); deleted: it had not begun
    outcome: str
    #: the ended delegation; None when deleted
    delegation: Delegation | None


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def manages(user: User) -> bool:
    """Whether `user` may set up and cancel anyone's delegations."""
    return user.has_role(*MANAGING_ROLES)


def sees_all(user: User) -> bool:
    return bool(set(user.roles) & SEE_ALL_ROLES)


def status_of(delegation: Delegation, today: dt.date | None = None) -> str:
    today = _today(today)
    if delegation.ends_on < today:
        return "over"
    return "upcoming" if delegation.starts_on > today else "current"


def may_cancel(delegation: Delegation, user: User, today: dt.date | None = None) -> bool:
    return (delegation.user_id == user.id or manages(user)) and status_of(delegation, today) != "over"


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise DelegationInvalid(field, "give a date, as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DelegationInvalid(field, f"'{text}' is not a date: write it as YYYY-MM-DD") from None


def _user_by_login(session: Session, login: str, field: str) -> User:
    login = (login or "").strip()
    if not login:
        raise DelegationInvalid(field, "give the user's login")
    found = session.scalar(sa.select(User).where(User.login == login))
    if found is None:
        active = list(session.scalars(sa.select(User.login).where(User.active)))
        raise DelegationInvalid(field, f"no user '{login}'{did_you_mean(login, active)}")
    return found


def _name(session: Session, user: User) -> str:
    """How a notification names a user: their employee's name, else their login."""
    name = (
        session.scalar(sa.select(Employee.name).where(Employee.id == user.employee_id))
        if user.employee_id is not None
        else None
    )
    return name or user.login


def _state(session: Session, delegation: Delegation) -> dict:
    logins = dict(
        session.execute(
            sa.select(User.id, User.login).where(User.id.in_([delegation.user_id, delegation.delegate_id]))
        ).all()
    )
    return {
        "id": delegation.id,
        "user": logins.get(delegation.user_id),
        "delegate": logins.get(delegation.delegate_id),
        "starts_on": delegation.starts_on.isoformat(),
        "ends_on": delegation.ends_on.isoformat(),
        "created_by": delegation.created_by,
    }


def delegate(
    session: Session,
    user: User,
    *,
    for_user: User | str | None = None,
    delegate_login: str,
    starts_on,
    ends_on,
    actor: str,
    today: dt.date | None = None,
) -> Delegation:
    """`user` lets the user `delegate_login` act for them — or, for HR and administrators, for
    `for_user` (a user or a login) — from `starts_on` to `ends_on` (dates, or YYYY-MM-DD), both
    included. `actor`: who is recorded as having done it. Not committed."""
    today = _today(today)
    if isinstance(for_user, str):
        login = for_user.strip()
        if login and login != user.login and not manages(user):
            raise DelegationForbidden(
                f"{user.login} may not set up a delegation for {login}: "
                "only HR and administrators delegate for someone else"
            )
        for_user = _user_by_login(session, login, "for_user") if login else None
    principal = for_user or user
    if principal.id != user.id and not manages(user):
        raise DelegationForbidden(
            f"{user.login} may not set up a delegation for {principal.login}: "
            "only HR and administrators delegate for someone else"
        )
    if not principal.active:
        raise DelegationInvalid("for_user", f"{principal.login} is not active")
    stand_in = _user_by_login(session, delegate_login, "delegate")
    if stand_in.id == principal.id:
        raise DelegationInvalid("delegate", f"{principal.login} cannot stand in for themselves: choose a colleague")
    if not stand_in.active:
        raise DelegationInvalid("delegate", f"{stand_in.login} is not active: choose an active user")
    starts_on, ends_on = _date(starts_on, "starts_on"), _date(ends_on, "ends_on")
    if ends_on < today:
        raise DelegationInvalid("ends_on", f"{ends_on.isoformat()} is in the past")
    if starts_on < today:
        raise DelegationInvalid(
            "starts_on", f"{starts_on.isoformat()} is in the past: a delegation starts today or later"
        )
    if ends_on < starts_on:
        raise DelegationInvalid("ends_on", f"{ends_on.isoformat()} is before the start, {starts_on.isoformat()}")
    days = (ends_on - starts_on).days + 1
    if days > MAX_DAYS:
        raise DelegationInvalid("ends_on", f"{days} days is too long: a delegation lasts at most {MAX_DAYS} days")
    # one delegation of a user at a time: lock the user's row so that two requests cannot both pass
    session.execute(sa.select(User.id).where(User.id == principal.id).with_for_update())
    overlapping = session.execute(
        sa.select(Delegation, User.login)
        .join(User, User.id == Delegation.delegate_id)
        .where(Delegation.user_id == principal.id, Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on)
        .order_by(Delegation.starts_on)
        .limit(1)
    ).first()
    if overlapping is not None:
        other, other_login = overlapping
        raise DelegationConflict(
            f"{principal.login} already has {other_login} standing in from {other.starts_on.isoformat()} to "
            f"{other.ends_on.isoformat()} (delegation {other.id}): cancel it first, or choose dates outside it"
        )
    delegation = Delegation(
        user_id=principal.id, delegate_id=stand_in.id, starts_on=starts_on, ends_on=ends_on, created_by=actor
    )
    session.add(delegation)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="delegation.create",
        kind="delegations",
        key=str(delegation.id),
        after=_state(session, delegation),
    )
    params = {"user": _name(session, principal), "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
    if principal.id != user.id:
        params["by"] = user.login
    if stand_in.id != user.id:  # nobody is told of their own doing
        notify(session, [stand_in.id], "delegation.granted", params=params, link=PAGE_LINK)
    return delegation


def cancel(
    session: Session, delegation: Delegation, user: User, *, actor: str | None = None, today: dt.date | None = None
) -> Cancelled:
    """Cancel `delegation` as `user` (its delegating user, HR or an administrator): one under way
    ends yesterday and is kept, one not begun is removed; one already over is refused. Not
    committed."""
    today = _today(today)
    if delegation.user_id != user.id and not manages(user):
        raise DelegationForbidden(
            f"{user.login} may not cancel delegation {delegation.id}: only the user who "
            "delegated, HR and administrators may"
        )
    if delegation.ends_on < today:
        raise DelegationConflict(
            f"delegation {delegation.id} ended on {delegation.ends_on.isoformat()}: "
            "it is kept as history and cannot be cancelled"
        )
    before = _state(session, delegation)
    principal = session.get(User, delegation.user_id)
    # delegations.user_id is a foreign key: a user cannot be deleted while they have delegations
    assert principal is not None, f"delegation {delegation.id}: its user is in the database"
    stand_in_id = delegation.delegate_id
    if delegation.starts_on < today:
        delegation.ends_on = today - dt.timedelta(days=1)
        result = Cancelled("ended", delegation)
        after = {**before, "ends_on": delegation.ends_on.isoformat(), "outcome": "ended"}
    else:
        session.delete(delegation)
        result = Cancelled("deleted", None)
        after = {"outcome": "deleted"}
    session.flush()
    record_change(
        session,
        actor=actor or user.login,
        action="delegation.cancel",
        kind="delegations",
        key=str(before["id"]),
        before=before,
        after=after,
    )
    params = {"user": _name(session, principal), "starts_on": before["starts_on"], "ends_on": before["ends_on"]}
    if principal.id != user.id:
        params["by"] = user.login
    if stand_in_id != user.id:
        notify(session, [stand_in_id], "delegation.cancelled", params=params, link=PAGE_LINK)
    return result


def _query():
    delegator, stand_in = aliased(User), aliased(User)
    delegator_employee, stand_in_employee = aliased(Employee), aliased(Employee)
    query = (
        sa.select(Delegation, delegator.login, delegator_employee.name, stand_in.login, stand_in_employee.name)
        .join(delegator, delegator.id == Delegation.user_id)
        .join(stand_in, stand_in.id == Delegation.delegate_id)
        .outerjoin(delegator_employee, delegator_employee.id == delegator.employee_id)
        .outerjoin(stand_in_employee, stand_in_employee.id == stand_in.employee_id)
        .order_by(Delegation.starts_on.desc(), Delegation.id.desc())
    )
    return query


def visible_query(session: Session, user: User):
    """The delegations `user` may see, newest first: their own, given and received; every one for
    admin, HR and auditors. Rows for `shown`."""
    query = _query()
    if not sees_all(user):
        query = query.where(sa.or_(Delegation.user_id == user.id, Delegation.delegate_id == user.id))
    return query


def shown(rows, user: User, today: dt.date | None = None) -> list[Shown]:
    today = _today(today)
    return [
        Shown(
            delegation,
            user_login,
            user_name,
            delegate_login,
            delegate_name,
            status_of(delegation, today),
            may_cancel(delegation, user, today),
        )
        for delegation, user_login, user_name, delegate_login, delegate_name in rows
    ]


def delegations_of(session: Session, user: User, today: dt.date | None = None) -> Mine:
    """The delegations `user` gave (who acts for them) and received (whom they act for)."""
    rows = shown(
        session.execute(_query().where(sa.or_(Delegation.user_id == user.id, Delegation.delegate_id == user.id))),
        user,
        today,
    )
    return Mine(
        [row for row in rows if row.delegation.user_id == user.id],
        [row for row in rows if row.delegation.delegate_id == user.id],
    )


def every_delegation(
    session: Session, user: User, today: dt.date | None = None, limit: int | None = None
) -> list[Shown]:
    """Every delegation, newest first, for those who see all of them (admin, HR, auditors)."""
    query = _query()
    return shown(session.execute(query.limit(limit) if limit else query), user, today)


def visible(session: Session, user: User, delegation_id: int) -> Delegation | None:
    """The delegation, if `user` may see it."""
    row = session.execute(visible_query(session, user).where(Delegation.id == delegation_id)).first()
    return row[0] if row else None


#: the fewest characters a search for a stand-in needs, and the most people it answers with
MIN_SEARCH, MAX_FOUND = 2, 10


def find_stand_ins(session: Session, words: str) -> list[tuple[str, str | None]]:
    """(login, employee's name) of the active users whose login starts with `words` or whose name
    holds them — a few at a time, and only when asked for someone: the page never lists everyone
    (a list of every login is what a password spray needs)."""
    words = words.strip()
    if len(words) < MIN_SEARCH:
        return []
    pattern = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        (login, name)
        for login, name in session.execute(
            sa.select(User.login, Employee.name)
            .outerjoin(Employee, Employee.id == User.employee_id)
            .where(
                User.active,
                sa.or_(
                    User.login.like(f"{pattern}%", escape="\\"),
                    Employee.name.like(f"%{pattern}%", escape="\\"),
                ),
            )
            .order_by(User.login)
            .limit(MAX_FOUND)
        )
    ]
