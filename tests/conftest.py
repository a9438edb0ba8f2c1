"""Shared fixtures. Database tests run once on SQLite and once on PostgreSQL.

`database_url` is a scratch database for the session; `db_url` is a fresh, fully migrated database
for one test, cloned from a migrated template (a file copy on SQLite, CREATE DATABASE … TEMPLATE on
PostgreSQL), so tests never see each other's rows — the audit log cannot be cleaned up otherwise.

PostgreSQL is reached at PERFRULES_TEST_POSTGRES_URL (default: the local server, trust auth);
each test session creates its own database and drops it at the end. Without a reachable server
the PostgreSQL half is skipped, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil

import pytest
import sqlalchemy as sa

from perfrules.db import make_engine, make_sessionmaker
from perfrules.db.migrate import upgrade

from .engine import scenario
from .helpers import run_cli, write

POSTGRES_ADMIN_URL = os.environ.get(
    "PERFRULES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


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
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (set PERFRULES_TEST_POSTGRES_URL): {exc.orig}"
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


_clones = itertools.count()


def _admin_execute(statement: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template_url(database_url, tmp_path_factory):
    """A database with every migration applied, never used directly: tests get copies of it."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        template = sa.engine.make_url(f"sqlite:///{tmp_path_factory.mktemp('template')}/template.db")
    else:
        template = url.set(database=f"{url.database}_template")
        _admin_execute(f'CREATE DATABASE "{template.database}"')
    engine = make_engine(template.render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield template
    if template.get_backend_name() != "sqlite":
        _admin_execute(f'DROP DATABASE IF EXISTS "{template.database}" WITH (FORCE)')


@pytest.fixture
def db_url(migrated_template_url, tmp_path):
    template = migrated_template_url
    if template.get_backend_name() == "sqlite":
        target = tmp_path / "perfrules.db"
        shutil.copyfile(template.database, target)
        yield f"sqlite:///{target}"
        return
    clone = f"{template.database.removesuffix('_template')}_{next(_clones)}"
    _admin_execute(f'CREATE DATABASE "{clone}" TEMPLATE "{template.database}"')
    try:
        yield template.set(database=clone).render_as_string(hide_password=False)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')


@pytest.fixture
def db_engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine):
    with make_sessionmaker(db_engine)() as session:
        yield session


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    """Environment for CLI commands: the test's database and instance folder."""
    monkeypatch.setenv("PERFRULES_DATABASE_URL", db_url)
    monkeypatch.setenv("PERFRULES_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PERFRULES_ACTOR", "tester")
    return db_url


# The scenario company (tests/engine/scenario.py), loaded through the CLI as an administrator would.
@pytest.fixture
def company(cli_env, tmp_path):
    assert run_cli("org", "import", write(tmp_path, "org.yaml", scenario.ORG)).exit_code == 0
    loaded = run_cli("config", "load", write(tmp_path, "config.yaml", scenario.CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "scenario").exit_code == 0
    imported = run_cli("data", "import", "deals", write(tmp_path, "deals.csv", scenario.DEALS))
    assert imported.exit_code == 0, imported.output
    rated = run_cli("ratings", "import", write(tmp_path, "ratings.csv", scenario.RATINGS))
    assert rated.exit_code == 0, rated.output
    return tmp_path
