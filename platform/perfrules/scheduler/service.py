"""The scheduler's tick: find what is due under the published configuration, claim each
(schedule, period) once, and run it; then send the approval deadlines' reminders that are due
(each claimed once too) and deliver pending notifications through the active channels.

The claim is the run row itself: `evaluation_runs.claim` is unique, so when two scheduler
processes find the same period due, one inserts the run and the other's insert fails; only the
first evaluates (DESIGN.md §4.5). A claimed run that fails stays failed (an administrator reruns it
with `perfrules run`); it is not retried on every tick.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from ..config.versions import latest_version
from ..engine.models import EvaluationRun
from ..engine.runs import AlreadyClaimed, RunError, start_run
from ..formula import FunctionRegistry
from ..notify.channels import Channel
from ..notify.outbox import Clock, DeliveryReport, clock_from, deliver_pending
from ..workflow.reminders import send_reminders
from .due import Due, due

log = logging.getLogger("perfrules.scheduler")
ACTOR = "scheduler"


@dataclass
class TickReport:
    ran: list[tuple[str, int, str]] = field(default_factory=list)  # (claim, run id, status)
    skipped: list[str] = field(default_factory=list)  # claimed by another process
    failed: list[tuple[str, str]] = field(default_factory=list)
    reminders: int = 0
    deliveries: DeliveryReport = field(default_factory=DeliveryReport)


def _last_fired(session, schedules) -> dict[str, dt.datetime]:
    fired = {}
    for slug in schedules:
        scope = session.scalar(
            sa.select(EvaluationRun.scope)
            .where(EvaluationRun.schedule == slug)
            .order_by(EvaluationRun.id.desc())
            .limit(1)
        )
        if scope and scope.get("fired_at"):
            fired[slug] = dt.datetime.fromisoformat(scope["fired_at"])
    return fired


def _real_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tick(
    sessions: sessionmaker,
    functions: FunctionRegistry,
    now: dt.datetime | None = None,
    channels: dict[str, Channel] | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
) -> TickReport:
    """One pass: every due (schedule, period) claimed and run, oldest first; then reminders and
    notifications (after the runs, so the reviews they opened are announced at once).

    `now` is when the runs are due from; what comes after them reads `clock` afresh — the real
    time, or, when only `now` is given (tests), a clock moving on from `now` — since runs and
    slow deliveries take time, and a lease or back-off from a stale time would already be over."""
    clock = clock or (clock_from(now) if now is not None else _real_time)
    now = now or clock()
    report = TickReport()
    _run_due(sessions, functions, now, report)
    try:
        with sessions() as session, session.begin():
            report.reminders = send_reminders(session, clock())
    except Exception:  # like a broken run, broken reminders must not stop the scheduler
        log.exception("sending reminders failed")
    try:
        report.deliveries = deliver_pending(sessions, channels or {}, clock=clock, base_url=base_url)
    except Exception:
        log.exception("delivering notifications failed")
    return report


def _run_due(sessions: sessionmaker, functions: FunctionRegistry, now: dt.datetime, report: TickReport) -> None:
    with sessions() as session:
        version = latest_version(session)
        if version is None:
            log.info("nothing is published yet: no schedules to run")
            return
        schedules = version.snapshot.get("schedules", {})
        todo: list[Due] = due(schedules, now, _last_fired(session, schedules))
        number, digest, config = version.number, version.content_hash, version.snapshot
    for item in todo:
        try:
            run, _ = start_run(
                sessions,
                item.period,
                config,
                functions,
                version_number=number,
                version_hash=digest,
                actor=ACTOR,
                templates=list(item.templates),
                schedule=item.schedule,
                claim=item.claim,
                scope_extra={"fired_at": item.fired_at.isoformat()},
            )
        except AlreadyClaimed:
            report.skipped.append(item.claim)
            log.info("%s: already claimed by another scheduler", item.claim)
            continue
        except RunError as exc:
            report.failed.append((item.claim, str(exc)))
            log.error("%s: %s", item.claim, exc)
            continue
        except Exception as exc:  # a broken run must not stop the scheduler; it is marked failed
            report.failed.append((item.claim, str(exc)))
            log.exception("%s failed", item.claim)
            continue
        report.ran.append((item.claim, run.id, run.status))
        log.info("%s: run %s %s (%s scorecards)", item.claim, run.id, run.status, run.counts.get("scorecards"))
