"""`perfrules targets …`: targets (目标) from spreadsheets."""

from __future__ import annotations

from pathlib import Path

import click

from ..config.targets_table import import_targets
from ..data.ingest import ImportRefused
from ..problems import ConfigError
from .context import actor, fail, functions, session_scope

MAX_WARNINGS_SHOWN = 50


@click.group("targets")
def targets_group() -> None:
    """Import targets into the draft configuration."""


@targets_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "slug",
    required=True,
    metavar="SLUG",
    help="The target set to import into (created when it does not exist).",
)
@click.option("--label-zh", help="The set's Chinese label (default: the existing set's, or SLUG).")
@click.option("--label-en", help="The set's English label (default: the existing set's, or SLUG).")
@click.option(
    "--merge/--replace",
    "merge",
    default=True,
    show_default=True,
    help="--merge adds the file's entries, replacing those with the same name, period and "
    "holder, and keeps the set's others; --replace makes them the set's only entries.",
)
def import_command(file: Path, slug: str, label_zh: str | None, label_en: str | None, merge: bool) -> None:
    """Import targets from a CSV or XLSX FILE into target set SLUG of the draft: all rows, or none.

    Columns: name, period, value, and the holder: employee, department or role; optionally split,
    weight_attribute, decimals, month_shares (12 percentages separated by ; or |). The header is
    row 1; an empty cell means not given.
    """
    label = {key: value for key, value in (("zh", label_zh), ("en", label_en)) if value}
    try:
        with session_scope() as session:
            summary = import_targets(session, file, slug, functions(), actor(), replace=not merge, label=label or None)
    except ImportRefused as exc:
        fail([f"{file.name}: {exc}" if not str(exc).startswith(file.name) else str(exc), "nothing was imported"])
    except ConfigError as exc:
        fail([*map(str, exc.problems), f"nothing was imported ({len(exc.problems)} problem(s))"])
    for warning in summary.warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {warning}", err=True)
    if len(summary.warnings) > MAX_WARNINGS_SHOWN:
        click.echo(f"… and {len(summary.warnings) - MAX_WARNINGS_SHOWN} more warning(s)", err=True)
    click.echo(str(summary))
    if summary.load.unchanged:
        click.echo("the draft already had these targets; nothing changed")
    else:
        click.echo("targets saved in the draft configuration; publish to use them")
