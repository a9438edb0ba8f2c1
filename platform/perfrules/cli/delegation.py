"""`perfrules delegation …`: who stands in for whom between two dates (代理), with the checks of
the page and the REST API (`workflow.delegations`). The command acts as the delegating user, and
the audit log records the CLI's actor."""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from ..org.models import User
from ..workflow.delegations import DelegationError, cancel, delegate, every_delegation, shown, visible_query
from ..workflow.models import Delegation
from .context import actor, fail, session_scope


@click.group("delegation")
def delegation_group() -> None:
    """Stand-ins: a user lets a colleague act for them between two dates."""


def _user(session, login: str) -> User:
    found = session.scalar(sa.select(User).where(User.login == login))
    if found is None:
        fail([f"unknown user '{login}'"])
    return found


@delegation_group.command("add")
@click.argument("from_login")
@click.argument("to_login")
@click.option(
    "--from",
    "starts_on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The first day, YYYY-MM-DD (today or later).",
)
@click.option(
    "--to",
    "ends_on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The last day, included, YYYY-MM-DD.",
)
def add_command(from_login: str, to_login: str, starts_on: dt.datetime, ends_on: dt.datetime) -> None:
    """Let TO_LOGIN act for FROM_LOGIN from --from to --to (both days included)."""
    try:
        with session_scope() as session:
            made = delegate(
                session,
                _user(session, from_login),
                delegate_login=to_login,
                starts_on=starts_on.date(),
                ends_on=ends_on.date(),
                actor=actor(),
            )
            number = made.id
    except DelegationError as exc:
        fail([str(exc)])
    click.echo(f"delegation {number}: {to_login} acts for {from_login} from {starts_on:%Y-%m-%d} to {ends_on:%Y-%m-%d}")


@delegation_group.command("list")
@click.option("--user", "login", help="Only the delegations given or received by this user.")
def list_command(login: str | None) -> None:
    """Every delegation, newest first: who, for whom, the dates, whether in force."""
    with session_scope() as session:
        everyone = User(login="cli", roles=["admin"])  # the CLI sees every delegation
        if login:
            who = _user(session, login)
            rows = shown(
                session.execute(
                    visible_query(session, everyone).where(
                        sa.or_(Delegation.user_id == who.id, Delegation.delegate_id == who.id)
                    )
                ),
                everyone,
            )
        else:
            rows = every_delegation(session, everyone)
    table = Table()
    for column in ("id", "for", "stand-in", "from", "to", "status", "created by"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.user_login,
            row.delegate_login,
            row.delegation.starts_on.isoformat(),
            row.delegation.ends_on.isoformat(),
            row.status,
            row.delegation.created_by,
        )
    Console(width=160).print(table)


@delegation_group.command("remove")
@click.argument("delegation_id", type=int)
def remove_command(delegation_id: int) -> None:
    """Cancel a delegation: one under way ends yesterday (kept as history), one not begun is removed."""
    try:
        with session_scope() as session:
            found = session.get(Delegation, delegation_id)
            if found is None:
                fail([f"no delegation {delegation_id}"])
            result = cancel(session, found, session.get(User, found.user_id), actor=actor())
    except DelegationError as exc:
        fail([str(exc)])
    click.echo(
        f"delegation {delegation_id} ended yesterday; kept as history"
        if result.outcome == "ended"
        else f"delegation {delegation_id} removed (it had not begun)"
    )
