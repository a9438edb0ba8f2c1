"""`perfrules db …`: database schema migrations."""

from __future__ import annotations

import click

from ..db import make_engine
from ..db.migrate import current_revision, head_revision, upgrade
from .context import settings


@click.group("db")
def db_group() -> None:
    """Create and upgrade the database schema."""


@db_group.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (creates the database when it is empty)."""
    engine = make_engine(settings().database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database is up to date (revision {after})")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db_group.command("status")
def status_command() -> None:
    """Show the database's revision and the newest one."""
    engine = make_engine(settings().database_url)
    try:
        click.echo(f"database: {current_revision(engine) or 'empty'}; newest: {head_revision()}")
    finally:
        engine.dispose()
