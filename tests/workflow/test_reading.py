"""Who may read one scorecard (`workflow.reading`), the same at every door: the scorecard page,
the reviews API (one review, its forms and its feedback) and the one-scorecard API.

The scenario company with the lifecycle's flow (tests/workflow/test_engine.py), here with a step
for the named user `west` (R3's user, a manager in WEST) right after the self-review: R1 works in
EAST, which `west` does not otherwise see, and neither does `rep2` (R2's user, an employee). A
dispute's stand-in is the lifecycle's own flow with the lead's disputes handed to `west`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.org.models import Employee
from perfrules.workflow.dispute_models import Dispute
from perfrules.workflow.disputes import raise_dispute
from perfrules.workflow.engine import act
from perfrules.workflow.models import Delegation
from perfrules.workflow.reading import may_read_scorecard

from ..helpers import csrf_token, run_cli, sign_in, starting_state, write
from .test_engine import FLOW, create_users, lifecycle, review_of, user  # noqa: F401 (lifecycle: a fixture)

pytestmark = pytest.mark.database

NAMED_FLOW = FLOW.replace(
    "      - {name: manager_review",
    '      - {name: west_check, label: {zh: 华西核对, en: West check}, actor: "user:west"}\n'
    "      - {name: manager_review",
    1,
)
FORM = """
forms:
  - slug: rep_rating
    label: {zh: 销售评分, en: Rep rating}
    filled_by: manager
    fields:
      - {name: attitude, label: {zh: 工作态度, en: Attitude}, type: rating, min: 1, max: 5, weight: 1}
