"""The scorecard lifecycle: each step acted on by exactly the people the flow names, in turn;
rejections, returns, locks and reopening; delegation; countersigning; nobody approves their own.

The scenario company (tests/engine/scenario.py) with an approval flow on both templates. R1
(EAST, manager L1) scores 105.4 → S, so HR calibration applies to R1; R2 scores 60 → C, so it
does not. L1 has no manager and heads EAST.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from perfrules.audit import AuditEntry
from perfrules.engine.models import Scorecard
from perfrules.org.models import Department, DepartmentHead, Employee, User
from perfrules.workflow.engine import act, allowed_actions, start_reviews
from perfrules.workflow.models import Delegation, Review, ReviewAction
from perfrules.workflow.steps import WorkflowError

from ..helpers import add_users, run_cli, starting_state, write

pytestmark = pytest.mark.database

FLOW = """
approval_flows:
  - slug: standard
    label: {zh: 标准审批, en: Standard}
    steps:
      - {name: self_review, label: {zh: 自评, en: Self-review}, actor: employee}
      - {name: manager_review, label: {zh: 上级, en: Manager}, actor: manager}
      - {name: hr_calibration, label: {zh: 校准, en: Calibration}, actor: "role:hr", condition: "total < 60 or grade == 'S'"}
      - {name: head_approval, label: {zh: 负责人, en: Head}, actor: department_head}
