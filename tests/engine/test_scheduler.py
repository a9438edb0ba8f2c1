"""Schedules: cron in a time zone, each (schedule, period) run exactly once, missed ones caught up."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from perfrules.cron import cron_trigger
from perfrules.db import make_sessionmaker
from perfrules.engine.models import EvaluationRun
from perfrules.formula import builtin_functions
from perfrules.scheduler.due import due
from perfrules.scheduler.service import tick

from ..helpers import run_cli, write

pytestmark = pytest.mark.database

UTC = ZoneInfo("UTC")
MONTHLY = {"templates": ["rep"], "cycle": "monthly", "cron": "0 2 3 * *", "timezone": "Asia/Shanghai"}


def periods(items):
    return [(item.schedule, str(item.period)) for item in items]


def test_a_firing_evaluates_the_period_that_has_ended_in_the_schedules_time_zone():
    now = dt.datetime(2026, 11, 22, tzinfo=UTC)
    assert periods(due({"m": MONTHLY}, now, {})) == [("m", "2026-10")]
    # 02:00 in Shanghai on the 3rd is 18:00 UTC on the 2nd
    assert (
        due(
            {"m": MONTHLY},
            dt.datetime(2026, 12, 2, 17, 59, tzinfo=UTC),
            {"m": dt.datetime(2026, 11, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))},
        )
        == []
    )
    fired = due(
        {"m": MONTHLY},
        dt.datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
        {"m": dt.datetime(2026, 11, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))},
    )
    assert periods(fired) == [("m", "2026-11")] and fired[0].claim == "schedule:m:2026-11"
    current = {**MONTHLY, "evaluate": "current", "cron": "0 6 * * 1"}  # Mondays, the month so far
    assert periods(due({"c": current}, now, {})) == [("c", "2026-11")]
    quarterly = {**MONTHLY, "cycle": "quarterly", "cron": "0 3 5 1,4,7,10 *"}
    assert periods(due({"q": quarterly}, now, {})) == [("q", "2026-Q3")]
    assert due({"m": {**MONTHLY, "enabled": False}}, now, {}) == []


@pytest.mark.parametrize(
    "weekday, fires_on",
    [
        ("1", {"Mon"}),
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0,6", {"Sat", "Sun"}),
        ("*/3", {"Sun", "Wed", "Sat"}),
        ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("5-7", {"Fri", "Sat", "Sun"}),
        ("*", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_weekdays_are_numbered_as_cron_numbers_them(weekday, fires_on):
    trigger = cron_trigger(f"0 6 * * {weekday}", UTC)
    fired, moment = set(), dt.datetime(2026, 11, 1, tzinfo=UTC)
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment + dt.timedelta(seconds=1))
        fired.add(moment.strftime("%a"))
    assert fired == fires_on


@pytest.mark.parametrize("expression", ["0 6 * * 8", "0 6 * * 3-1", "0 6 * *", "0 6 * * 1/0"])
def test_impossible_cron_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        cron_trigger(expression)


def test_a_schedule_of_the_period_in_progress_runs_at_each_firing():
    weekly = {**MONTHLY, "evaluate": "current", "cron": "0 6 * * mon"}
    first = due({"w": weekly}, dt.datetime(2026, 11, 10, tzinfo=UTC), {})
    assert periods(first) == [("w", "2026-11")] and first[0].claim == "schedule:w:2026-11@2026-11-08T22:00Z"
    # a week later the same month is evaluated again, under a claim of its own
    later = due({"w": weekly}, dt.datetime(2026, 11, 17, tzinfo=UTC), {"w": first[0].fired_at})
    assert periods(later) == [("w", "2026-11")] and later[0].claim == "schedule:w:2026-11@2026-11-15T22:00Z"
    assert due({"w": weekly}, dt.datetime(2026, 11, 17, tzinfo=UTC), {"w": later[0].fired_at}) == []


def test_missed_firings_are_caught_up_once_each():
    now = dt.datetime(2026, 11, 22, tzinfo=UTC)
    last = dt.datetime(2026, 8, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert periods(due({"m": MONTHLY}, now, {"m": last})) == [("m", "2026-08"), ("m", "2026-09"), ("m", "2026-10")]
    every_minute = {**MONTHLY, "cron": "* * * * *"}
    started = time.perf_counter()
    caught = due({"e": every_minute}, now, {"e": now - dt.timedelta(days=100)})
    assert periods(caught) == [("e", "2026-07"), ("e", "2026-08"), ("e", "2026-09"), ("e", "2026-10")]
    assert time.perf_counter() - started < 1  # not one step per minute of downtime


def test_bad_cron_and_time_zone_are_refused_when_loading(company, tmp_path):
    bad = write(
        tmp_path,
        "s.yaml",
        """
        schedules:
          - {slug: s, label: {zh: 计划, en: Plan}, templates: [rep], cycle: monthly, cron: "0 2 35 * *", timezone: Mars/Base}
    """,
    )
    result = run_cli("config", "load", bad)
    assert result.exit_code == 2
    assert "schedules[0].cron: not a cron expression" in result.stderr
    assert "schedules[0].timezone: unknown time zone 'Mars/Base'" in result.stderr


def schedule(tmp_path, cron: str) -> None:
    path = write(
        tmp_path,
        "schedule.yaml",
        f"""
        schedules:
          - {{slug: reps, label: {{zh: 销售月度, en: Reps monthly}}, templates: [rep], cycle: monthly,
              cron: "{cron}", timezone: Asia/Shanghai}}
    """,
    )
    assert run_cli("config", "load", path).exit_code == 0
    assert run_cli("config", "publish", "-m", "schedule").exit_code == 0


def test_a_tick_runs_what_is_due_and_a_second_tick_nothing(company, tmp_path, db_engine, session):
    schedule(tmp_path, "0 2 3 * *")
    sessions = make_sessionmaker(db_engine, write=True)
    now = dt.datetime(2026, 11, 22, tzinfo=UTC)
    first = tick(sessions, builtin_functions(), now)
    assert [(claim, status) for claim, _, status in first.ran] == [("schedule:reps:2026-10", "succeeded")]
    assert tick(sessions, builtin_functions(), now).ran == []
    # three months later, with the scheduler down in between: each missed month once
    later = tick(sessions, builtin_functions(), dt.datetime(2027, 2, 10, tzinfo=UTC))
    assert [claim for claim, _, _ in later.ran] == [
        "schedule:reps:2026-11",
        "schedule:reps:2026-12",
        "schedule:reps:2027-01",
    ]
    runs = session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id)).all()
    assert [(r.schedule, r.period, r.actor, r.scope["templates"]) for r in runs] == [
        ("reps", p, "scheduler", ["rep"]) for p in ("2026-10", "2026-11", "2026-12", "2027-01")
    ]


def test_two_scheduler_processes_run_each_due_period_once(company, tmp_path, cli_env, session):
    schedule(tmp_path, "* * * * *")  # due every minute: both processes find the month due at once
    environment = {**os.environ, "PERFRULES_DATABASE_URL": cli_env}
    command = [sys.executable, "-m", "perfrules.cli", "scheduler", "--interval", "1"]
    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            session.expire_all()
            session.rollback()
            if session.scalar(
                sa.select(sa.func.count()).select_from(EvaluationRun).where(EvaluationRun.status == "succeeded")
            ):
                break
            time.sleep(0.2)
        time.sleep(3)  # several more looks by both processes
    finally:
        for process in processes:
            process.terminate()
        outputs = [process.communicate(timeout=20)[0] for process in processes]
    assert all(process.returncode is not None for process in processes)
    session.rollback()
    runs = session.execute(sa.select(EvaluationRun.claim, EvaluationRun.status)).all()
    assert len(runs) == 1, outputs
    assert runs[0].status == "succeeded" and runs[0].claim.startswith("schedule:reps:")
    assert sum("run 1 succeeded" in output for output in outputs) == 1, outputs
