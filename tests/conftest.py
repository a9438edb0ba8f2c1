"""Shared fixtures. Database tests run once on SQLite and once on PostgreSQL; `--database sqlite`
(or `postgresql`) runs them on one only.

Every database test gets a database of its own, so tests never see each other's rows (the audit
log cannot be cleaned up otherwise). It is a copy — a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL — of a template built once per test process and database:

- `db_url` on its own: every migration applied, nothing else (`migrated_template_url`);
- a *starting state* (a fixture declared with `@starting_state`, such as `company`): the database
  its builder leaves, built on a copy of its parent state's template the first time a test asks
  for it. A test asking for a starting state, directly or through other fixtures, gets a copy of
  it; one asking for several gets the most derived (they must lie on one line of parents).

Builders run with the CLI pointed at the template as `cli_env` points it at the test's database,
and set the state up as a test would: through the CLI, or through the services it calls where
the CLI is not what is tested (users: tests/helpers.py, add_users). What a copy cannot carry
stays per test: the instance folder (and the secret key in it) and the environment `cli_env` sets.

PostgreSQL is reached at PERFRULES_TEST_POSTGRES_URL (default: the local server, trust auth);
each test process creates its own databases (named after its pid) and drops them at the end.
Without a reachable server the PostgreSQL half is skipped, except under CI (CI=true), where
that is a failure.
"""

from __future__ import annotations

import itertools
import os
import queue
import secrets
import shutil
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.db import make_engine, make_sessionmaker
from perfrules.db.migrate import upgrade

from .engine import scenario
from .helpers import STATES, run_cli, starting_state, write

POSTGRES_ADMIN_URL = os.environ.get(
    "PERFRULES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DATABASES = ("sqlite", "postgresql")


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser):
    parser.addoption(
        "--database",
        choices=[*DATABASES, "all"],
        default="all",
        help="the database engine(s) the database tests run on (default: all)",
    )


def pytest_generate_tests(metafunc):
    """`database_url`'s parameters: the databases chosen with --database."""
    if "database_url" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("database")
        databases = DATABASES if chosen == "all" else (chosen,)
        metafunc.parametrize("database_url", databases, indirect=True, scope="session")


@pytest.fixture(autouse=True)
def _bare_plugin_setting(monkeypatch):
    """Tests choose their plugins explicitly; a developer's environment must not leak in."""
    monkeypatch.delenv("PERFRULES_PLUGINS", raising=False)


