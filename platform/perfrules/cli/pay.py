"""`perfrules pay run`, `lines`, `award` and `estimate`: incentive pay from the published plans."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from ..engine.periods import Period, PeriodError, period_from_text
from ..money import format_money
from ..pay import estimates
from ..pay.awards import AwardError, decide_award, request_award, withdraw_award
from ..pay.estimates import Estimate, compare, more
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


@award_group.command("withdraw")
@click.argument("award_id", type=int)
@click.option("--note", required=True, help="Why.")
def award_withdraw_command(award_id: int, note: str) -> None:
    """Withdraw an approved award that no run has paid yet."""
    try:
        with session_scope() as session:
            withdraw_award(session, award_id, actor(), note=note)
    except AwardError as exc:
        fail([exc])
    click.echo(f"award {award_id} withdrawn: no run will pay it")


def _decide(award_id: int, approve: bool, note: str | None) -> None:
    try:
        with session_scope() as session:
            award = decide_award(session, award_id, actor(), approve=approve, note=note)
            status, period = award.status, award.period
    except AwardError as exc:
        fail([exc])
    click.echo(f"award {award_id} {status}" + (f": paid by the pay run of {period}" if approve else ""))


def _addition(value: str) -> tuple[str, str, str]:
    employee, _, rest = value.partition(":")
    dataset, _, amount = rest.partition("=")
    if not (employee and dataset and amount):
        raise click.BadParameter(f"'{value}' is not EMPLOYEE:DATASET=AMOUNT, such as R1:payments=50000")
    return employee, dataset, amount


def _probability(value: str) -> tuple[str, Decimal]:
    stage, _, percent = value.partition("=")
    try:
        fraction = Decimal(percent) / 100
    except InvalidOperation:
        fraction = Decimal(-1)
    if not stage or not 0 <= fraction <= 1:
        raise click.BadParameter(f"'{value}' is not STAGE=PERCENT, such as proposal=50")
    return stage, fraction


@pay_group.command("estimate")
@click.argument("period")
@click.option("--plan", help="Only this plan.")
@click.option("--version", default="latest", show_default=True, help="The configuration to estimate with: draft too.")
@click.option("--against", help="Compare with this configuration instead (a draft against latest, say).")
@click.option(
    "--add", "additions", multiple=True, help="EMPLOYEE:DATASET=AMOUNT: that much more, for instance R1:payments=50000."
)
@click.option("--pipeline", help="Forecast from the open opportunities of this dataset.")
@click.option("--probability", "probabilities", multiple=True, help="STAGE=PERCENT, for each open stage: proposal=50.")
@click.option("--into", default="payments", show_default=True, help="The dataset the pipeline is expected to become.")
@click.option("--amount-field", default="amount", show_default=True, help="The pipeline's money field.")
@click.option("--stage-field", default="stage", show_default=True, help="The pipeline's stage field.")
@click.option("--closes", help="The pipeline's expected close date field: only those closing in the month.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def estimate_command(
    period: str,
    plan: str | None,
    version: str,
    against: str | None,
    additions: tuple[str, ...],
    pipeline: str | None,
    probabilities: tuple[str, ...],
    into: str,
    amount_field: str,
    stage_field: str,
    closes: str | None,
    output_format: str,
) -> None:
    """What if: the month PERIOD's pay with more collected, with a draft, or with the open pipeline,
    beside the pay as it is. Nothing is written."""
    month = _month(period)
    if pipeline and not probabilities:
        raise click.BadParameter(
            "give each open stage's probability: --probability proposal=50", param_hint="--probability"
        )
    try:
        with session_scope() as session:
            added = [_addition(value) for value in additions]
            hypothetical = [more(session, month, *addition) for addition in added]
            assumed = [f"{employee}: {amount} more in {dataset}" for employee, dataset, amount in added]
            if pipeline:
                found, words = estimates.pipeline(
                    session,
                    month,
                    dataset=pipeline,
                    amount=amount_field,
                    stage=stage_field,
                    probabilities=dict(map(_probability, probabilities)),
                    into=into,
                    closes=closes,
                )
                hypothetical.extend(found)
                assumed.extend(words)
            estimate = compare(
                session,
                month,
                functions(),
                plan=plan,
                version=version,
                against=against,
                hypothetical=tuple(hypothetical),
            )
            estimate.assumptions = assumed
    except (PayError, ConfigError) as exc:
        fail([exc])
    if estimate.errors:
        fail([str(error) for error in estimate.errors] + [f"the estimate of {month} cannot be computed"])
    _show_estimate(estimate, output_format)


def _show_estimate(estimate: Estimate, output_format: str) -> None:
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "month": str(estimate.month),
                    "before": estimate.before,
                    "after": estimate.after,
                    "assumptions": estimate.assumptions,
                    "changes": [
                        {
                            "employee": c.employee,
                            "plan": c.plan,
                            "component": c.component,
                            "kind": c.kind,
                            "before": None if c.before is None else str(c.before),
                            "after": None if c.after is None else str(c.after),
                            "delta": str(c.delta),
                            "explanation": c.words,
                        }
                        for c in estimate.changes
                    ],
                    "by_employee": {code: str(delta) for code, delta in estimate.by_employee().items()},
                    "total": str(estimate.total()),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    same = estimate.before == estimate.after
    click.echo(f"estimate of {estimate.month}: {estimate.after}" + ("" if same else f" beside {estimate.before}"))
    for assumption in estimate.assumptions:
        click.echo(f"  assuming {assumption}")
    for change in estimate.changes:
        shown = lambda amount: "—" if amount is None else format_money(amount)  # noqa: E731
        click.echo(
            f"{change.employee}\t{change.plan}.{change.component or change.kind}\t{shown(change.before)} → "
            f"{shown(change.after)}\t({_signed(change.delta)})\t{change.words['en']}"
        )
    for code, delta in estimate.by_employee().items():
        click.echo(f"{code}\t{_signed(delta)}")
    click.echo(f"in all {_signed(estimate.total())}" + ("" if estimate.changes else ": nothing would change"))


def _signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + format_money(amount)
