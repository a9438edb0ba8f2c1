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
@click.option("--skip-invalid", is_flag=True,
              help="Import the good rows and write the rejected ones, with reasons, to a CSV.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write rejected rows (default: FILE.rejected.csv).")
def import_command(dataset: str, file: Path, skip_invalid: bool, rejects: Path | None) -> None:
    """Import a CSV or XLSX FILE into DATASET, keyed by its external_id column."""
    try:
        with session_scope() as session:
            definition = working_config(session).get("datasets", {}).get(dataset)
            if definition is None:
                fail([f"unknown dataset '{dataset}'"])
            columns, rows = read_table(file)
            console = Console(stderr=True)
            with Progress(TextColumn(f"importing {file.name}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), transient=True, console=console,
                          disable=not console.is_terminal) as progress:
                task = progress.add_task("rows", total=None)
                report = import_records(session, definition, columns, rows, actor=actor(),
                                        source=file.name, skip_invalid=skip_invalid,
                                        progress=lambda n: progress.advance(task, n))
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
        write_csv(target, [*columns, "problems"],
                  ([raw.get(c) for c in columns] + ["; ".join(f"{p.column}: {p.reason}" for p in problems)]
                   for _, raw, problems in report.rejected_rows))
        click.echo(f"rejected rows written to {target}", err=True)
    click.echo(report.summary())
    if not report.written:
        fail([f"nothing was imported: {report.rejected} row(s) have problems "
              "(fix them, or use --skip-invalid to import the rest)"])
