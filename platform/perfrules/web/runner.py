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
from sqlalchemy.orm import sessionmaker

from ..engine.models import EvaluationRun
from ..engine.runs import complete_run
from ..plugins import load_plugins

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
            session.execute(sa.update(EvaluationRun).where(EvaluationRun.id == run_id,
                                                           EvaluationRun.status == "running")
                            .values(counts={"progress": {"step": step, "done": done, "total": total}}))
    return progress


def _execute(sessions: sessionmaker, run: EvaluationRun, config: dict) -> None:
    try:
        complete_run(sessions, run, config, load_plugins().functions, progress=_progress_writer(sessions, run.id))
    except Exception:  # recorded on the run by complete_run; the thread lives on for the next one
        log.exception("run %s failed", run.id)


def submit_run(run: EvaluationRun, config: dict) -> Future:
    executor: ThreadPoolExecutor = current_app.extensions["perfrules.run_executor"]
    return executor.submit(_execute, current_app.extensions["perfrules.write_sessions"], run, config)


def init_app(app: Flask) -> None:
    app.extensions["perfrules.run_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfrules-run")
