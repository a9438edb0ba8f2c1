"""Users' e-mail addresses, where the e-mail channel writes to: set when a user is created from
the command line or in the console, checked, and audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.org.models import User
from perfrules.problems import ConfigError
from perfrules.web.admin.orgchanges import save_user

from ..helpers import run_cli

pytestmark = pytest.mark.database


def test_an_address_is_given_on_the_command_line_and_checked(cli_env, session):
    created = run_cli(
        "user", "create", "mei", "--role", "hr", "--password", "s3cret-pass", "--email", "mei@example.com"
    )
    assert created.exit_code == 0, created.output
    refused = run_cli("user", "create", "bad", "--role", "hr", "--password", "s3cret-pass", "--email", "mei at example")
    assert refused.exit_code != 0 and "'mei at example' is not an e-mail address" in refused.output
    assert dict(session.execute(sa.select(User.login, User.email)).all()) == {"mei": "mei@example.com"}


def test_the_console_sets_an_address_checks_it_and_audits_the_change(cli_env, session):
    assert run_cli("user", "create", "admin", "--role", "admin", "--password", "s3cret-pass").exit_code == 0
    assert run_cli("user", "create", "mei", "--role", "hr", "--password", "s3cret-pass").exit_code == 0
    admin, mei = (session.scalar(sa.select(User).where(User.login == login)) for login in ("admin", "mei"))
    with pytest.raises(ConfigError, match="is not an e-mail address"):
        save_user(
            session,
            mei,
            login="mei",
            roles=["hr"],
            employee=None,
            active=True,
            password=None,
            acting=admin,
            actor="admin",
            email="mei@",
        )
    save_user(
        session,
        mei,
        login="mei",
        roles=["hr"],
        employee=None,
        active=True,
        password=None,
        acting=admin,
        actor="admin",
        email=" mei@example.com ",
    )
    assert mei.email == "mei@example.com"
    change = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.save")).one()
    assert "email" not in change.before and change.after["email"] == "mei@example.com"
