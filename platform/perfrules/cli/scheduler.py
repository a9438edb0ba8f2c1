"""`perfrules scheduler`: the process that runs scheduled evaluations (one per deployment is
enough; more are safe, each period is claimed once)."""

from __future__ import annotations

import datetime as dt
import logging
import signal

import click

from ..db import make_engine, make_sessionmaker
from ..notify.channels import open_channels
from ..scheduler.service import tick
from .context import plugins, settings


@click.command("scheduler")
@click.option(
    "--interval",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds between looks at what is due.",
)
@click.option("--once", is_flag=True, help="Run what is due now, then exit (for cron or systemd timers).")
def scheduler_command(interval: int, once: bool) -> None:
    """Run scheduled evaluations as their cron expressions come due, catching up missed ones."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per look
    registry = plugins()
    channels, inactive = open_channels(registry.channels)
    for name, reason in inactive.items():
        logging.getLogger("perfrules.notify").info("channel %s is not active: %s", name, reason)
    configured = settings()
    engine = make_engine(configured.database_url)
    sessions = make_sessionmaker(engine, write=True)

    def look() -> None:
        report = tick(sessions, registry.functions, channels=channels, base_url=configured.base_url)
        if once:
            for claim, run_id, status in report.ran:
                click.echo(f"{claim}: run {run_id} {status}")
            for claim in report.skipped:
                click.echo(f"{claim}: claimed by another scheduler")
            for claim, message in report.failed:
                click.echo(f"{claim}: failed: {message}", err=True)
            if report.reminders:
                click.echo(f"reminders: {report.reminders} sent")
            for name, outcome in report.deliveries.channels.items():
                if outcome.handled():
                    click.echo(f"{name}: {outcome}")
            if not (report.ran or report.skipped or report.failed or report.reminders or report.deliveries.handled()):
                click.echo("nothing is due")

    try:
        if once:
            look()
            return
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler = BlockingScheduler(timezone="UTC")
        # one look at a time; a look that overran its interval is not repeated to catch up
        scheduler.add_job(
            look,
            "interval",
            seconds=interval,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=dt.datetime.now(dt.UTC),
        )
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        click.echo(f"perfrules scheduler: looking every {interval} s (Ctrl+C to stop)", err=True)
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
