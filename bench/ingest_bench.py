"""Import benchmark: 1,000,000 activity records from CSV into SQLite through the real import path
(read, validate every cell, upsert), against a bare executemany of the same rows into the same table.

    python bench/ingest_bench.py [--rows 1000000]

Ends with one JSON line: rows, seconds, rows_per_s, raw_seconds, raw_rows_per_s, ratio_to_raw.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from perfrules.config.sources import read_documents
from perfrules.config.store import apply_documents, working_config
from perfrules.data.bulk import encode_values
from perfrules.data.ingest import import_records
from perfrules.data.readers import read_csv
from perfrules.db import make_engine, make_sessionmaker
from perfrules.db.migrate import upgrade
from perfrules.org.models import Department, Employee
from perfrules.plugins import load_plugins
from perfrules.resources import resource_path

EMPLOYEES = 2000
TYPES = ["call", "email", "visit", "meeting"]


def prepare_database(path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with make_sessionmaker(engine, write=True)() as session:
        documents, problems = read_documents([resource_path("seed_configs") / "config"])
        apply_documents(session, documents, load_plugins().functions, "bench", problems)
        department = Department(code="SALES", label={"zh": "销售部", "en": "Sales"})
        session.add(department)
        session.flush()
        session.execute(
            sa.insert(Employee),
            [
                {
                    "code": f"E{i:05d}",
                    "name": f"员工{i}",
                    "department_id": department.id,
                    "active": True,
                    "attributes": {},
                }
                for i in range(1, EMPLOYEES + 1)
            ],
        )
        session.commit()
    return engine


def write_csv(path: Path, rows: int) -> None:
    chooser = random.Random(42)
    start = dt.datetime(2026, 1, 1, 8)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "owner", "occurred_at", "type", "customer", "duration_minutes", "logged_same_day"]
        )
        for i in range(rows):
            when = start + dt.timedelta(minutes=chooser.randrange(0, 300 * 24 * 60))
            writer.writerow(
                [
                    f"A{i:07d}",
                    f"E{chooser.randrange(1, EMPLOYEES + 1):05d}",
                    when.isoformat(timespec="seconds"),
                    chooser.choice(TYPES),
                    f"客户{chooser.randrange(1, 20000)}",
                    chooser.randrange(5, 120),
                    chooser.choice(["true", "false"]),
                ]
            )


def timed_import(engine: sa.Engine, csv_path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with make_sessionmaker(engine, write=True)() as session:
        dataset = working_config(session)["datasets"]["activities"]
        columns, rows = read_csv(csv_path)
        report = import_records(session, dataset, columns, rows, actor="bench", source=csv_path.name)
        session.commit()
    assert report.written and report.rejected == 0, report.summary()
    return time.perf_counter() - started, report.inserted


def timed_raw_insert(engine: sa.Engine, rows: list[tuple]) -> float:
    """The floor: the same rows, already converted, through the driver's executemany."""
    statement = (
        'INSERT INTO records (dataset, external_id, owner_id, occurred_on, "values", updated_at) '
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, len(rows), 20_000):
            connection.exec_driver_sql(statement, rows[start : start + 20_000])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        csv_path = folder / "activities.csv"
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 2**20

        imported = prepare_database(folder / "import.db")
        seconds, inserted = timed_import(imported, csv_path)
        with imported.connect() as connection:
            raw_rows = [
                (d, e, o, str(day), v if isinstance(v, str) else encode_values(v), u)
                for d, e, o, day, v, u in connection.exec_driver_sql(
                    'SELECT dataset, external_id, owner_id, occurred_on, "values", updated_at FROM records'
                )
            ]
        again, _ = timed_import(imported, csv_path)
        imported.dispose()

        raw = prepare_database(folder / "raw.db")
        raw_seconds = timed_raw_insert(raw, raw_rows)
        raw.dispose()

    figures = {
        "rows": inserted,
        "csv_mb": round(size_mb, 1),
        "seconds": round(seconds, 2),
        "rows_per_s": round(inserted / seconds),
        "reimport_seconds": round(again, 2),
        "raw_seconds": round(raw_seconds, 2),
        "raw_rows_per_s": round(inserted / raw_seconds),
        "ratio_to_raw": round(seconds / raw_seconds, 2),
    }
    print(f"{'step':44} {'seconds':>8} {'rows/s':>10}")
    print("-" * 64)
    print(
        f"{'import (read, validate, write) ' + f'{size_mb:.0f} MB CSV':44} {seconds:8.2f} {figures['rows_per_s']:10,}"
    )
    print(f"{'re-import, every row unchanged':44} {again:8.2f} {round(inserted / again):10,}")
    print(f"{'bare executemany of the same rows':44} {raw_seconds:8.2f} {figures['raw_rows_per_s']:10,}")
    print(f"ratio import / bare insert: {figures['ratio_to_raw']}")
    print(json.dumps(figures))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
