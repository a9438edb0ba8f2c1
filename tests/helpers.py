"""Helpers shared by tests: run the CLI against the test's database, write small files, declare
a starting state (a database built once and copied per test: see tests/conftest.py)."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from perfrules.cli import main
from perfrules.cli.context import actor, session_scope
from perfrules.org.models import Employee, User
from perfrules.org.tokens import issue_token
from perfrules.org.users import create_user, hash_password

ROOT = Path(__file__).resolve().parents[1]
SEED_CONFIG = ROOT / "seed_configs" / "config"
SEED_ORG = ROOT / "seed_configs" / "org" / "organisation.yaml"


@dataclass(frozen=True)
class StartingState:
    name: str
    #: the state it is built on; None: the migrated database
    parent: str | None
    #: build(folder) makes the state, the CLI pointed at the template; `folder` is for its files
    build: Callable[[Path], None]


#: every starting state declared, by name (the name of its fixture)
STATES: dict[str, StartingState] = {}


def starting_state(build: Callable[[Path], None], parent: str | None = None):
    """Declare the fixture below (put this under @pytest.fixture) a starting state: a test asking
    for it, directly or through other fixtures, gets its own copy of the database that
    `build(folder)` leaves on a copy of `parent`'s state (None: the migrated database). The state
    is built once per test process and database, with the environment `cli_env` sets pointed at
    the template; the fixture itself gives each test what it needs from its copy."""

    def declare(fixture_function):
        state = StartingState(fixture_function.__name__, parent, build)
        assert STATES.setdefault(state.name, state) == state, f"two starting states named {state.name}"
        return fixture_function

    return declare


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


#: How set-up users' passwords are hashed (see add_users): werkzeug's scrypt, as the app's own
#: hash_password, at a sixteenth of its default work factor (N = 2**11, not 2**15), so that signing
#: in, which most web tests do many times, takes 7 ms instead of 120. Checking is the app's own code,
#: reading the parameters from the stored hash.
SET_UP_HASH = "scrypt:2048:8:1"


@functools.cache
def _password_hash(password: str, full_cost: bool) -> str:
    return hash_password(password) if full_cost else generate_password_hash(password, method=SET_UP_HASH)


def add_users(
    users: Iterable[tuple[str, str | Sequence[str], str | None]], password: str, full_cost: bool = False
) -> None:
    """Create users (login, role or roles, employee code or None), each with `password`, as
    `perfrules user create` does — through the service it calls, in the database the environment
    names, acting as PERFRULES_ACTOR — in one transaction. For set-up, where neither the CLI nor
    password hashing is what is tested: `password` is hashed once per test process (create_user's
    `password_hash`, meant for callers creating many users with one password), with SET_UP_HASH
    unless `full_cost` (then as the app hashes it)."""
    with session_scope() as session:
        for login, roles, employee in users:
            employee_id = None
            if employee:
                employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == employee))
                assert employee_id is not None, f"unknown employee {employee}"
            roles = [roles] if isinstance(roles, str) else list(roles)
            password_hash = _password_hash(password, full_cost)
            create_user(session, login, password, roles, employee_id, actor(), password_hash=password_hash)


def issue_tokens(logins: Iterable[str], name: str) -> dict[str, str]:
    """An API token named `name` for each login, in order, as `perfrules token create LOGIN --name
    NAME` issues it (through the same service, in one transaction): login → the token in clear."""
    with session_scope() as session:
        return {
            login: issue_token(session, session.scalar(sa.select(User).where(User.login == login)), name, actor())[0]
            for login in logins
        }


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding=encoding)
    return path


def csrf_token(page: str) -> str:
    """The CSRF token a page's forms carry."""
    import re

    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client, login: str, password: str):
    """Sign in through the real form; the response to the POST."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"login": login, "password": password, "csrf_token": token})