"""
USERS = {
    "rep1": (("employee",), "R1"),
    "rep2": (("employee",), "R2"),
    "lead": (("manager", "employee"), "L1"),
    "west": (("manager", "employee"), "R3"),
    "hr": (("hr",), None),
    "hr2": (("hr",), None),
    "admin": (("admin",), None),
    "rep1_hr": None,
}


def create_users() -> None:
    """USERS (but rep1_hr), each with the password s3cret-pass."""
    add_users(((login, *spec) for login, spec in USERS.items() if spec is not None), "s3cret-pass")


def open_reviews(folder: Path) -> None:
    """USERS created, the flow `standard` put on both templates and published, 2026-10 evaluated."""
    create_users()
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
    path = write(folder, "flow.yaml", FLOW + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True))
    assert run_cli("config", "load", path).exit_code == 0
    assert run_cli("config", "publish", "-m", "flows").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(open_reviews, parent="company")
def lifecycle(company, cli_env, session):
    """The scenario company with USERS and the flow `standard` on both templates, 2026-10
    evaluated: every scorecard's review open at its first step. The test's session."""
    session.rollback()
    return session


def user(session, login: str) -> User:
    return session.scalar(sa.select(User).where(User.login == login))


def review_of(session, code: str) -> Review:
    employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == code))
    return session.scalar(sa.select(Review).where(Review.period == "2026-10", Review.employee_id == employee_id))


def test_a_scorecard_walks_its_flow_to_locked_with_each_step_in_turn(lifecycle):
    session = lifecycle
    # the run opened a review for each of the five scorecards, in one statement, audited once
    assert session.scalar(sa.select(sa.func.count()).select_from(Review)) == 5
    assert start_reviews(session, "2026-10", "tester") == 0  # once per scorecard
    started = session.scalars(sa.select(AuditEntry.after).where(AuditEntry.action == "review.start")).all()
    assert started[-1] == {"opened": 5}
    r1 = review_of(session, "R1")
    assert (r1.state, r1.step) == ("in_review", "self_review")
    order = [("rep1", "self_review"), ("lead", "manager_review"), ("hr", "hr_calibration"), ("lead", "head_approval")]
    for login, step in order:
        assert r1.step == step
        others = [
            name
            for name in ("rep1", "rep2", "lead", "west", "hr", "hr2", "admin")
            if name != login and not (step == "hr_calibration" and name == "hr2")
        ]
        for other in others:  # out of turn: refused, nothing changes
            with pytest.raises(WorkflowError):
                act(session, r1, user(session, other), "approve")
            assert r1.step == step
        act(session, r1, user(session, login), "approve")
    assert (r1.state, r1.step) == ("approved", None)
    act(session, r1, user(session, "hr"), "lock")
    session.commit()
    assert r1.state == "locked"
    card = session.scalar(
        sa.select(Scorecard).where(Scorecard.period == "2026-10", Scorecard.employee_id == r1.employee_id)
    )
    assert card.locked
    assert run_cli("run", "2026-10").exit_code == 0  # a rerun keeps the locked scorecard
    session.expire_all()
    assert session.get(Scorecard, card.id) is not None
    actions = session.scalars(
        sa.select(ReviewAction.action).where(ReviewAction.review_id == r1.id).order_by(ReviewAction.id)
    ).all()
    assert actions == ["approve"] * 4 + ["lock"]
    audited = session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.kind == "reviews", AuditEntry.key.endswith(f":{r1.employee_id}"))
    ).all()
    assert audited == [*["review.approve"] * 4, "review.lock"]


def test_conditions_and_steps_without_anyone_are_passed_over(lifecycle):
    session = lifecycle
    r2 = review_of(session, "R2")  # 60 → C: no calibration
    for login in ("rep2", "lead", "lead"):
        act(session, r2, user(session, login), "approve")
    assert r2.state == "approved" and r2.path == ["self_review", "manager_review", "head_approval"]
    l1 = review_of(session, "L1")  # no manager, and nobody above to head the department for them
    act(session, l1, user(session, "lead"), "approve")
    assert l1.state == "approved" and l1.path == ["self_review"]


def test_a_named_department_head_acts_at_the_head_step_except_on_their_own_scorecard(lifecycle):
    session = lifecycle
    east = session.scalar(sa.select(Department.id).where(Department.code == "EAST"))
    session.add(DepartmentHead(department_id=east, employee_id=review_of(session, "R2").employee_id))
    session.commit()
    r1 = review_of(session, "R1")
    for login in ("rep1", "lead", "hr"):
        act(session, r1, user(session, login), "approve")
    assert r1.step == "head_approval"
    with pytest.raises(WorkflowError):  # the chain's head no longer: the named one is
        act(session, r1, user(session, "lead"), "approve")
    act(session, r1, user(session, "rep2"), "approve")
    assert r1.state == "approved"
    r2 = review_of(session, "R2")  # R2 heads EAST: their own head step falls to the chain (L1)
    for login in ("rep2", "lead", "lead"):
        act(session, r2, user(session, login), "approve")
    assert r2.state == "approved" and r2.path == ["self_review", "manager_review", "head_approval"]


def test_nobody_approves_their_own_scorecard_through_any_role_or_delegation(lifecycle):
    session = lifecycle
    assert (
        run_cli(
            "user", "create", "rep1_hr", "--role", "hr", "--role", "employee", "--password", "s3cret-pass"
        ).exit_code
        == 0
    )
    session.rollback()
    rep1_hr = user(session, "rep1_hr")
    rep1_hr.employee_id = None
    session.flush()
    r1 = review_of(session, "R1")
    # the lead hands their reviews to R1 for the month: R1 still may not approve R1's own scorecard
    session.add(
        Delegation(
            user_id=user(session, "lead").id,
            delegate_id=user(session, "rep1").id,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 11, 30),
            created_by="tester",
        )
    )
    act(session, r1, user(session, "rep1"), "approve", today=dt.date(2026, 11, 5))
    with pytest.raises(WorkflowError):
        act(session, r1, user(session, "rep1"), "approve", today=dt.date(2026, 11, 5))
    act(session, r1, user(session, "lead"), "approve")
    assert r1.step == "hr_calibration"
    # an HR user who is R1 may not calibrate R1
    hr_r1 = user(session, "rep1")
    hr_r1.roles = ["employee", "hr"]
    session.flush()
    assert [a.action for a in allowed_actions(session, r1, hr_r1)] == []
    with pytest.raises(WorkflowError):
        act(session, r1, hr_r1, "approve")
    act(session, r1, user(session, "hr2"), "approve")
    act(session, r1, user(session, "lead"), "approve")
    assert r1.state == "approved"
    with pytest.raises(WorkflowError):  # nor lock or reopen it
        act(session, r1, hr_r1, "lock")


def test_a_delegate_acts_for_the_delegating_user_between_the_dates_only(lifecycle):
    session = lifecycle
    r2 = review_of(session, "R2")
    act(session, r2, user(session, "rep2"), "approve")
    session.add(
        Delegation(
            user_id=user(session, "lead").id,
            delegate_id=user(session, "west").id,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 11, 7),
            created_by="tester",
        )
    )
    with pytest.raises(WorkflowError):
        act(session, r2, user(session, "west"), "approve", today=dt.date(2026, 11, 8))
    act(session, r2, user(session, "west"), "approve", today=dt.date(2026, 11, 7))
    record = session.scalar(
        sa.select(ReviewAction).where(ReviewAction.review_id == r2.id).order_by(ReviewAction.id.desc()).limit(1)
    )
    assert (record.user_id, record.on_behalf_of) == (user(session, "west").id, user(session, "lead").id)
    assert r2.step == "head_approval"


def test_reject_return_and_reopen_need_a_reason_and_go_where_they_should(lifecycle):
    session = lifecycle
    r1 = review_of(session, "R1")
    act(session, r1, user(session, "rep1"), "approve")
    act(session, r1, user(session, "lead"), "approve")
    assert r1.step == "hr_calibration"
    with pytest.raises(WorkflowError, match="needs a comment"):
        act(session, r1, user(session, "hr"), "reject")
    act(session, r1, user(session, "hr"), "reject", comment="check the deal dates")
    assert r1.step == "manager_review"
    act(session, r1, user(session, "lead"), "return", comment="add your achievements")
    assert r1.step == "self_review" and r1.path == ["self_review"]
    with pytest.raises(WorkflowError):  # nothing before the first step
        act(session, r1, user(session, "rep1"), "reject", comment="x")
    for login in ("rep1", "lead", "hr", "lead"):
        act(session, r1, user(session, login), "approve")
    act(session, r1, user(session, "admin"), "lock")
    with pytest.raises(WorkflowError):
        act(session, r1, user(session, "lead"), "reopen", comment="no")  # not privileged
    with pytest.raises(WorkflowError, match="needs a comment"):
        act(session, r1, user(session, "hr"), "reopen")
    act(session, r1, user(session, "hr"), "reopen", comment="disputed deal D2")
    card = session.scalar(
        sa.select(Scorecard).where(Scorecard.period == "2026-10", Scorecard.employee_id == r1.employee_id)
    )
    assert (r1.state, r1.step, card.locked) == ("in_review", "self_review", False)


def test_countersigning_needs_every_actor(lifecycle, tmp_path):
    session = lifecycle
    text = FLOW.replace('actor: "role:hr", condition', 'actor: "role:hr", mode: all, condition')
    assert run_cli("config", "load", write(tmp_path, "all.yaml", text)).exit_code == 0
    assert run_cli("config", "publish", "-m", "countersign").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    session.execute(sa.delete(Review))  # reviews opened under the flow that had no countersigning
    start_reviews(session, "2026-10", "tester")
    r1 = review_of(session, "R1")
    act(session, r1, user(session, "rep1"), "approve")
    act(session, r1, user(session, "lead"), "approve")
    act(session, r1, user(session, "hr"), "approve")
    assert r1.step == "hr_calibration"  # one of two
    with pytest.raises(WorkflowError):
        act(session, r1, user(session, "hr"), "approve")  # not twice
    act(session, r1, user(session, "hr2"), "approve")
    assert r1.step == "head_approval"


LOGINS = ("rep1", "rep2", "lead", "west", "hr", "hr2", "admin")
#: who the flow names at each of R1's steps (R1 is S, so calibration applies)
R1_STEPS = [
    ("self_review", {"rep1"}),
    ("manager_review", {"lead"}),
    ("hr_calibration", {"hr", "hr2"}),
    ("head_approval", {"lead"}),
]


def test_every_action_by_every_user_in_every_state_succeeds_exactly_when_the_flow_says(lifecycle):
    """A Hypothesis state machine: random actions by random users on R1's scorecard, each
    checked against a model of the flow written here, independently of the engine."""
    session = lifecycle

    class Lifecycle(RuleBasedStateMachine):
        @initialize()
        def fresh(self):
            session.rollback()
            session.execute(sa.delete(ReviewAction))
            session.execute(sa.delete(Review))
            session.execute(sa.update(Scorecard).values(locked=False))
            session.flush()
            start_reviews(session, "2026-10", "tester")
            self.review = review_of(session, "R1")
            self.state, self.index = "in_review", 0

        def expected(self, login: str, action: str) -> bool:
            privileged = login in ("hr", "hr2", "admin")
            if action == "lock":
                return self.state == "approved" and privileged
            if action == "reopen":
                return self.state in ("approved", "locked") and privileged
            if self.state != "in_review" or login not in R1_STEPS[self.index][1]:
                return False
            if action == "reject":
                return self.index > 0
            if action == "return":
                return self.index > 0  # not at the employee's own step
            return True

        @rule(login=st.sampled_from(LOGINS), action=st.sampled_from(("approve", "reject", "return", "lock", "reopen")))
        def try_action(self, login, action):
            should = self.expected(login, action)
            try:
                act(session, self.review, user(session, login), action, comment="because")
            except WorkflowError:
                assert not should, (login, action, self.state, self.index)
                return
            assert should, (login, action, self.state, self.index)
            if action == "approve":
                self.index += 1
                if self.index == len(R1_STEPS):
                    self.state = "approved"
            elif action == "reject":
                self.index -= 1
            elif action in ("return", "reopen"):
                self.state, self.index = "in_review", 0
            elif action == "lock":
                self.state = "locked"
            assert self.review.state == self.state
            if self.state == "in_review":
                assert self.review.step == R1_STEPS[self.index][0]

    Lifecycle.TestCase.settings = settings(
        max_examples=15,  # of up to 20 actions each, on each database engine (25 took 3–5 s per engine)
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    Lifecycle.TestCase().runTest()


def test_the_lifecycle_through_the_rest_api_with_the_same_checks(lifecycle):
    from perfrules.web import create_app

    session = lifecycle
    app = create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})
    client = app.test_client()
    tokens = {}
    for login in ("rep1", "rep2", "lead", "west", "hr"):
        issued = run_cli("token", "create", login, "--name", "tests")
        tokens[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    one = client.get("/api/v1/reviews/2026-10/R1", headers=tokens["rep1"]).json
    assert (one["state"], one["step"], one["allowed"]) == ("in_review", "self_review", ["approve"])
    assert client.get("/api/v1/reviews/2026-10/R1", headers=tokens["rep2"]).status_code == 404  # not theirs
    assert client.get("/api/v1/reviews/2026-10/R1", headers=tokens["west"]).status_code == 404
    early = client.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=tokens["lead"])
    assert early.status_code == 409 and "may not approve" in early.json["message"]
    assert (
        client.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=tokens["rep1"]).json["step"]
        == "manager_review"
    )
    refused = client.post("/api/v1/reviews/2026-10/R1/return", json={}, headers=tokens["lead"])
    assert refused.status_code == 409 and "needs a comment" in refused.json["message"]
    back = client.post("/api/v1/reviews/2026-10/R1/return", json={"comment": "more detail"}, headers=tokens["lead"])
    assert back.json["step"] == "self_review"
    history = client.get("/api/v1/reviews/2026-10/R1", headers=tokens["hr"]).json
    assert [(a["action"], a["by"], a["comment"]) for a in history["actions"]] == [
        ("approve", "rep1", None),
        ("return", "lead", "more detail"),
    ]
    listed = client.get("/api/v1/reviews?period=2026-10", headers=tokens["lead"]).json
    assert {r["employee"] for r in listed} == {"L1", "R1", "R2"}  # the lead's department
    assert client.post("/api/v1/reviews/2026-10/R1/delete", json={}, headers=tokens["hr"]).status_code == 404


def test_the_lifecycle_in_the_console_pages(lifecycle):
    from perfrules.web import create_app

    from ..helpers import csrf_token, sign_in

    session = lifecycle
    app = create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})

    def client_of(login):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert sign_in(client, login, "s3cret-pass").status_code == 302
        return client

    rep1, lead = client_of("rep1"), client_of("lead")
    home = rep1.get("/").get_data(as_text=True)
    assert 'id="waiting-for-you"' in home and "/scorecards/2026-10/R1" in home
    page = rep1.get("/scorecards/2026-10/R1").get_data(as_text=True)
    assert 'id="review"' in page and 'data-action="approve"' in page and 'data-action="lock"' not in page
    approved = rep1.post(
        "/scorecards/2026-10/R1/review/approve", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "Done: Approve." in approved.get_data(as_text=True)
    assert rep1.post("/scorecards/2026-10/R1/review/approve").status_code == 400  # CSRF
    assert "/scorecards/2026-10/R1" in lead.get("/").get_data(as_text=True)
    page = lead.get("/scorecards/2026-10/R1").get_data(as_text=True)
    refused = lead.post(
        "/scorecards/2026-10/R1/review/return", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "needs a comment" in refused
    lead.post("/scorecards/2026-10/R1/review/return", data={"csrf_token": csrf_token(page), "comment": "more"})
    session.rollback()
    assert review_of(session, "R1").step == "self_review"
    # a scorecard the user may not see cannot be acted on through its URL either
    west = client_of("west")
    page = west.get("/").get_data(as_text=True)
    assert west.post("/scorecards/2026-10/R1/review/approve", data={"csrf_token": csrf_token(page)}).status_code == 404
