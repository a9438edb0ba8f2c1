"""`perfrules notify …`: which notification channels are active, the outbox, sending and retrying."""

from __future__ import annotations

import click

from ..db import make_engine, make_sessionmaker
from ..notify.channels import open_channels
from ..notify.outbox import deliver_pending, retry_failed, summary
from .context import plugins, session_scope, settings


@click.group("notify")
def notify_group() -> None:
    """Notifications sent through e-mail, webhooks and other channels."""


@notify_group.command("status")
def status_command() -> None:
    """Each channel, active or why not; the outbox by channel and state; the latest failures."""
    active, inactive = open_channels(plugins().channels)
    for name in sorted(active | inactive):
        click.echo(f"{name}: active" if name in active else f"{name}: not active: {inactive[name]}")
    if not (active or inactive):
        click.echo("no notification channels are installed (the inbox in the web app always works)")
    with session_scope() as session:
        outbox = summary(session)
    for channel, counts in sorted(outbox.counts.items()):
        click.echo(f"outbox {channel}: " + ", ".join(f"{counts[state]} {state}" for state in sorted(counts)))
    for channel, login, kind, attempts, error, filed in outbox.failures:
        click.echo(f"failed: {channel} to {login} ({kind}, {filed:%Y-%m-%d %H:%M}) after {attempts} attempts: {error}")


@notify_group.command("deliver")
def deliver_command() -> None:
    """Send pending notifications now (the scheduler does so at every look)."""
    active, _ = open_channels(plugins().channels)
    if not active:
        click.echo("no channel is active: see perfrules notify status")
        return
    configured = settings()
    engine = make_engine(configured.database_url)
    try:
        report = deliver_pending(make_sessionmaker(engine, write=True), active, base_url=configured.base_url)
    finally:
        engine.dispose()
    for name, outcome in report.channels.items():
        click.echo(f"{name}: {outcome}")


@notify_group.command("retry")
@click.option("--channel", help="Only this channel's failed deliveries.")
def retry_command(channel: str | None) -> None:
    """Give failed deliveries a fresh set of attempts (after fixing the channel's settings)."""
    with session_scope() as session:
        count = retry_failed(session, channel)
    click.echo(f"{count} failed deliveries will be sent again at the next delivery")
