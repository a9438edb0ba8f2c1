"""`perfrules pay run`, `pay lines` and `pay award`: incentive pay from the published plans."""

from __future__ import annotations

from pathlib import Path

import click

from ..engine.periods import Period, PeriodError, period_from_text
from ..money import format_money
from ..pay.awards import AwardError, decide_award, request_award
from ..pay.exports import pay_lines, to_csv, to_json, to_xlsx
from ..pay.members import PayError
from ..pay.runs import compute_pay, run_pay
from ..problems import ConfigError
from .context import actor, fail, functions, session_scope, write_export


def _month(value: str) -> Period:
    try:
        month = period_from_text(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None
    if month.cycle != "monthly":
        raise click.BadParameter(f"pay is run for a month, such as 2026-10, not {value}")
    return month


@click.group("pay")
def pay_group() -> None:
    """Incentive pay: commission, bonuses and floating pay from the plans."""


@pay_group.command("run")
@click.argument("period")
@click.option("--plan", help="Only this plan.")
@click.option("--version", default="latest", show_default=True, help="The configuration version to pay with.")
@click.option("--dry-run", is_flag=True, help="Compute and show the lines; write nothing.")
def run_command(period: str, plan: str | None, version: str, dry_run: bool) -> None:
    """Compute every component of the plans due in the month PERIOD (2026-10, last-month) and
    write its lines."""
    month = _month(period)
    try:
        with session_scope() as session:
            if dry_run:
                outcome = compute_pay(session, month, functions(), plan=plan, version=version)
                for line in outcome.lines:
                    click.echo(
                        f"{line.member.code}\t{line.plan}.{line.component}\t{line.pay_period}\t"
                        f"{format_money(line.amount)} {line.currency}\t{line.words.en}"
                    )
            else:
                outcome = run_pay(session, month, functions(), actor(), plan=plan, version=version)
    except (PayError, ConfigError) as exc:
        fail([exc])
    totals = ", ".join(f"{currency} {format_money(total)}" for currency, total in sorted(outcome.totals().items()))
    employees = len({line.member.employee_id for line in outcome.lines})
    what = "computed (dry run, nothing written)" if dry_run else f"run {outcome.run.id if outcome.run else ''}"
    if outcome.errors:
        fail(
            [str(error) for error in outcome.errors]
            + [f"pay {what} of {month} with version {outcome.version_number} failed: nothing was written"]
        )
    click.echo(
        f"pay {what} of {month} with version {outcome.version_number}: "
        f"{len(outcome.lines)} lines for {employees} employees; {totals or 'nothing due'}"
    )


@pay_group.command("lines")
@click.argument("period")
@click.option("--plan", help="Only this plan's lines.")
@click.option(
    "--format", "output_format", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True
)
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Explanations in.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def lines_command(period: str, plan: str | None, output_format: str, language: str, output: Path | None) -> None:
    """Export the pay lines of the month PERIOD."""
    month = _month(period)
    with session_scope() as session:
        rows = pay_lines(session, str(month), plan, language)
    write_export(
        output_format,
        output,
        lambda: to_json(rows) if output_format == "json" else to_csv(rows),
        lambda: to_xlsx(rows),
        f"{len(rows)} pay lines",
    )


@pay_group.group("award")
def award_group() -> None:
    """Special awards asked for by hand, each approved by someone other than who asked."""


@award_group.command("request")
@click.argument("employee")
@click.argument("amount")
@click.option("--plan", required=True, help="The plan paying it.")
@click.option("--component", required=True, help="The plan's component that takes awards.")
@click.option("--month", "period", required=True, help="The month it is paid in: 2026-11, this-month.")
@click.option("--reason", required=True, help="Why, in words.")
def award_request_command(employee: str, amount: str, plan: str, component: str, period: str, reason: str) -> None:
    """Ask for an award of AMOUNT (1234.50) to EMPLOYEE (a code)."""
    month = _month(period)
    try:
        with session_scope() as session:
            award = request_award(
                session,
                actor(),
                employee=employee,
                plan=plan,
                component=component,
                month=month,
                amount=amount,
                reason=reason,
            )
            number = award.id
    except AwardError as exc:
        fail([exc])
    click.echo(f"award {number} of {amount} to {employee} in {month} asked for: it waits for someone else's approval")


@award_group.command("approve")
@click.argument("award_id", type=int)
@click.option("--note", help="A word on the decision.")
def award_approve_command(award_id: int, note: str | None) -> None:
    """Approve an award: the month's pay run pays it."""
    _decide(award_id, True, note)


@award_group.command("reject")
@click.argument("award_id", type=int)
@click.option("--note", required=True, help="Why not.")
def award_reject_command(award_id: int, note: str) -> None:
    """Reject an award."""
    _decide(award_id, False, note)


def _decide(award_id: int, approve: bool, note: str | None) -> None:
    try:
        with session_scope() as session:
            award = decide_award(session, award_id, actor(), approve=approve, note=note)
            status, period = award.status, award.period
    except AwardError as exc:
        fail([exc])
    click.echo(f"award {award_id} {status}" + (f": paid by the pay run of {period}" if approve else ""))
