"""The scheduler's tick: find what is due under the published configuration, claim each
(schedule, period) once, and run it.

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
from .due import Due, due

log = logging.getLogger("perfrules.scheduler")
ACTOR = "scheduler"


@dataclass
class TickReport:
    ran: list[tuple[str, int, str]] = field(default_factory=list)  # (claim, run id, status)
    skipped: list[str] = field(default_factory=list)  # claimed by another process
    failed: list[tuple[str, str]] = field(default_factory=list)


def _last_fired(session, schedules) -> dict[str, dt.datetime]:
    fired = {}
    for slug in schedules:
        scope = session.scalar(sa.select(EvaluationRun.scope).where(EvaluationRun.schedule == slug)
                               .order_by(EvaluationRun.id.desc()).limit(1))
        if scope and scope.get("fired_at"):
            fired[slug] = dt.datetime.fromisoformat(scope["fired_at"])
    return fired


def tick(sessions: sessionmaker, functions: FunctionRegistry, now: dt.datetime | None = None) -> TickReport:
    """One pass: every due (schedule, period) claimed and run, oldest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    report = TickReport()
    with sessions() as session:
        version = latest_version(session)
        if version is None:
            log.info("nothing is published yet: no schedules to run")
            return report
        schedules = version.snapshot.get("schedules", {})
        todo: list[Due] = due(schedules, now, _last_fired(session, schedules))
        number, digest, config = version.number, version.content_hash, version.snapshot
    for item in todo:
        try:
            run, _ = start_run(sessions, item.period, config, functions, version_number=number,
                               version_hash=digest, actor=ACTOR, templates=list(item.templates),
                               schedule=item.schedule, claim=item.claim,
                               scope_extra={"fired_at": item.fired_at.isoformat()})
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
    return report
