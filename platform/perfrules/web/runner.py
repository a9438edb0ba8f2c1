"""Runs started from the web: recorded at once, evaluated in a background thread of this process,
one at a time. Their progress is written to the run record, so any worker can report it.

A web process that dies mid-run leaves the run `running`; the next run on the same host marks it
failed (engine.runs.fail_abandoned_runs). Scheduled runs belong to `perfrules scheduler`, not here.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from ..config.versions import resolve
from ..engine.models import EvaluationRun
from ..engine.periods import Period
from ..engine.runs import RunError, check_scope, complete_run, open_run
from ..engine.shapes import RunScopeExtra
from ..plugins import load_plugins
from ..problems import ConfigError

log = logging.getLogger("perfrules.web.runner")
#: seconds between two progress writes
PROGRESS_INTERVAL = 1.0


def _progress_writer(sessions: sessionmaker, run_id: int):
    last = [0.0]

    def progress(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL and done < total:
            return
        last[0] = now
        with sessions() as session, session.begin():
            session.execute(
                sa.update(EvaluationRun)
                .where(EvaluationRun.id == run_id, EvaluationRun.status == "running")
                .values(counts={"progress": {"step": step, "done": done, "total": total}})
            )

    return progress


def _execute(sessions: sessionmaker, run: EvaluationRun, config: dict) -> None:
    try:
        complete_run(sessions, run, config, load_plugins().functions, progress=_progress_writer(sessions, run.id))
    except Exception:  # recorded on the run by complete_run; the thread lives on for the next one
        log.exception("run %s failed", run.id)


class RunRefused(Exception):
    """A run that cannot start: which field of the request is at fault, and why. `busy` when
    the period is being run already."""

    def __init__(self, field: str, message: str, busy: bool = False):
        super().__init__(message)
        self.field, self.message, self.busy = field, message, busy


def start_run_in_background(
    session: Session,
    period: Period,
    *,
    version: str = "latest",
    templates: list[str] | None = None,
    department: str | None = None,
    actor: str,
    scope_extra: RunScopeExtra | None = None,
) -> EvaluationRun:
    """Check what is asked, record the run and hand it to the background thread. The request's
    own transaction is ended first: the run is recorded in a transaction of its own."""
    try:
        chosen = resolve(session, version)
    except ConfigError as exc:
        raise RunRefused("version", " ".join(problem.message for problem in exc.problems)) from None
    if chosen.number is None:
        raise RunRefused("version", "only a published version can be run")
    try:
        check_scope(session, chosen.config, templates, department)
    except RunError as exc:
        raise RunRefused("department" if "department" in str(exc) else "templates", str(exc)) from None
    busy = session.scalar(
        sa.select(EvaluationRun.id).where(EvaluationRun.period == str(period), EvaluationRun.status == "running")
    )
    if busy is not None:
        raise RunRefused("period", f"run {busy} of {period} is still running; wait for it to end", busy=True)
    session.commit()  # nothing written
    run = open_run(
        current_app.extensions["perfrules.write_sessions"],
        period,
        version_number=chosen.number,
        version_hash=chosen.content_hash,
        actor=actor,
        templates=templates or None,
        department=department,
        scope_extra=scope_extra,
    )
    submit_run(run, chosen.config)
    return run


def submit_run(run: EvaluationRun, config: dict) -> Future:
    executor: ThreadPoolExecutor = current_app.extensions["perfrules.run_executor"]
    return executor.submit(_execute, current_app.extensions["perfrules.write_sessions"], run, config)


def init_app(app: Flask) -> None:
    app.extensions["perfrules.run_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfrules-run")
