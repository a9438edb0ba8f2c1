"""Each move of a scorecard through its flow tells exactly the people who should know: the
actors of the step it enters (and their stand-ins), the employee of a rejection, return,
approval, lock or reopening — never whoever acted, never anyone else. Opening a company's reviews
writes their notifications in one statement; a rolled-back action notifies nobody."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.notify.messages import render
from perfrules.notify.models import Notification
from perfrules.org.models import User
from perfrules.workflow.engine import act, allowed_actions, start_reviews
from perfrules.workflow.models import Delegation, Review, ReviewAction

from ..workflow.test_engine import LOGINS, review_of, user
from .conftest import last_id, notices

pytestmark = pytest.mark.database


def may_approve(session, review, today=None) -> set[str]:
    """Who may approve the review now, by the workflow engine's own answer."""
    return {
        login
        for login in LOGINS
        if "approve" in {a.action for a in allowed_actions(session, review, user(session, login), today)}
    }


def test_opening_the_reviews_tells_each_first_step_actor(reviews):
    session = reviews
    # R4 has no user: nobody to tell; everyone else is at their own self-review
    assert sorted(notices(session)) == [
        ("lead", "review.waiting", "L1"),
        ("rep1", "review.waiting", "R1"),
        ("rep2", "review.waiting", "R2"),
        ("west", "review.waiting", "R3"),
    ]
    for code in ("L1", "R1", "R2", "R3"):
        assert {login for login, _, whose in notices(session) if whose == code} == may_approve(
            session, review_of(session, code)
        )
    note = session.scalar(
        sa.select(Notification).join(User, User.id == Notification.user_id).where(User.login == "rep1")
    )
    assert (note.period, note.link, note.read_at) == ("2026-10", "/scorecards/2026-10/R1", None)
    assert note.params["step"] == {"zh": "自评", "en": "Self-review"} and note.params["employee_code"] == "R1"
    subject, body = render(note.kind, note.params, "en")
    assert subject == "Waiting for you: 销售一's scorecard for 2026-10"
    assert body.startswith("It is at the step Self-review.\nDue by ")  # two days after the run


def test_each_transition_reaches_the_right_people_and_no_one_else(reviews):
    session = reviews
    r1 = review_of(session, "R1")

    def step(login, action, comment=None):
        before = last_id(session)
        act(session, r1, user(session, login), action, comment=comment)
        return sorted(notices(session, before))

    assert step("rep1", "approve") == [("lead", "review.waiting", "R1")]
    assert {"lead"} == may_approve(session, r1)
    assert step("lead", "approve") == [("hr", "review.waiting", "R1"), ("hr2", "review.waiting", "R1")]
    assert {"hr", "hr2"} == may_approve(session, r1)
    # HR sends it back a step: the manager who must act again, and the employee; not HR
    assert step("hr", "reject", "check the deal dates") == [
        ("lead", "review.rejected", "R1"),
        ("rep1", "review.rejected", "R1"),
    ]
    rejected = session.scalar(
        sa.select(Notification).where(Notification.kind == "review.rejected").order_by(Notification.id.desc()).limit(1)
    )
    assert render(rejected.kind, rejected.params, "en")[1] == (
        "hr rejected it at Calibration; it is back at Manager.\nComment: check the deal dates"
    )
    assert step("lead", "return", "add your achievements") == [("rep1", "review.returned", "R1")]
    assert step("rep1", "approve") == [("lead", "review.waiting", "R1")]
    assert step("lead", "approve") == [("hr", "review.waiting", "R1"), ("hr2", "review.waiting", "R1")]
    # calibration to head approval: the lead heads EAST
    assert step("hr2", "approve") == [("lead", "review.waiting", "R1")]
    assert step("lead", "approve") == [("rep1", "review.approved", "R1")]
    assert step("hr", "lock") == [("rep1", "review.locked", "R1")]
    # reopened at the self-review: the employee is told why (and it waits for them)
    assert step("admin", "reopen", "disputed deal D2") == [("rep1", "review.reopened", "R1")]
    reopened = session.scalar(sa.select(Notification).where(Notification.kind == "review.reopened"))
    assert (
        render(reopened.kind, reopened.params, "en")[1]
        == "admin reopened it: disputed deal D2\nIt is at the step Self-review."
    )


def test_a_countersignature_that_leaves_the_step_tells_nobody(reviews, tmp_path):
    from ..helpers import run_cli, write
    from .conftest import DEADLINED_FLOW

    session = reviews
    text = DEADLINED_FLOW.replace('actor: "role:hr", condition', 'actor: "role:hr", mode: all, condition')
    assert run_cli("config", "load", write(tmp_path, "all.yaml", text)).exit_code == 0
    assert run_cli("config", "publish", "-m", "countersign").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    session.execute(sa.delete(Review))
    start_reviews(session, "2026-10", "tester")
    r1 = review_of(session, "R1")
    act(session, r1, user(session, "rep1"), "approve")
    act(session, r1, user(session, "lead"), "approve")
    before = last_id(session)
    act(session, r1, user(session, "hr"), "approve")  # one of two: still at calibration
    assert notices(session, before) == []
    act(session, r1, user(session, "hr2"), "approve")
    assert notices(session, before) == [("lead", "review.waiting", "R1")]


def test_stand_ins_are_told_too_but_never_about_their_own_scorecard(reviews):
    session = reviews
    today = dt.date.today()
    lead = user(session, "lead")
    for delegate in ("west", "rep1"):
        session.add(
            Delegation(
                user_id=lead.id,
                delegate_id=user(session, delegate).id,
                starts_on=today,
                ends_on=today,
                created_by="tester",
            )
        )
    session.flush()
    r1, r2 = review_of(session, "R1"), review_of(session, "R2")
    before = last_id(session)
    act(session, r1, user(session, "rep1"), "approve")
    assert sorted(notices(session, before)) == [("lead", "review.waiting", "R1"), ("west", "review.waiting", "R1")]
    assert may_approve(session, r1, today) == {"lead", "west"}
    before = last_id(session)
    act(session, r2, user(session, "rep2"), "approve")
    assert sorted(notices(session, before)) == [
        ("lead", "review.waiting", "R2"),
        ("rep1", "review.waiting", "R2"),
        ("west", "review.waiting", "R2"),
    ]
    assert may_approve(session, r2, today) == {"lead", "rep1", "west"}


def test_a_rolled_back_action_notifies_nobody(reviews):
    session = reviews
    before = last_id(session)
    act(session, review_of(session, "R1"), user(session, "rep1"), "approve")
    assert notices(session, before) != []
    session.rollback()
    assert notices(session, before) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(ReviewAction)) == 0


def test_opening_reviews_writes_every_notification_in_one_insert(reviews):
    session = reviews
    session.execute(sa.delete(Notification))
    session.execute(sa.delete(Review))
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO") and "notifications" in statement.split("(")[0]:
            statements.append(len(parameters) if executemany else 1)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert start_reviews(session, "2026-10", "tester") == 5
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # one statement, four rows (R4 has nobody to tell); on PostgreSQL the rows are COPYed, which
    # SQLAlchemy's statement events do not see: no INSERT at all
    assert statements == ([] if engine.dialect.name == "postgresql" else [4])
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 4
