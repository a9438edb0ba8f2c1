"""Shared fixtures. Database tests run once on SQLite and once on PostgreSQL.

PostgreSQL is reached at PERFRULES_TEST_POSTGRES_URL (default: the local server, trust auth);
each test session creates its own database and drops it at the end. Without a reachable server
the PostgreSQL half is skipped, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "PERFRULES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _bare_plugin_setting(monkeypatch):
    """Tests choose their plugins explicitly; a developer's environment must not leak in."""
    monkeypatch.delenv("PERFRULES_PLUGINS", raising=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/perfrules.db"
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        connection = admin.connect()
    except sa.exc.OperationalError as exc:
        message = (f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} "
                   f"(set PERFRULES_TEST_POSTGRES_URL): {exc.orig}")
        if _under_ci():
            pytest.fail(message)
        pytest.skip(message)
    name = f"perfrules_test_{os.getpid()}_{secrets.token_hex(4)}"
    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.close()
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()
