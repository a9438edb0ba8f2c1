"""What CLI commands share: settings, a database session, who is acting, clean failures."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from ..db import make_engine, make_sessionmaker
from ..plugins import PluginError, load_plugins
from ..settings import Settings

EXIT_INVALID = 2


def settings() -> Settings:
    return Settings.from_env()


@contextmanager
def session_scope():
    """A session committed when the command succeeds and rolled back when it fails."""
    engine = make_engine(settings().database_url)
    session = make_sessionmaker(engine, write=True)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def actor() -> str:
    return os.environ.get("PERFRULES_ACTOR") or f"cli:{getpass.getuser()}"


def plugins():
    try:
        return load_plugins()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


def functions():
    return plugins().functions


def fail(lines: Iterable[object], code: int = EXIT_INVALID) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}" if not str(line).startswith("error") else str(line), err=True)
    sys.exit(code)


def write_export(
    output_format: str, output: Path | None, text: Callable[[], str], workbook: Callable[[], bytes], what: str
) -> None:
    """An export as asked: JSON or CSV to standard output or a file, XLSX to a file only."""
    if output_format == "xlsx":
        if output is None:
            fail(["xlsx needs -o FILE"])
        output.write_bytes(workbook())
    else:
        if output is None:
            click.echo(text(), nl=output_format == "json")
            return
        output.write_text(text(), encoding="utf-8-sig" if output_format == "csv" else "utf-8")
    click.echo(f"{what} written to {output}", err=True)
