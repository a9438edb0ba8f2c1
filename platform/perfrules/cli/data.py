"""`perfrules data …`: CRM records."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..config.store import working_config
from ..data.ingest import ImportRefused, import_records
from ..data.readers import read_table
from ..spreadsheet import write_csv
from .context import actor, fail, session_scope

MAX_PROBLEMS_SHOWN = 50


@click.group("data")
def data_group() -> None:
    """Import and generate CRM records."""


@data_group.command("import")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Import the good rows and write the rejected ones, with reasons, to a CSV."
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows (default: FILE.rejected.csv).",
)
def import_command(dataset: str, file: Path, skip_invalid: bool, rejects: Path | None) -> None:
    """Import a CSV or XLSX FILE into DATASET, keyed by its external_id column."""
    try:
        with session_scope() as session:
            definition = working_config(session).get("datasets", {}).get(dataset)
            if definition is None:
                fail([f"unknown dataset '{dataset}'"])
            columns, rows = read_table(file)
            console = Console(stderr=True)
            with Progress(
                TextColumn(f"importing {file.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
                console=console,
                disable=not console.is_terminal,
            ) as progress:
                task = progress.add_task("rows", total=None)
                report = import_records(
                    session,
                    definition,
                    columns,
                    rows,
                    actor=actor(),
                    source=file.name,
                    skip_invalid=skip_invalid,
                    progress=lambda n: progress.advance(task, n),
                )
            if not report.written:
                session.rollback()
    except ImportRefused as exc:
        fail([f"{file.name}: {exc}" if not str(exc).startswith(file.name) else str(exc)])
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"{file.name}: {problem}", err=True)
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"… and {len(report.problems) - MAX_PROBLEMS_SHOWN} more problem(s)", err=True)
    if report.rejected and skip_invalid:
        target = rejects or file.with_name(file.stem + ".rejected.csv")
        write_csv(
            target,
            [*columns, "problems"],
            (
                [raw.get(c) for c in columns] + ["; ".join(f"{p.column}: {p.reason}" for p in problems)]
                for _, raw, problems in report.rejected_rows
            ),
        )
        click.echo(f"rejected rows written to {target}", err=True)
    click.echo(report.summary())
    if not report.written:
        fail(
            [
                f"nothing was imported: {report.rejected} row(s) have problems "
                "(fix them, or use --skip-invalid to import the rest)"
            ]
        )


@data_group.command("demo")
@click.option("--employees", default=200, show_default=True, help="How many employees.")
@click.option("--months", default=12, show_default=True, help="How many months of CRM records.")
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same company.")
@click.option("--end", "end_month", metavar="YYYY-MM", help="Last month of records (default: this month).")
@click.option("--password", help="Password of every demo login (default: a random one, printed).")
@click.option("--if-empty", is_flag=True, help="Do nothing when employees already exist.")
def demo_command(
    employees: int, months: int, seed: int, end_month: str | None, password: str | None, if_empty: bool
) -> None:
    """Generate a demo company: organisation, logins and CRM records; with a published
    configuration, the two months before the last are evaluated too, their scorecards left in
    every state of their lifecycle."""
    import datetime as dt
    import secrets
    import time

    import sqlalchemy as sa

    from ..data.demo import generate_demo
    from ..org.models import Employee
    from ..org.users import hash_password
    from .demo import evaluate_demo

    try:
        end = dt.date.fromisoformat(f"{end_month}-01") if end_month else dt.date.today().replace(day=1)
    except ValueError:
        fail([f"--end {end_month!r}: write the month as YYYY-MM"])
    generated = password is None
    password = password or secrets.token_urlsafe(9)
    started = time.perf_counter()
    try:
        with session_scope() as session:
            if session.scalar(sa.select(sa.func.count()).select_from(Employee)):
                if if_empty:
                    click.echo("employees already exist; demo data left as it is")
                    return
                fail(["the database already has employees; the demo needs an empty organisation"])
            summary = generate_demo(
                session,
                employees=employees,
                months=months,
                seed=seed,
                end=end,
                password_hash=hash_password(password),
                actor=actor(),
            )
    except ValueError as exc:
        fail([str(exc)])
    click.echo(f"demo company created in {time.perf_counter() - started:.1f} s: {summary}")
    examples = ", ".join(f"{login} ({role.replace('_', ' ')})" for role, login in summary.example_logins.items())
    click.echo(f"logins: admin, hr, and one per employee, for example {examples}")
    click.echo(f"password of every demo login: {password}{' (generated)' if generated else ''}")
    for line in evaluate_demo(end, months, seed):
        click.echo(line)
