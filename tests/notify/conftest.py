"""The scenario company (tests/engine/scenario.py) with the lifecycle tests' users and approval
flow, its self-review due in two days and its manager review in one; October evaluated, so
every scorecard's review is open at the self-review."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.notify.models import Notification
from perfrules.org.models import Employee, User

from ..helpers import run_cli, starting_state, write
from ..workflow.test_engine import FLOW, create_users

DEADLINED_FLOW = FLOW.replace("actor: employee}", "actor: employee, deadline_days: 2}").replace(
    "actor: manager}", "actor: manager, deadline_days: 1}"
)
assert DEADLINED_FLOW.count("deadline_days") == 2


def open_deadlined_reviews(folder: Path) -> None:
    """The lifecycle tests' users, DEADLINED_FLOW on both templates and published, 2026-10 evaluated."""
    create_users()
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
    path = write(
        folder, "flow.yaml", DEADLINED_FLOW + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True)
    )
    assert run_cli("config", "load", path).exit_code == 0
    assert run_cli("config", "publish", "-m", "flows with deadlines").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(open_deadlined_reviews, parent="company")
def reviews(company, cli_env, session):
    """The state this module's docstring describes, in the test's database; the test's session."""
    session.rollback()
    return session


def notices(session, after: int = 0) -> list[tuple[str, str, str | None]]:
    """(recipient login, kind, whose scorecard) of each notification after id `after`, in order."""
    return [
        tuple(row)
        for row in session.execute(
            sa.select(User.login, Notification.kind, Employee.code)
            .join(User, User.id == Notification.user_id)
            .outerjoin(Employee, Employee.id == Notification.employee_id)
            .where(Notification.id > after)
            .order_by(Notification.id)
        )
    ]


def last_id(session) -> int:
    return session.scalar(sa.select(sa.func.max(Notification.id))) or 0
