"""The demo company: plausible, deterministic for a seed, and only created into an empty database."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from perfrules.data.models import Record
from perfrules.org.models import Employee, User

from ..helpers import run_cli

pytestmark = pytest.mark.database


def fingerprint(session) -> str:
    session.rollback()
    rows = session.execute(
        sa.select(Record.dataset, Record.external_id, Record.occurred_on, Record.values).order_by(
            Record.dataset, Record.external_id
        )
    ).all()
    text = json.dumps([[d, e, str(o), v] for d, e, o, v in rows], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_demo_company_is_plausible_and_repeatable(cli_env, session, tmp_path, monkeypatch):
    result = run_cli(
        "data",
        "demo",
        "--employees",
        "60",
        "--months",
        "3",
        "--seed",
        "5",
        "--end",
        "2026-10",
        "--password",
        "demo-password",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("demo company created in ")
    assert "60 employees, 62 users" in result.stdout
    # nothing published: no month is evaluated (tests/data/test_demo_lifecycle.py evaluates them)
    assert "nothing is published yet: publish a configuration, then `perfrules run last-month`" in result.stdout
    session.rollback()
    people = session.scalars(sa.select(Employee)).all()
    assert len(people) == 60 and len({p.code for p in people}) == 60
    director = [p for p in people if p.manager_id is None]
    assert len(director) == 1 and director[0].role.code == "sales_director"
    assert all(p.department is not None for p in people)
    counts = dict(session.execute(sa.select(Record.dataset, sa.func.count()).group_by(Record.dataset)).all())
    assert set(counts) == {"activities", "opportunities", "deals", "payments", "refunds", "surveys", "customers"}
    assert 0 < counts["refunds"] < counts["payments"] / 20  # about 2 % of the deals are refunded
    assert counts["activities"] > counts["opportunities"] > counts["deals"] >= counts["payments"]
    months = (
        session.scalars(sa.select(sa.func.min(Record.occurred_on))).one(),
        session.scalars(sa.select(sa.func.max(Record.occurred_on))).one(),
    )
    assert str(months[0]) >= "2026-08-01" and str(months[1]) <= "2026-10-31"

    # stars and strugglers: sales per rep spread widely
    sales = session.execute(
        sa.select(Record.owner_id, sa.func.count()).where(Record.dataset == "deals").group_by(Record.owner_id)
    ).all()
    counts_per_rep = sorted(count for _, count in sales)
    assert counts_per_rep[-1] >= 2 * max(1, counts_per_rep[len(counts_per_rep) // 4])

    admin = session.scalar(sa.select(User).where(User.login == "admin"))
    assert admin.roles == ["admin"] and check_password_hash(admin.password_hash, "demo-password")
    lead = session.scalar(sa.select(User).where(User.login == "e00002"))
    assert lead.roles == ["employee", "manager"]

    first = fingerprint(session)
    monkeypatch.setenv("PERFRULES_DATABASE_URL", f"sqlite:///{tmp_path / 'again.db'}")
    assert run_cli("db", "upgrade").exit_code == 0
    assert (
        run_cli(
            "data",
            "demo",
            "--employees",
            "60",
            "--months",
            "3",
            "--seed",
            "5",
            "--end",
            "2026-10",
            "--password",
            "demo-password",
        ).exit_code
        == 0
    )
    from perfrules.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    with make_sessionmaker(engine)() as other:
        assert fingerprint(other) == first, "the same seed and end month give the same records"
    engine.dispose()


def test_demo_needs_an_empty_organisation(cli_env):
    args = ["data", "demo", "--employees", "12", "--months", "1", "--end", "2026-10", "--password", "pw-123456"]
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args)
    assert again.exit_code == 2
    assert again.stderr == "error: the database already has employees; the demo needs an empty organisation\n"
    skipped = run_cli(*args, "--if-empty")
    assert skipped.exit_code == 0 and skipped.stdout == "employees already exist; demo data left as it is\n"


def test_demo_arguments_are_checked(cli_env):
    assert run_cli("data", "demo", "--employees", "5").stderr == "error: a demo company needs at least 10 employees\n"
    assert "write the month as YYYY-MM" in run_cli("data", "demo", "--end", "October").stderr
