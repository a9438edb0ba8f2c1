"""The demo company tells the truth about the product. With the seed configuration published,
`perfrules data demo` evaluates the two months before its last one: their grades spread as in a
sales team (some S and A, most B and C, a minority of D), because the seed's targets match what
the company does; and their scorecards are left in every state of their lifecycle, the team
leads' self-assessment scoring an item of their scorecard."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.config.versions import latest_version
from perfrules.engine.models import Scorecard
from perfrules.workflow.calibration_models import GradeAdjustment
from perfrules.workflow.dispute_models import Dispute
from perfrules.workflow.models import FormResponse, Review, ReviewAction

from ..helpers import SEED_CONFIG, run_cli, starting_state

pytestmark = pytest.mark.database

CLOSED, UNDER_WAY = "2026-09", "2026-10"


def _evaluated_demo(folder: Path) -> None:
    assert run_cli("config", "load", SEED_CONFIG).exit_code == 0
    assert run_cli("config", "publish", "-m", "seed").exit_code == 0
    made = run_cli(
        "data",
        "demo",
        "--employees",
        "30",
        "--months",
        "4",
        "--seed",
        "2",
        "--end",
        "2026-11",
        "--password",
        "demo-pw-1",
    )
    assert made.exit_code == 0, made.output
    lines = made.stdout.splitlines()
    assert lines[3].startswith(f"evaluated {CLOSED} and {UNDER_WAY} with version 1 in ")
    assert lines[3].endswith(f" s: {CLOSED} closed, {UNDER_WAY} under way")
    assert lines[4].startswith("reviews: ") and "locked" in lines[4] and "manager review" in lines[4]
    assert lines[5] == "disputes: 1 accepted, 1 open, 1 rejected"


@pytest.fixture
@starting_state(_evaluated_demo)
def demo_company(cli_env, tmp_path):
    """The seed configuration (version 1) and a demo company of 30 (seed 2) with records from
    August to November 2026, September and October evaluated and reviewed."""
    return tmp_path


def test_grades_spread_as_in_a_sales_team(demo_company, session):
    both: Counter[str] = Counter()
    for period in (CLOSED, UNDER_WAY):
        grades = Counter(session.scalars(sa.select(Scorecard.grade).where(Scorecard.period == period)))
        assert None not in grades and sum(grades.values()) >= 25, grades  # everyone with a template is graded
        assert grades["D"] < sum(grades.values()) / 2, (period, grades)  # never most people D
        both += grades
    total = sum(both.values())
    assert both["S"] > 0 and both["S"] + both["A"] >= 0.15 * total, both  # some S and A
    assert both["B"] + both["C"] >= 0.4 * total, both  # most are B or C …
    assert both["B"] + both["C"] > max(both["S"] + both["A"], both["D"]), both
    assert 0 < both["D"] <= 0.25 * total, both  # … and a minority D


def test_scorecards_are_in_every_state_of_their_lifecycle(demo_company, session):
    states = Counter(
        (period, state, step)
        for period, state, step in session.execute(sa.select(Review.period, Review.state, Review.step))
    )
    # last month, under way: waiting at every step of the standard flow, a few approved, none locked
    for step in ("self_review", "manager_review", "hr_calibration", "department_head_approval"):
        assert states[(UNDER_WAY, "in_review", step)] > 0, (step, states)
    assert states[(UNDER_WAY, "approved", None)] > 0 and states[(UNDER_WAY, "locked", None)] == 0
    # the month before, closed: locked or approved, but for the review an accepted dispute reopened
    assert states[(CLOSED, "locked", None)] > states[(CLOSED, "approved", None)] > 0
    assert states[(CLOSED, "in_review", "self_review")] == 1
    actions = set(session.scalars(sa.select(ReviewAction.action).distinct()))
    assert actions == {"approve", "return", "reject", "lock", "reopen"}
    assert Counter(session.scalars(sa.select(Dispute.state))) == {"open": 1, "rejected": 1, "accepted": 1}
    assert session.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 2

    # forms: drafts and submitted ones; the team leads' self-assessment scores their scorecard
    responses = Counter(session.execute(sa.select(FormResponse.form, FormResponse.state)).all())
    assert responses[("self_assessment", "draft")] > 0 and responses[("manager_rating", "submitted")] > 0
    assert responses[("self_assessment", "submitted")] > 0
    snapshot = latest_version(session).snapshot
    scoring = [
        slug
        for slug, template in snapshot["templates"].items()
        for section in template["sections"]
        for item in section["items"]
        if item.get("form") == "self_assessment"
    ]
    assert scoring == ["team_lead"]
    leads = session.scalars(sa.select(Scorecard).where(Scorecard.template == "team_lead")).all()
    rated = [
        item for card in leads for item in card.items if item["key"] == "self_assessment" and item["value"] is not None
    ]
    assert rated and all(0 <= item["value"] <= 100 and item["points"] > 0 for item in rated)
