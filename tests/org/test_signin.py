"""Sign-in throttling: by login from a place, by place and by login from elsewhere; the owner of a
login under attack still signs in where they usually do; failures leak away and are forgotten."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.org.models import SignInFailures, SignInPlace, User
from perfrules.org.signin import MAX_PLACES, place_of, sign_in

from ..helpers import add_users

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
START = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
OFFICE, HOTEL, ATTACKER = "192.0.2.10", "198.51.100.20", "203.0.113.66"


@pytest.fixture
def people(cli_env, session):
    """Thirty employees user00 … user29 and an admin, all with PASSWORD; a database session."""
    add_users([(f"user{n:02}", "employee", None) for n in range(30)] + [("admin", "admin", None)], PASSWORD)
    return session


def attempt(session, login: str, password: str, address: str, at: dt.datetime):
    result = sign_in(session, login, password, address, now=at)
    session.commit()
    return result


def test_places_are_addresses_and_ipv6_networks():
    assert place_of("2001:db8:1:2::1") == place_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert place_of("::ffff:192.0.2.1") == place_of(" 192.0.2.1 ") == "192.0.2.1"
    assert place_of(None) == place_of("not an address") == "unknown"


def test_one_password_sprayed_across_logins_from_one_place_is_slowed(people):
    for n in range(20):  # twenty logins, one password each: what a spray looks like
        refused = attempt(people, f"user{n:02}", "Summer2026!", ATTACKER, START + dt.timedelta(seconds=n))
        assert refused.user is None and refused.retry_after == 0
    at = START + dt.timedelta(seconds=19.5)  # half a second after the twentieth
    slowed = attempt(people, "user20", PASSWORD, ATTACKER, at)
    assert slowed.user is None and slowed.retry_after == 1  # even the right password waits
    elsewhere = attempt(people, "user20", PASSWORD, OFFICE, at)
    assert elsewhere.user is not None and elsewhere.user.login == "user20"


def test_a_login_guessed_from_many_places_is_slowed_except_where_its_owner_signs_in(people):
    assert attempt(people, "admin", PASSWORD, OFFICE, START).user is not None
    for n in range(10):  # ten machines, one guess each: neither a place nor login-from-place is slowed
        assert attempt(people, "admin", f"guess-{n}", f"203.0.113.{n}", START + dt.timedelta(seconds=n)).user is None
    at = START + dt.timedelta(seconds=9.5)
    slowed = attempt(people, "admin", PASSWORD, HOTEL, at)  # a new place waits like the attackers
    assert slowed.user is None and slowed.retry_after == 1
    assert attempt(people, "admin", PASSWORD, OFFICE, at).user is not None  # the usual place does not


def test_a_login_slowed_at_one_place_signs_in_from_another(people):
    for n in range(5):
        attempt(people, "user01", "wrong", ATTACKER, START + dt.timedelta(seconds=n))
    at = START + dt.timedelta(seconds=4.5)
    assert attempt(people, "user01", PASSWORD, ATTACKER, at).retry_after == 1
    assert attempt(people, "user01", PASSWORD, HOTEL, at).user is not None  # nobody can lock them out


def test_failures_leak_away_and_their_records_are_forgotten_after_a_day(people):
    for n in range(20):
        attempt(people, f"user{n:02}", "wrong", OFFICE, START + dt.timedelta(minutes=n))
    # a day of typos at one office: one is forgotten every three minutes, so nobody waits
    later = START + dt.timedelta(hours=2)
    assert attempt(people, "user25", "wrong", OFFICE, later).retry_after == 0
    assert people.get(SignInFailures, f"place:{OFFICE}").count == 1
    for n in range(30):  # unknown logins count by place only: no record per invented login
        attempt(people, f"nobody{n}", "wrong", ATTACKER, later + dt.timedelta(seconds=n))
    assert people.scalar(sa.select(sa.func.count()).where(SignInFailures.key.like("login:nobody%"))) == 0
    attempt(people, "user00", "wrong", HOTEL, later + dt.timedelta(days=1, minutes=1))
    keys = set(people.scalars(sa.select(SignInFailures.key)))
    assert keys == {f"login+place:user00@{HOTEL}", f"place:{HOTEL}", "login:user00"}  # the rest forgotten


def test_a_success_clears_its_login_and_place_and_the_places_kept_are_bounded(people):
    for n in range(3):
        attempt(people, "user03", "wrong", HOTEL, START + dt.timedelta(seconds=n))
    assert attempt(people, "user03", PASSWORD, HOTEL, START + dt.timedelta(seconds=3)).user is not None
    assert people.get(SignInFailures, f"login+place:user03@{HOTEL}") is None
    assert people.get(SignInFailures, f"place:{HOTEL}").count == 3  # one good account cannot reset a spray
    for n in range(MAX_PLACES + 5):
        attempt(people, "user04", PASSWORD, f"192.0.2.{100 + n}", START + dt.timedelta(minutes=n))
    user = people.scalar(sa.select(User).where(User.login == "user04"))
    places = set(people.scalars(sa.select(SignInPlace.place).where(SignInPlace.user_id == user.id)))
    assert places == {f"192.0.2.{100 + n}" for n in range(5, MAX_PLACES + 5)}  # the most recent
