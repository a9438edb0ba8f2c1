"""The demo company's scorecards: once `perfrules data demo` has made the company, the two months
before its last month of records are evaluated with the latest published version and their
reviews left in every state of the lifecycle (`workflow.demo`)."""

from __future__ import annotations

import datetime as dt
import time

from ..config.versions import latest_version
from ..db import make_engine, make_sessionmaker
from ..engine.periods import Period
from ..engine.runs import start_run
from ..workflow.demo import play_lifecycle
from .context import actor, functions, settings

#: the order the summary names review states and steps in (others follow, by name)
SHOWN_FIRST = ("locked", "approved", "self_review", "manager_review", "hr_calibration", "department_head_approval")


def evaluate_demo(end: dt.date, months: int, seed: int) -> list[str]:
    """Evaluate the months before `end` that have records (at most two) and play their lifecycle;
    what was done, in lines to print."""
    last = Period.parse(f"{end:%Y-%m}").previous()
    periods = [last.previous(), last][-min(2, months - 1) :] if months > 1 else []
    if not periods:
        return []
    started = time.perf_counter()
    registry = functions()
    engine = make_engine(settings().database_url)
    sessions = make_sessionmaker(engine, write=True)
    try:
        with sessions() as session:
            version = latest_version(session)
            if version is None:
                return ["nothing is published yet: publish a configuration, then `perfrules run last-month`"]
            number, digest, snapshot = version.number, version.content_hash, version.snapshot
        for period in periods:
            start_run(
                sessions,
                period,
                snapshot,
                registry,
                version_number=number,
                version_hash=digest,
                actor=actor(),
            )
        with sessions() as session, session.begin():
            names = [str(period) for period in periods]
            found = play_lifecycle(session, names[:-1], names[-1], seed, registry)
    finally:
        engine.dispose()
    order = [key for key in SHOWN_FIRST if key in found] + sorted(
        key for key in found if key not in SHOWN_FIRST and not key.startswith("dispute ")
    )
    disputes = sorted(key for key in found if key.startswith("dispute "))
    return [
        f"evaluated {' and '.join(names)} with version {number} in {time.perf_counter() - started:.1f} s: "
        + (f"{names[0]} closed, {names[-1]} under way" if len(names) > 1 else f"{names[-1]} under way"),
        "reviews: " + ", ".join(f"{found[key]} {key.replace('_', ' ')}" for key in order),
    ] + (
        ["disputes: " + ", ".join(f"{found[key]} {key.removeprefix('dispute ')}" for key in disputes)]
        if disputes
        else []
    )
