"""Disputes, peer feedback and reruns tell the people concerned, like every move of a review:
the manager (or HR) of a dispute raised or withdrawn, the employee of its resolution (and of the
reopening an accepted one brings), each colleague asked for feedback (linked to their own page,
never the scorecard), the manager of colleagues the employee proposed, and the employee of a
rerun that sent their approved scorecard back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.notify.messages import render
from perfrules.notify.models import Notification
from perfrules.workflow.disputes import raise_dispute, resolve_dispute, withdraw_dispute
from perfrules.workflow.feedback import ask

from ..helpers import run_cli, write
from ..workflow.test_disputes import approved  # noqa: F401 (a fixture)
from ..workflow.test_engine import lifecycle, review_of, user  # noqa: F401 (a fixture)
from ..workflow.test_feedback import LATER, peers  # noqa: F401 (a fixture)
from .conftest import last_id, notices

pytestmark = pytest.mark.database


def _latest(session, kind: str) -> Notification:
    return session.scalars(
        sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id.desc())
    ).first()


def test_a_dispute_tells_its_resolver_then_the_employee(approved):
    session = approved
    before = last_id(session)
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "my rating is too low")
    assert notices(session, before) == [("lead", "dispute.raised", "R1")]  # R1's manager, not the employee
    raised = _latest(session, "dispute.raised")
    assert raised.link == "/scorecards/disputes"
    assert render(raised.kind, raised.params, "en") == (
        "New dispute: 销售一 on Manager rating for 2026-10",
        "Reason: my rating is too low",
    )

    before = last_id(session)
    resolve_dispute(session, dispute, user(session, "lead"), "accept", "agreed", {"value": 100})
    told = notices(session, before)
    assert ("rep1", "dispute.accepted", "R1") in told and ("rep1", "review.reopened", "R1") in told
    assert {login for login, _, _ in told} == {"rep1"}  # R1 is back at their self-review: only them
    accepted = _latest(session, "dispute.accepted")
    assert accepted.link == "/scorecards/2026-10/R1"
    assert (
        render(accepted.kind, accepted.params, "en")[1] == "lead accepted your dispute: agreed\nTotal: 105.4 → 108.4."
    )

    second = raise_dispute(session, review_of(session, "R2"), user(session, "rep2"), "rating", "why?")
    before = last_id(session)
    withdraw_dispute(session, second, user(session, "rep2"))
    assert notices(session, before) == [("lead", "dispute.withdrawn", "R2")]
    third = raise_dispute(session, review_of(session, "R2"), user(session, "rep2"), "rating", "again")
    before = last_id(session)
    resolve_dispute(session, third, user(session, "lead"), "reject", "the rating stands")
    assert notices(session, before) == [("rep2", "dispute.rejected", "R2")]
    assert (
        render("dispute.rejected", _latest(session, "dispute.rejected").params, "zh")[1]
        == "lead 未受理您的申诉,理由:the rating stands"
    )


def test_feedback_asked_tells_each_colleague_and_a_proposal_tells_the_manager(peers):
    session = peers
    review = review_of(session, "R1")
    before = last_id(session)
    ask(session, review, user(session, "rep1"), "peer_view", ["rep2"])
    assert notices(session, before) == [("lead", "feedback.proposed", "R1")]
    assert (
        render("feedback.proposed", _latest(session, "feedback.proposed").params, "en")[1]
        == "Proposed: rep2. Nobody is asked until you confirm."
    )

    before = last_id(session)
    made = ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"], due_on=LATER)
    assert sorted(notices(session, before)) == [
        ("rep2", "feedback.requested", "R1"),
        ("west", "feedback.requested", "R1"),
    ]
    links = set(session.scalars(sa.select(Notification.link).where(Notification.id > before)))
    assert links == {f"/feedback/{request.id}" for request in made}  # their own page: never the scorecard
    subject, body = render("feedback.requested", _latest(session, "feedback.requested").params, "en")
    assert subject == "Your feedback, please: 销售一 for 2026-10" and f"Due on {LATER.isoformat()}." in body


def test_a_rerun_sending_an_approval_back_tells_the_employee(approved, tmp_path):
    session = approved
    before = last_id(session)
    assert (
        run_cli(
            "ratings", "import", write(tmp_path, "late.csv", "employee,period,item,value\nR2,2026-10,rating,100\n")
        ).exit_code
        == 0
    )
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    assert notices(session, before) == [("rep2", "review.recomputed", "R2")]
    subject, body = render("review.recomputed", _latest(session, "review.recomputed").params, "en")
    assert subject == "To approve again: 销售二's scorecard for 2026-10"
    assert body.startswith("A rerun changed its approved numbers: run ") and "It is at the step Self-review." in body
