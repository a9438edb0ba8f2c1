"""Pay benchmark: a demo company (10,000 employees, about 1,000,000 CRM records) with the seed
plans, paid for one month through the real path (`perfrules pay run`: members, records credited
one by one, scorecards averaged, metrics against targets, lines and credits written), beside the
scorecard run of the same month that the pay depends on. Both are timed in turns (scorecards,
pay, three times over) and the median of each is kept, on SQLite and on PostgreSQL.

    python bench/pay_bench.py [--employees 10000] [--months 3] [--databases sqlite,postgresql]

PostgreSQL is reached at PERFRULES_BENCH_POSTGRES_URL (default: the local server), in a scratch
database made and dropped by the benchmark. Ends with one JSON line: pay_s, scorecard_s and
ratio_to_scorecards on PostgreSQL (or the last database measured), and the same per database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

import perfrules.workflow  # noqa: F401  (subscribes the approval flow to runs, as in the application)
from perfrules.config.sources import read_documents
from perfrules.config.store import apply_documents
from perfrules.config.versions import publish
from perfrules.data.demo import generate_demo
from perfrules.data.models import Record
from perfrules.db import make_engine, make_sessionmaker
from perfrules.db.migrate import upgrade
from perfrules.engine.periods import Period
from perfrules.engine.runs import start_run
from perfrules.pay.models import PayLine
from perfrules.pay.runs import run_pay
from perfrules.plugins import load_plugins
from perfrules.resources import resource_path

PERIOD = Period.parse("2026-09")  # a quarter's last month: the quarterly components are due too
POSTGRES = os.environ.get("PERFRULES_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def prepare(url: str, employees: int, months: int):
    engine = make_engine(url)
    upgrade(engine)
    functions = load_plugins().functions
    with make_sessionmaker(engine, write=True)() as session:
        documents, problems = read_documents([resource_path("seed_configs") / "config"])
        apply_documents(session, documents, functions, "bench", problems)
        version = publish(session, "bench", functions, "bench")
        generate_demo(
            session, employees=employees, months=months, seed=7, end=PERIOD.start, password_hash="-", actor="bench"
        )
        session.commit()
        records = session.scalar(sa.select(sa.func.count()).select_from(Record))
    return engine, version, records


def scorecards(engine: sa.Engine, version) -> float:
    started = time.perf_counter()
    run, _ = start_run(
        make_sessionmaker(engine, write=True),
        PERIOD,
        version.snapshot,
        load_plugins().functions,
        version_number=version.number,
        version_hash=version.content_hash,
        actor="bench",
    )
    assert run.status == "succeeded", run.message
    return time.perf_counter() - started


def pay(engine: sa.Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with make_sessionmaker(engine, write=True)() as session:
        outcome = run_pay(session, PERIOD, load_plugins().functions, "bench")
        assert not outcome.errors, [str(error) for error in outcome.errors]
        session.commit()
    return time.perf_counter() - started, len(outcome.lines)


def measure(url: str, employees: int, months: int) -> dict:
    engine, version, records = prepare(url, employees, months)
    try:
        scorecard_seconds, pay_seconds = [], []
        for _ in range(3):  # in turns, so that both meet the same state of the machine and its caches
            scorecard_seconds.append(scorecards(engine, version))
            seconds, lines = pay(engine)
            pay_seconds.append(seconds)
        with engine.connect() as connection:
            written = connection.scalar(sa.select(sa.func.count()).select_from(PayLine))
        assert written == lines, "a run replaces the month's lines"
    finally:
        engine.dispose()
    return {
        "records": records,
        "lines": lines,
        "scorecard_s": round(statistics.median(scorecard_seconds), 3),
        "pay_s": round(statistics.median(pay_seconds), 3),
    }


def _postgres_scratch() -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"perfrules_pay_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    return sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument(
        "--months", type=int, default=3, help="months of demo records (3: about 1,000,000 for 10,000 employees)"
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()

    results: dict[str, dict] = {}
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results[database] = measure(f"sqlite:///{Path(folder) / 'pay.db'}", args.employees, args.months)
        else:
            url, admin, name = _postgres_scratch()
            try:
                results[database] = measure(url, args.employees, args.months)
            finally:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.dispose()
        figures = results[database]
        figures["ratio_to_scorecards"] = round(figures["pay_s"] / figures["scorecard_s"], 2)
        print(
            f"{database:>10}: {args.employees:,} staff, {figures['records']:,} records, {figures['lines']:,} pay lines: "
            f"pay {figures['pay_s']:.2f} s, scorecards {figures['scorecard_s']:.2f} s, "
            f"pay ÷ scorecards {figures['ratio_to_scorecards']:.2f} (median of 3, in turns)"
        )
    last = results.get("postgresql") or next(reversed(results.values()))
    print(
        json.dumps(
            {
                "employees": args.employees,
                "pay_s": last["pay_s"],
                "scorecard_s": last["scorecard_s"],
                "ratio_to_scorecards": last["ratio_to_scorecards"],
                "by_database": results,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
