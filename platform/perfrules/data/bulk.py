"""Writing many records fast, through the driver (see `db.bulk`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from sqlalchemy.orm import Session

from ..db.bulk import driver_insert, driver_timestamp
from .models import Record

_COLUMNS = ("dataset", "external_id", "owner_id", "occurred_on", "values", "updated_at")


#: a record's values as stored: compact JSON, Chinese kept as is
encode_values = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def insert_records(session: Session, rows: Iterable[tuple[str, str, int, dt.date, str]]) -> int:
    """Insert (dataset, external_id, owner_id, occurred_on, values as JSON) rows; returns how many."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    stamp = driver_timestamp(connection, dt.datetime.now(dt.UTC))
    return driver_insert(
        connection,
        Record.__tablename__,
        _COLUMNS,
        (
            (dataset, external_id, owner_id, occurred_on.isoformat() if sqlite else occurred_on, values, stamp)
            for dataset, external_id, owner_id, occurred_on, values in rows
        ),
    )
