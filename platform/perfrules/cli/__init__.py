"""The `perfrules` command line. Each concern adds its own command group here."""

from __future__ import annotations

import click

from .. import __version__
from .config import config_group
from .data import data_group
from .db import db_group
from .delegation import delegation_group
from .formula import formula
from .notify import notify_group
from .org import org_group, token_group, user_group
from .pay import pay_group
from .run import ratings_group, run_command, runs_command, scorecards_command
from .scheduler import scheduler_command
from .serve import serve_command
from .targets import targets_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfrules")
def main() -> None:
    """perfrules — performance rules over CRM data."""


main.add_command(formula)
main.add_command(db_group)
main.add_command(config_group)
main.add_command(org_group)
main.add_command(user_group)
main.add_command(token_group)
main.add_command(data_group)
main.add_command(run_command)
main.add_command(pay_group)
main.add_command(runs_command)
main.add_command(scorecards_command)
main.add_command(ratings_group)
main.add_command(scheduler_command)
main.add_command(notify_group)
main.add_command(serve_command)
main.add_command(targets_group)
main.add_command(delegation_group)
