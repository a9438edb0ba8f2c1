"""Writing many records fast: one prepared INSERT executed for a whole batch through the driver.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert, so the rows are
converted once here (JSON text, ISO dates on SQLite) and handed to the driver's executemany.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

from sqlalchemy.orm import Session

from .models import Record

BATCH = 20_000
_COLUMNS = ("dataset", "external_id", "owner_id", "occurred_on", "values", "updated_at")


#: a record's values as stored: compact JSON, Chinese kept as is
encode_values = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def insert_records(session: Session, rows: Iterable[tuple[str, str, int, dt.date, str]]) -> int:
    """Insert (dataset, external_id, owner_id, occurred_on, values as JSON) rows; returns how many."""
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {quote(Record.__tablename__)} ({', '.join(quote(c) for c in _COLUMNS)}) "
                 f"VALUES ({', '.join([marker] * len(_COLUMNS))})")
    now = dt.datetime.now(dt.timezone.utc)
    sqlite = dialect.name == "sqlite"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    batch: list[tuple] = []
    total = 0
    for dataset, external_id, owner_id, occurred_on, values in rows:
        batch.append((dataset, external_id, owner_id, occurred_on.isoformat() if sqlite else occurred_on,
                      values, stamp))
        if len(batch) >= BATCH:
            connection.exec_driver_sql(statement, batch)
            total += len(batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
        total += len(batch)
    return total
