"""`perfrules org …`, `perfrules user …` and `perfrules token …`: the organisation and who signs in."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from ..org.importer import import_organisation
from ..org.models import USER_ROLES, ApiToken, Employee, User
from ..org.tokens import issue_token, revoke_token
from ..org.users import create_user
from ..problems import ConfigError
from .context import actor, fail, session_scope


@click.group("org")
def org_group() -> None:
    """Departments, roles and employees."""


@org_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--effective",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day changes of department, manager or role, departures and rehires take effect "
    "(default today); an employee's own `effective` overrides it.",
)
def import_command(paths: tuple[Path, ...], effective: dt.datetime | None) -> None:
    """Import YAML or CSV files (departments.csv, roles.csv, employees.csv): all, or nothing."""
    try:
        with session_scope() as session:
            summary = import_organisation(session, list(paths), actor(), effective.date() if effective else None)
    except ConfigError as exc:
        fail([*map(str, exc.problems), f"nothing was imported ({len(exc.problems)} problem(s))"])
    click.echo(f"organisation imported: {summary}")


@click.group("user")
def user_group() -> None:
    """Users who sign in."""


@user_group.command("create")
@click.argument("login")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(USER_ROLES))
@click.option("--employee", help="Code of the employee this user is.")
@click.option("--password", help="Leave out to generate one, printed once.")
@click.option("--email", help="Where notifications are e-mailed, when e-mail is configured.")
def create_command(
    login: str, roles: tuple[str, ...], employee: str | None, password: str | None, email: str | None
) -> None:
    """Create a user."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with session_scope() as session:
            employee_id = None
            if employee:
                employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == employee))
                if employee_id is None:
                    fail([f"unknown employee '{employee}'"])
            create_user(session, login, password, list(roles), employee_id, actor(), email=email)
    except ValueError as exc:
        fail([str(exc)])
    click.echo(f"user {login} created" + (f"; password: {password}" if generated else ""))


@click.group("token")
def token_group() -> None:
    """API tokens for programs that use the REST API."""


@token_group.command("create")
@click.argument("login")
@click.option("--name", required=True, help="What the token is for, e.g. 'CRM nightly sync'.")
@click.option("--expires-days", type=click.IntRange(min=1), help="Days until it stops working (default: never).")
def token_create(login: str, name: str, expires_days: int | None) -> None:
    """Issue a token acting as user LOGIN with that user's roles; it is printed once."""
    try:
        with session_scope() as session:
            user = session.scalar(sa.select(User).where(User.login == login))
            if user is None:
                fail([f"unknown user '{login}'"])
            token, row = issue_token(
                session, user, name, actor(), dt.timedelta(days=expires_days) if expires_days else None
            )
    except ValueError as exc:
        fail([str(exc)])
    click.echo(f"token {row.id} for {login} ({', '.join(user.roles)}); keep it secret, it is not shown again:")
    click.echo(token)


@token_group.command("list")
def token_list() -> None:
    """Every token: whose, what for, when last used, whether revoked."""
    with session_scope() as session:
        rows = session.execute(
            sa.select(ApiToken, User.login).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
        ).all()
    table = Table()
    for column in ("id", "user", "name", "starts", "created", "expires", "last used", "revoked"):
        table.add_column(column)
    when = lambda moment: moment.strftime("%Y-%m-%d %H:%M") if moment else "—"  # noqa: E731
    for token, login in rows:
        table.add_row(
            str(token.id),
            login,
            token.name,
            token.prefix + "…",
            when(token.created_at),
            when(token.expires_at),
            when(token.last_used_at),
            when(token.revoked_at),
        )
    Console(width=160).print(table)


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    try:
        with session_scope() as session:
            revoke_token(session, token_id, actor())
    except ValueError as exc:
        fail([str(exc)])
    click.echo(f"token {token_id} revoked")
