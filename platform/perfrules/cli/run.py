"""`perfrules run`, `perfrules runs`, `perfrules scorecards`, `perfrules ratings`: evaluation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ..config.sources import read_documents
from ..config.store import validate_documents
from ..config.versions import resolve
from ..db import begin_reading, make_engine, make_sessionmaker
from ..engine.export import load_scorecards, to_csv, to_json, to_xlsx
from ..engine.manual import ManualImportError, import_manual_values
from ..engine.models import EvaluationRun
from ..engine.periods import Period, PeriodError, period_from_text
from ..engine.runs import RunError, evaluate, start_run
from ..engine.templates import left_out_message
from ..engine.whatif import compare
from ..problems import ConfigError
from ..workflow.calibration import calibrated_grades
from ..workflow.corrections import correction_guard
from .context import actor, fail, functions, session_scope, settings, write_export

WHAT_IF_ROWS = 30
LEFT_OUT_LINES = 20
TIMING_ORDER = ("aggregate", "evaluate", "write", "total")


def _period(value: str) -> Period:
    try:
        return period_from_text(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None


def _configuration(session, reference: str, files: tuple[Path, ...], registry):
    """The configuration to evaluate: a version, or the draft; with --config files applied on top."""
    chosen = resolve(session, reference)
    if not files:
        return chosen
    documents, problems = read_documents(list(files))
    config = validate_documents(documents, chosen.config, registry, problems)
    return type(chosen)(f"{chosen.name} + {', '.join(str(f) for f in files)}", config)


@click.command("run")
@click.argument("period")
@click.option("--template", "templates", multiple=True, help="Only employees on this template (repeatable).")
@click.option("--department", help="Only employees in this department and the ones below it.")
@click.option(
    "--version",
    "reference",
    default="latest",
    show_default=True,
    help="The configuration: a published version number, latest, or draft (with --dry-run).",
)
@click.option(
    "--config",
    "files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YAML applied on top of the version, to try a change (with --dry-run).",
)
@click.option("--dry-run", is_flag=True, help="Evaluate and compare with the stored results; write nothing.")
def run_command(period: str, templates, department, reference, files, dry_run) -> None:
    """Evaluate PERIOD (2026-10, 2026-Q4, 2026-H2, 2026, or last-month, last-quarter, last-half,
    last-year) for every employee with a template."""
    chosen_period = _period(period)
    registry = functions()
    engine = make_engine(settings().database_url)
    sessions = make_sessionmaker(engine, write=True)
    try:
        with sessions() as session:
            chosen = _configuration(session, reference, files, registry)
        if chosen.number is None and not dry_run:
            fail([f"{chosen.name} is not a published version: try it with --dry-run, or publish it first"])
        console = Console(stderr=True)
        with Progress(
            TextColumn(f"evaluating {chosen_period}"),
            BarColumn(),
            MofNCompleteColumn(),
            transient=True,
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("employees", total=None)

            def progress(_step, done, total):
                bar.update(task, completed=done, total=total)

            if dry_run:
                with sessions() as session:
                    evaluation = evaluate(
                        begin_reading(session),
                        chosen.config,
                        registry,
                        chosen_period,
                        templates=list(templates) or None,
                        department=department,
                        progress=progress,
                    )
                    changes = compare(session, evaluation)
                run = None
            else:
                run, evaluation = start_run(
                    sessions,
                    chosen_period,
                    chosen.config,
                    registry,
                    version_number=chosen.number,
                    version_hash=chosen.content_hash,
                    actor=actor(),
                    templates=list(templates) or None,
                    department=department,
                    progress=progress,
                )
    except ConfigError as exc:
        fail(exc.problems)
    except RunError as exc:
        fail([str(exc)])
    finally:
        engine.dispose()

    for error in evaluation.errors[:20]:
        where = " / ".join(part for part in (error["employee"], error["item"]) if part)
        click.echo(f"  {where}: {error['message']}", err=True)
    if len(evaluation.errors) > 20:
        click.echo(
            f"  … and {len(evaluation.errors) - 20} more"
            + (f" (all of them: `perfrules runs {run.id}`)" if run is not None else ""),
            err=True,
        )
    for warning in evaluation.warnings:
        click.echo(f"  warning: {warning}", err=True)
    _show_left_out(evaluation.left_out, None if run is None else run.id)
    counts, timings = evaluation.counts, evaluation.timings
    summary = (
        f"{counts['scorecards']} scorecards, {counts['failed']} failed, "
        f"{counts['without_template']} without a template, {counts['ambiguous']} ambiguous"
        + (f", {counts['other_cycle']} on templates of another cycle" if counts.get("other_cycle") else "")
        + "; "
        f"{timings['total']:.2f} s (aggregate {timings['aggregate']:.2f}, evaluate {timings['evaluate']:.2f}"
        + (f", write {timings['write']:.2f}" if "write" in timings else "")
        + (f", reviews {timings['reviews']:.2f}" if "reviews" in timings else "")
        + ")"
    )
    if run is None:
        _show_changes(changes, chosen.name)
        click.echo(f"dry run of {chosen_period} with {chosen.name}: {summary}; nothing was written")
    else:
        locked, withdrawn = counts.get("skipped_locked", 0), counts.get("approvals_withdrawn", 0)
        offered = counts.get("forms_offered", 0)
        click.echo(
            f"run {run.id} of {chosen_period} with {chosen.name} {run.status}: {summary}"
            + (f"; {locked} locked scorecard(s) kept" if locked else "")
            + (f"; {withdrawn} approval(s) withdrawn: their numbers changed" if withdrawn else "")
            + (f"; {offered} review(s) offered the forms their template gained" if offered else "")
        )


def _show_left_out(left_out, run_id: int | None) -> None:
    """Who the run left out and why, a line each (the first 20 of them)."""
    for entry in left_out[:LEFT_OUT_LINES]:
        click.echo(f"  {entry['employee']} ({entry['name']}): {left_out_message(entry)}", err=True)
    if len(left_out) > LEFT_OUT_LINES:
        click.echo(
            f"  … and {len(left_out) - LEFT_OUT_LINES} more left out"
            + (f" (all of them: `perfrules runs {run_id}`)" if run_id is not None else ""),
            err=True,
        )


def _show_changes(changes, name: str) -> None:
    moved = [c for c in changes if c.changed]
    table = Table(title=f"against the stored results ({len(moved)} of {len(changes)} change)")
    for column in ("employee", "template", "total", "Δ", "grade", "rank"):
        table.add_column(column, justify="right" if column in ("total", "Δ", "rank") else "left")

    def show(before, after, fmt="{:.2f}"):
        text = lambda v: "—" if v is None else (fmt.format(v) if isinstance(v, float) else str(v))  # noqa: E731
        return text(after) if before == after else f"{text(before)} → {text(after)}"

    for change in moved[:WHAT_IF_ROWS]:
        table.add_row(
            change.employee,
            change.template,
            show(change.total_before, change.total_after),
            "" if change.delta is None else f"{change.delta:+.2f}",
            show(change.grade_before, change.grade_after),
            show(change.rank_before, change.rank_after),
        )
    Console().print(table)
    if len(moved) > WHAT_IF_ROWS:
        click.echo(f"… and {len(moved) - WHAT_IF_ROWS} more changes")


@click.command("runs")
@click.argument("run_id", type=int, required=False)
@click.option("--limit", default=20, show_default=True)
def runs_command(run_id: int | None, limit: int) -> None:
    """Recent evaluation runs, newest first; with RUN_ID, that run with every error it recorded."""
    if run_id is not None:
        _show_run(run_id)
        return
    with session_scope() as session:
        runs = list(session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)))
    table = Table()
    for column in ("run", "period", "status", "version", "started", "seconds", "scorecards", "errors", "by"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            str(run.id),
            run.period,
            run.status,
            str(run.version_number or "—"),
            run.started_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            str(run.timings.get("total", "")),
            str(run.counts.get("scorecards", "")),
            str(len(run.errors)) if run.status != "failed" else (run.message or "failed"),
            run.schedule or run.actor,
        )
    Console(width=160).print(table)


def _show_run(run_id: int) -> None:
    with session_scope() as session:
        run = session.get(EvaluationRun, run_id)
    if run is None:
        fail([f"no run {run_id}"])
    click.echo(
        f"run {run.id} of {run.period}: {run.status}; version {run.version_number or '—'} "
        f"({(run.version_hash or '')[:12]}); by {run.schedule or run.actor}; "
        f"started {run.started_at:%Y-%m-%d %H:%M:%S}"
        + (f", finished {run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else "")
    )
    scope = ", ".join(f"{key} {value}" for key, value in run.scope.items() if value and key != "fired_at")
    click.echo(f"scope: {scope or 'everyone'}")
    if run.counts:
        click.echo("counts: " + ", ".join(f"{key} {value}" for key, value in sorted(run.counts.items())))
    if run.timings:
        click.echo("seconds: " + ", ".join(f"{key} {run.timings[key]}" for key in TIMING_ORDER if key in run.timings))
    if run.message:
        click.echo(f"message: {run.message}")
    for error in run.errors:
        where = " / ".join(part for part in (error.get("employee"), error.get("item")) if part) or "run"
        click.echo(f"  {where}: {error['message']}")
    if run.left_out:
        click.echo(f"left out ({len(run.left_out)}):")
        for entry in run.left_out:
            click.echo(f"  {entry['employee']} ({entry['name']}): {left_out_message(entry)}")


@click.command("scorecards")
@click.argument("period")
@click.option(
    "--format", "output_format", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option("--template", help="Only this template's scorecards.")
def scorecards_command(period: str, output_format: str, output: Path | None, template: str | None) -> None:
    """Export the scorecards of PERIOD with their items."""
    with session_scope() as session:
        chosen = str(_period(period))
        cards = load_scorecards(session, chosen, calibrated_grades(session, chosen), template=template)
    write_export(
        output_format,
        output,
        lambda: to_json(cards) if output_format == "json" else to_csv(cards),
        lambda: to_xlsx(cards),
        f"{len(cards)} scorecards",
    )


@click.group("ratings")
def ratings_group() -> None:
    """Manual item values (ratings) until forms fill them in."""


@ratings_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ratings_import(file: Path) -> None:
    """Import a CSV or XLSX with columns employee, period, item, value (0–100 points)."""
    try:
        with session_scope() as session:
            written = import_manual_values(session, file, actor(), guard=correction_guard)
    except ManualImportError as exc:
        fail(exc.problems)
    click.echo(f"{written} rating(s) imported from {file.name}")