def _admin_execute(statement: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """A scratch database for the session, on the engine named by the parameter (see
    pytest_generate_tests): an SQLite file, or a PostgreSQL database of this process's own."""
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
    _settle(template)
    yield template
    if template.get_backend_name() != "sqlite":
        _admin_execute(f'DROP DATABASE IF EXISTS "{template.database}" WITH (FORCE)')


def _settle(url: sa.URL) -> None:
    """Make an SQLite template whole in its one file (WAL mode keeps recent pages beside it)."""
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()


def _copy_strategy() -> str:
    """How CREATE DATABASE copies a template: file by file. PostgreSQL 15's default (WAL_LOG)
    copies through shared buffers and leaves every page dirty, and each DROP DATABASE waits for a
    checkpoint writing out every dirty page: with a copy per test the checkpoints took tens of
    seconds and the whole run took 4:40 instead of 3:20. Before 15, file by file is the only way."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with admin.connect() as connection:
            version = int(connection.scalar(sa.text("SHOW server_version_num")))
    finally:
        admin.dispose()
    return " STRATEGY FILE_COPY" if version >= 150000 else ""


class PostgresCopies:
    """The tests' copies of PostgreSQL templates, made and dropped by threads of their own, so that
    a test does not wait for either: its copy was made while the test before it ran (one spare
    copy of each template is kept ready), and it is dropped after it, with others."""

    #: databases dropped together: each DROP DATABASE waits for a checkpoint, which concurrent ones
    #: share, and a database dropped before a checkpoint never has its pages written out
    DROPPED_TOGETHER = 8

    def __init__(self):
        self.spares: dict[str, tuple[str, Future]] = {}
        self.creates = _StatementRunner("postgres-creates")
        self.strategy = _copy_strategy()
        self.unwanted: list[str] = []
        self.dropping: list[Future] = []
        self.drops = ThreadPoolExecutor(self.DROPPED_TOGETHER, thread_name_prefix="postgres-drops")
        self.admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=self.DROPPED_TOGETHER)

    def _create(self, template: str) -> tuple[str, Future]:
        name = f"{template.split('_template')[0]}_{next(_copies)}"
        return name, self.creates.run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self.strategy}')

    def copy(self, template: str) -> str:
        """A new database holding what `template` holds; its name."""
        name, created = self.spares.pop(template, None) or self._create(template)
        self.spares[template] = self._create(template)  # for the next test
        created.result()
        return name

    def drop(self, name: str) -> None:
        """Drop the database `name`, later."""
        self.unwanted.append(name)
        if len(self.unwanted) >= self.DROPPED_TOGETHER:
            self._drop_unwanted()

    def _drop_unwanted(self) -> None:
        self.dropping += [self.drops.submit(self._drop, name) for name in self.unwanted]
        self.unwanted = []

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self, *also: str) -> None:
        """Drop the spare copies, what is still to drop and the databases `also`; wait for all."""
        self.creates.close()
        self.unwanted += [name for name, _ in self.spares.values()]
        self._drop_unwanted()
        for done in self.dropping:
            done.result()
        self.dropping = []
        self.unwanted = list(also)
        self._drop_unwanted()
        self.drops.shutdown()
        for done in self.dropping:
            done.result()
        self.admin.dispose()


class _StatementRunner:
    """A thread running the statements given to it in turn, on a connection of its own to the server."""

    def __init__(self, name: str):
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.thread.start()

    def _work(self) -> None:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                while (job := self.jobs.get()) is not None:
                    statement, done = job
                    try:
                        connection.execute(sa.text(statement))
                    except BaseException as exc:
                        done.set_exception(exc)
                    else:
                        done.set_result(None)
        finally:
            admin.dispose()

    def run(self, statement: str) -> Future:
        """`statement`'s outcome, once it has run."""
        done: Future = Future()
        self.jobs.put((statement, done))
        return done

    def close(self) -> None:
        """Run what is queued, then stop."""
        self.jobs.put(None)
        self.thread.join()


_copies = itertools.count()


# --- starting states ------------------------------------------------------------------------------


def _lineage(name: str | None) -> list[str]:
    """`name` and the states it is built on, most derived first."""
    line = []
    while name is not None:
        line.append(name)
        name = STATES[name].parent
    return line


def _state_asked_for(request) -> str | None:
    """The most derived starting state among the fixtures the test uses, if any."""
    asked = [name for name in request.fixturenames if name in STATES]
    deepest = [name for name in asked if not any(name in _lineage(other)[1:] for other in asked)]
    assert len(deepest) <= 1, f"{request.node.nodeid}: starting states on different lines: {deepest}"
    return deepest[0] if deepest else None


class Templates:
    """The templates of one database in one test process (the migrated database, and each
    starting state the first time a test needs it), and the tests' copies of them."""

    def __init__(self, migrated: sa.URL, folder: Path):
        self.folder = folder
        self.urls: dict[str | None, sa.URL] = {None: migrated}
        self.postgres = PostgresCopies() if migrated.get_backend_name() != "sqlite" else None

    def url(self, state: str | None) -> sa.URL:
        """The template of `state` (None: the migrated database), built if it is not yet."""
        if state not in self.urls:
            spec = STATES[state]
            parent = self.url(spec.parent)
            folder = self.folder / spec.name
            folder.mkdir()
            if self.postgres is None:
                url = parent.set(database=str(folder / "template.db"))
                shutil.copyfile(parent.database, url.database)
            else:
                url = parent.set(database=f"{parent.database.split('_template')[0]}_template_{spec.name}")
                _admin_execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{parent.database}"{self.postgres.strategy}')
            self.urls[state] = url
            with pytest.MonkeyPatch.context() as env:
                env.setenv("PERFRULES_DATABASE_URL", url.render_as_string(hide_password=False))
                env.setenv("PERFRULES_INSTANCE_PATH", str(folder / "instance"))
                env.setenv("PERFRULES_ACTOR", "tester")
                env.delenv("PERFRULES_PLUGINS", raising=False)
                spec.build(folder)
            _settle(url)
        return self.urls[state]

    def copy(self, state: str | None, folder: Path) -> sa.URL:
        """A new database holding `state` (on SQLite, a file in `folder`)."""
        template = self.url(state)
        if self.postgres is None:
            copy = template.set(database=str(folder / "perfrules.db"))
            shutil.copyfile(template.database, copy.database)
            return copy
        return template.set(database=self.postgres.copy(template.database))

    def discard(self, copy: sa.URL) -> None:
        if self.postgres is not None:
            self.postgres.drop(copy.database)

    def close(self) -> None:
        """Drop what is left on PostgreSQL: the spare copies, then the templates of the states."""
        if self.postgres is not None:
            self.postgres.close(*[url.database for state, url in self.urls.items() if state is not None])


@pytest.fixture(scope="session")
def templates(migrated_template_url, tmp_path_factory):
    """This process's templates on this database: the migrated one and the starting states built so far."""
    built = Templates(migrated_template_url, tmp_path_factory.mktemp("templates"))
    yield built
    built.close()


@pytest.fixture
def db_url(request, templates, tmp_path):
    """A database of the test's own: a copy of the starting state it asks for, or of the migrated
    database when it asks for none."""
    copy = templates.copy(_state_asked_for(request), tmp_path)
    try:
        yield copy.render_as_string(hide_password=False)
    finally:
        templates.discard(copy)


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


def load_company(folder: Path) -> None:
    """The scenario company (tests/engine/scenario.py), loaded through the CLI as an administrator
    would: the organisation, the configuration (published as version 1), the deals and the
    manager ratings."""
    assert run_cli("org", "import", write(folder, "org.yaml", scenario.ORG)).exit_code == 0
    loaded = run_cli("config", "load", write(folder, "config.yaml", scenario.CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "scenario").exit_code == 0
    imported = run_cli("data", "import", "deals", write(folder, "deals.csv", scenario.DEALS))
    assert imported.exit_code == 0, imported.output
    rated = run_cli("ratings", "import", write(folder, "ratings.csv", scenario.RATINGS))
    assert rated.exit_code == 0, rated.output


@pytest.fixture
@starting_state(load_company)
def company(cli_env, tmp_path):
    """The scenario company (see `load_company`) in the test's database, with the CLI pointed at
    it; the test's folder for its own files."""
    return tmp_path
