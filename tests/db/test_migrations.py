"""Migrations build the schema the models describe, on both databases; the audit log is append-only."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from perfrules.audit import AuditEntry, record_change
from perfrules.db import make_engine, writer
from perfrules.db.migrate import current_revision, downgrade, head_revision, upgrade
from perfrules.tables import metadata

pytestmark = pytest.mark.database


def test_an_empty_database_upgrades_to_the_models_exactly(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        upgrade(engine)  # a second upgrade is a no-op
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


def test_the_audit_log_refuses_update_and_delete(session, db_engine):
    record_change(session, actor="tester", action="config.save", kind="kpis", key="x", after={"a": 1})
    session.commit()
    for statement in ("UPDATE audit_log SET actor = 'forger'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="audit_log is append-only"):
            with db_engine.begin() as connection:
                connection.execute(sa.text(statement))
    if db_engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DatabaseError, match="audit_log is append-only"):
            with db_engine.begin() as connection:
                connection.execute(sa.text("TRUNCATE audit_log"))
    with db_engine.connect() as connection:
        assert connection.execute(sa.select(AuditEntry.actor)).scalars().all() == ["tester"]


@pytest.fixture
def sqlite_engine(tmp_path):
    """SQLite's own rules (pragmas, locking) are tested on SQLite only."""
    engine = make_engine(f"sqlite:///{tmp_path / 'perfrules.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_engine):
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_write_transactions_do_not_fail_under_concurrency(sqlite_engine):
    """BEGIN IMMEDIATE makes concurrent writers wait instead of failing with 'database is locked'."""
    db_engine = writer(sqlite_engine)
    from concurrent.futures import ThreadPoolExecutor

    def write(worker: int) -> int:
        for step in range(20):
            with db_engine.begin() as connection:
                count = connection.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar()
                connection.execute(
                    sa.insert(AuditEntry).values(
                        at=dt.datetime.now(dt.UTC),
                        actor=f"w{worker}",
                        action="t",
                        kind="t",
                        key=str(count),
                        before=None,
                        after=None,
                    )
                )
        return worker

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(write, range(4))) == [0, 1, 2, 3]
    with db_engine.connect() as connection:
        keys = connection.execute(sa.select(AuditEntry.key)).scalars().all()
    assert len(keys) == 80 and len(set(keys)) == 80, "each transaction saw the previous one's row"
