"""Evaluation benchmark: a demo company of 10,000 employees and about 1,000,000 CRM records on SQLite,
evaluated for one month with the seed templates through the real run path (aggregate in SQL,
evaluate vectorised, write scorecards with their traces, open each scorecard's review and notify
its first step's actors). In the same run, the bare SQL
aggregation: the very statements the engine sent, executed again on their own. Both are the best
of three, so that neither pays alone for reading the database into the page cache.

    python bench/run_bench.py [--employees 10000] [--small 1000] [--months 8]

Ends with one JSON line: total_s, aggregate_s, evaluate_s, write_s, reviews_s, sql_s, ratio_to_sql (total ÷
bare aggregation), records, employees, kpis, and growth (large total ÷ small total).
"""

from __future__ import annotations

import argparse
import json
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
from perfrules.notify.models import Notification
from perfrules.plugins import load_plugins
from perfrules.resources import resource_path
from perfrules.workflow.models import Review

PERIOD = Period.parse("2026-10")


def prepare(path: Path, employees: int, months: int):
    engine = make_engine(f"sqlite:///{path}")
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
        return engine, version.snapshot, records, version


def evaluate(engine: sa.Engine, config: dict, version) -> tuple[dict, list]:
    """One real run; the aggregation statements it sent, with their parameters."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT") and "FROM records" in statement:
            statements.append((statement, parameters))

    with engine.begin() as connection:  # so that every run opens the company's reviews and notifies
        connection.execute(sa.delete(Notification))
        connection.execute(sa.delete(Review))
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        run, evaluation = start_run(
            make_sessionmaker(engine, write=True),
            PERIOD,
            config,
            load_plugins().functions,
            version_number=version.number,
            version_hash=version.content_hash,
            actor="bench",
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert run.status == "succeeded", run.message
    return {
        **evaluation.timings,
        "scorecards": evaluation.counts["scorecards"],
        "failed": evaluation.counts["failed"],
    }, statements


def bare_sql(engine: sa.Engine, statements: list) -> float:
    started = time.perf_counter()
    with engine.connect() as connection:
        for statement, parameters in statements:
            connection.exec_driver_sql(statement, parameters).fetchall()
    return time.perf_counter() - started


def measure(folder: Path, employees: int, months: int) -> dict:
    engine, config, records, version = prepare(folder / f"run_{employees}.db", employees, months)
    try:
        # best of three for both sides, so neither is timed with a cold page cache; the later
        # runs also delete the scorecards they replace, as every re-run does
        timings, statements = min(
            (evaluate(engine, config, version) for _ in range(3)), key=lambda measured: measured[0]["total"]
        )
        sql_seconds = min(bare_sql(engine, statements) for _ in range(3))
    finally:
        engine.dispose()
    kpis = {
        item["kpi"]
        for template in config["templates"].values()
        for section in template["sections"]
        for item in section["items"]
        if item.get("kpi")
    }
    return {
        "employees": employees,
        "records": records,
        "kpis": len(kpis),
        "queries": len(statements),
        **timings,
        "sql": round(sql_seconds, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument(
        "--months", type=int, default=8, help="months of demo records (8 gives about 100 records per employee)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        small = measure(Path(folder), args.small, args.months)
        large = measure(Path(folder), args.employees, args.months)

    print(
        f"{'company':>26} {'total s':>8} {'aggregate':>10} {'evaluate':>9} {'write':>7} {'reviews':>8} "
        f"{'bare SQL':>9} {'× SQL':>6}"
    )
    print("-" * 91)
    for figures in (small, large):
        name = f"{figures['employees']:,} staff, {figures['records']:,} rec"
        print(
            f"{name:>26} {figures['total']:8.2f} {figures['aggregate']:10.2f} {figures['evaluate']:9.2f} "
            f"{figures['write']:7.2f} {figures['reviews']:8.2f} {figures['sql']:9.2f} "
            f"{figures['total'] / figures['sql']:6.2f}"
        )
    print(
        f"{large['scorecards']:,} scorecards ({large['failed']:,} without a total), {large['kpis']} KPIs, "
        f"{large['queries']} aggregation queries; growth large/small = {large['total'] / small['total']:.2f}"
    )
    print(
        json.dumps(
            {
                "employees": large["employees"],
                "records": large["records"],
                "kpis": large["kpis"],
                "scorecards": large["scorecards"],
                "total_s": round(large["total"], 3),
                "aggregate_s": round(large["aggregate"], 3),
                "evaluate_s": round(large["evaluate"], 3),
                "write_s": round(large["write"], 3),
                "reviews_s": round(large["reviews"], 3),
                "sql_s": round(large["sql"], 3),
                "ratio_to_sql": round(large["total"] / large["sql"], 2),
                "small_total_s": round(small["total"], 3),
                "growth": round(large["total"] / small["total"], 2),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