"""


def _name_a_step(folder: Path) -> None:
    """The lifecycle's users; NAMED_FLOW on both templates and FORM for `rep`'s rating, published; 2026-10 run."""
    assert "west_check" in NAMED_FLOW
    create_users()
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
        for section in template["sections"]:
            for item in section["items"]:
                if item.get("manual") == "rating":
                    item["form"] = "rep_rating"
    text = NAMED_FLOW + FORM + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True)
    loaded = run_cli("config", "load", write(folder, "flow.yaml", text))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "a named step").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_name_a_step, parent="company")
def named(company, cli_env, session):
    """Every scorecard of 2026-10 in review under a flow with a step for `user:west`; the rep
    template's manager rating collected through a form. The test's session."""
    session.rollback()
    return session


def _app(session):
    from perfrules.web import create_app

    return create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})


def _tokens(*logins) -> dict:
    tokens = {}
    for login in logins:
        issued = run_cli("token", "create", login, "--name", "tests")
        assert issued.exit_code == 0, issued.output
        tokens[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    return tokens


class Doors:
    """The ways into one scorecard, for one user: the page (signed in) and the API (a token)."""

    def __init__(self, app, login: str):
        self.page_client = app.test_client()
        self.page_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert sign_in(self.page_client, login, "s3cret-pass").status_code == 302
        self.api = app.test_client()
        self.headers = _tokens(login)[login]

    def page(self, code: str):
        return self.page_client.get(f"/scorecards/2026-10/{code}")

    def review(self, code: str, tail: str = ""):
        return self.api.get(f"/api/v1/reviews/2026-10/{code}{tail}", headers=self.headers)

    def scorecard(self, code: str):
        return self.api.get(f"/api/v1/scorecards/2026-10/{code}", headers=self.headers)

    def statuses(self, code: str) -> tuple[int, ...]:
        """page, review, its form, its feedback, scorecard"""
        return (
            self.page(code).status_code,
            self.review(code).status_code,
            self.review(code, "/forms/rep_rating").status_code,
            self.review(code, "/feedback").status_code,
            self.scorecard(code).status_code,
        )


OPEN, CLOSED = (200,) * 5, (404,) * 5


def test_a_named_user_reads_a_scorecard_through_every_door_at_their_step_and_after_and_nobody_else(named):
    session = named
    app = _app(session)
    west, rep2 = Doors(app, "west"), Doors(app, "rep2")
    # the employee's own step comes first: not yet west's to read
    assert west.statuses("R1") == CLOSED and rep2.statuses("R1") == CLOSED
    act(session, review_of(session, "R1"), user(session, "rep1"), "approve")
    session.commit()

    # at their step: the page with its buttons, the review with what they may do, the scorecard
    assert west.statuses("R1") == OPEN
    assert 'data-action="approve"' in west.page("R1").get_data(as_text=True)
    one = west.review("R1").json
    assert (one["step"], one["allowed"]) == ("west_check", ["approve", "reject", "return"])
    form = west.review("R1", "/forms/rep_rating").json
    assert (form["may_fill"], form["filled_by"]) == (False, "manager")
    card = west.scorecard("R1").json
    assert (card["employee"], card["review"]) == ("R1", {"state": "in_review", "step": "west_check"})
    assert card["items"]
    assert rep2.statuses("R1") == CLOSED  # another outsider: nothing, at any door
    assert rep2.api.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=rep2.headers).status_code == 404

    # they act through the API, and what they acted on stays open to them
    done = west.api.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=west.headers)
    assert done.status_code == 200 and done.json["step"] == "manager_review"
    assert west.statuses("R1") == OPEN
    assert 'data-action="approve"' not in west.page("R1").get_data(as_text=True)
    after = west.review("R1").json
    assert after["allowed"] == [] and [(a["step"], a["by"]) for a in after["actions"]] == [
        ("self_review", "rep1"),
        ("west_check", "west"),
    ]
    assert west.scorecard("R1").json["review"] == {"state": "in_review", "step": "manager_review"}
    refused = west.api.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=west.headers)
    assert refused.status_code == 409  # read, yes; act out of turn, no
    assert rep2.statuses("R1") == CLOSED

    # a scorecard whose review has not reached them stays closed (R2 is at its self-review)
    assert west.statuses("R2") == CLOSED
    # lists stay scoped by the organisation alone: what they read singly is not listed
    listed = west.api.get("/api/v1/scorecards?period=2026-10", headers=west.headers).json
    assert {c["employee"] for c in listed} == {"R3", "R4"}
    reviews = west.api.get("/api/v1/reviews?period=2026-10", headers=west.headers).json
    assert {r["employee"] for r in reviews} == {"R3", "R4"}


def _department(session, code: str) -> int:
    return session.scalar(sa.select(Employee.department_id).where(Employee.code == code))


def test_a_stand_in_reads_while_they_stand_in_and_once_they_acted(named):
    session = named
    act(session, review_of(session, "R1"), user(session, "rep1"), "approve")
    west, rep2 = user(session, "west"), user(session, "rep2")
    session.add(
        Delegation(
            user_id=west.id,
            delegate_id=rep2.id,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 11, 7),
            created_by="tester",
        )
    )
    session.flush()
    r1 = review_of(session, "R1")

    def reads(login, day):
        return may_read_scorecard(
            session, user(session, login), "2026-10", r1.employee_id, _department(session, "R1"), today=day
        )

    assert reads("rep2", dt.date(2026, 11, 3)) and reads("west", dt.date(2026, 11, 3))
    assert not reads("rep2", dt.date(2026, 11, 8))  # the delegation is over, and they never acted
    act(session, r1, rep2, "approve", today=dt.date(2026, 11, 3))  # for west
    assert r1.step == "manager_review"
    # acted, and acted for: open to both whatever the day; to the employee and their manager as ever
    assert reads("rep2", dt.date(2026, 12, 1)) and reads("west", dt.date(2026, 12, 1))
    assert reads("rep1", dt.date(2026, 12, 1)) and reads("lead", dt.date(2026, 12, 1))
    # L1's review has not reached west's step: neither west nor their stand-in reads it
    l1 = review_of(session, "L1")
    for login in ("west", "rep2"):
        assert not may_read_scorecard(
            session,
            user(session, login),
            "2026-10",
            l1.employee_id,
            _department(session, "L1"),
            today=dt.date(2026, 11, 3),
        )


# --- a dispute's stand-in -----------------------------------------------------------------------


def test_a_dispute_stand_in_follows_the_list_link_and_resolves_with_the_scorecard_before_them(lifecycle):
    session = lifecycle
    r2 = review_of(session, "R2")  # 60 → C: the employee, the manager, the head (the lead again)
    for login in ("rep2", "lead", "lead"):
        act(session, r2, user(session, login), "approve")
    assert r2.state == "approved"
    dispute = raise_dispute(session, r2, user(session, "rep2"), "win_rate", "two deals were mine")
    assert dispute.routed_to == "manager"
    session.commit()
    app = _app(session)
    west, rep1 = Doors(app, "west"), Doors(app, "rep1")
    url = "/scorecards/2026-10/R2"
    assert west.statuses("R2") == CLOSED  # not theirs, until they stand in

    today = dt.date.today()
    lead = user(session, "lead")
    session.add(
        Delegation(
            user_id=lead.id,
            delegate_id=user(session, "west").id,
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=1),
            created_by="t",
        )
    )
    session.add(
        Delegation(
            user_id=lead.id,
            delegate_id=user(session, "rep1").id,  # over yesterday
            starts_on=today - dt.timedelta(days=10),
            ends_on=today - dt.timedelta(days=1),
            created_by="t",
        )
    )
    session.commit()

    # the list links to the scorecard, and the link opens it with the form to resolve
    listing = west.page_client.get("/scorecards/disputes").get_data(as_text=True)
    assert f'id="resolve-{dispute.id}"' in listing and f'href="{url}"' in listing
    page = west.page("R2")
    assert page.status_code == 200 and f'id="resolve-{dispute.id}"' in page.get_data(as_text=True)
    assert west.review("R2").status_code == 200 and west.review("R2", "/feedback").status_code == 200
    card = west.scorecard("R2")
    assert card.status_code == 200 and any(item["key"] == "win_rate" for item in card.json["items"])
    # the stand-in whose delegation is over: no dispute, no scorecard
    assert f'id="dispute-{dispute.id}"' not in rep1.page_client.get("/scorecards/disputes").get_data(as_text=True)
    assert rep1.statuses("R2") == CLOSED
    # and only while they stand in: after the delegation's last day it is closed again
    r2_department = session.scalar(sa.select(Employee.department_id).where(Employee.code == "R2"))
    assert not may_read_scorecard(
        session, user(session, "west"), "2026-10", r2.employee_id, r2_department, today=today + dt.timedelta(days=2)
    )

    # resolved from the scorecard page: back on it, which stays open to them as what they acted on
    resolved = west.page_client.post(
        f"/scorecards/disputes/{dispute.id}/resolve",
        data={
            "decision": "reject",
            "resolution": "the deals were the colleague's",
            "kind": "kpi",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert resolved.status_code == 302 and resolved.headers["Location"].endswith(url)
    shown = west.page_client.get(resolved.headers["Location"])
    assert shown.status_code == 200 and "Dispute of Win rate: Rejected." in shown.get_data(as_text=True)
    session.rollback()
    assert session.get(Dispute, dispute.id).state == "rejected"
    assert west.review("R2").status_code == 200 and west.scorecard("R2").status_code == 200
    assert rep1.statuses("R2") == CLOSED
