"""Engines configured for each database.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on. Write
transactions start with BEGIN IMMEDIATE: a deferred transaction that later writes can fail with
"database is locked" under concurrent writers (DESIGN.md §4.6), an immediate one waits its turn.
Read transactions stay deferred, so a reader never blocks a writer. `writer(engine)` is the same
engine (same pool) with immediate transactions; on PostgreSQL it changes nothing.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: page cache per connection; the default 2 MB thrashes the record indexes on large imports
SQLITE_CACHE_KIB = 64 * 1024
#: read the database through a memory map (address space, not memory): a month's aggregation
#: reads pages scattered over the records table, and a read() per page cost a third more
SQLITE_MMAP_BYTES = 1024**3


def _json_text(value) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **options) -> sa.Engine:
    # JSON columns (scorecard traces above all) are written and read with orjson: the standard
    # library's encoder took as long as the run's SQL aggregation on large runs
    options.setdefault("json_serializer", _json_text)
    options.setdefault("json_deserializer", orjson.loads)
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        options.setdefault("pool_pre_ping", True)
        return sa.create_engine(url, **options)
    engine = sa.create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of the driver's own logic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The engine for transactions that write."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def begin_reading(session: Session) -> Session:
    """Start `session`'s transaction as a reader even when its sessionmaker writes: a long read
    (an evaluation) must not hold SQLite's write lock, or every other writer waits for it."""
    session.connection(execution_options={"sqlite_begin": "DEFERRED"})
    return session


def make_sessionmaker(engine: sa.Engine, write: bool = False) -> sessionmaker[Session]:
    return sessionmaker(writer(engine) if write else engine, expire_on_commit=False)
