"""`perfrules org …` and `perfrules user …`: the organisation and who signs in."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
import sqlalchemy as sa

from ..org.importer import import_organisation
from ..org.models import USER_ROLES, Employee
from ..org.users import create_user
from ..problems import ConfigError
from .context import actor, fail, session_scope


@click.group("org")
def org_group() -> None:
    """Departments, roles and employees."""


@org_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Import YAML or CSV files (departments.csv, roles.csv, employees.csv): all, or nothing."""
    try:
        with session_scope() as session:
            summary = import_organisation(session, list(paths), actor())
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
def create_command(login: str, roles: tuple[str, ...], employee: str | None, password: str | None) -> None:
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
            create_user(session, login, password, list(roles), employee_id, actor())
    except ValueError as exc:
        fail([str(exc)])
    click.echo(f"user {login} created" + (f"; password: {password}" if generated else ""))
