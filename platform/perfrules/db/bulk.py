"""Writing many rows fast: PostgreSQL's COPY, or on SQLite one prepared INSERT executed for a
whole batch through the driver.

SQLAlchemy's per-row parameter processing costs more than the database's own insert, so callers
hand over rows already in the driver's terms — JSON as text, and on SQLite dates and timestamps as
ISO text (`driver_date`, `driver_timestamp`). On PostgreSQL they are streamed through COPY in the
connection's transaction (an INSERT per row, even pipelined, took three times as long).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

BATCH = 20_000


def driver_insert(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple], batch_size: int = BATCH
) -> int:
    """Insert rows of values for `columns` into `table`; returns how many."""
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    if dialect.name == "postgresql":
        return _copy(connection, f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN", rows)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    batch: list[tuple] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            connection.exec_driver_sql(statement, batch)
            total += len(batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
        total += len(batch)
    return total


def reserve_ids(connection: sa.Connection, table: str, count: int) -> list[int]:
    """`count` new ids for `table`'s integer key, so that rows can be written with them and refer
    to one another without reading them back: drawn from the key's sequence on PostgreSQL; on
    SQLite the ones after the largest, which no one else can take inside this (immediate, so
    sole) write transaction."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        return list(
            connection.scalars(
                sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table, "count": count},
            )
        )
    quote = connection.dialect.identifier_preparer.quote
    largest = connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table)}").scalar_one()
    return list(range(largest + 1, largest + 1 + count))


def _copy(connection: sa.Connection, statement: str, rows: Iterable[tuple]) -> int:
    total = 0
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
            total += 1
    return total


def driver_date(connection: sa.Connection, day: dt.date) -> str | dt.date:
    return day.isoformat() if connection.dialect.name == "sqlite" else day


def driver_timestamp(connection: sa.Connection, moment: dt.datetime) -> str | dt.datetime:
    """A timestamp as the dialect's own DateTime type would store it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if connection.dialect.name == "sqlite" else moment


def insert_unless_present(session: Session, model) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING into `model`'s table, in the session's dialect: a claim on a
    unique key that a concurrent claimant may have taken first."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing()
