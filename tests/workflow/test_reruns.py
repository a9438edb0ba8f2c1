"""A rerun and approvals: an approval stands for the numbers that were approved.

The lifecycle scenario (test_engine.py): R1 105.4 S walks self → manager → HR → head, R2 60 C
walks self → manager → head. Both are approved; then R2's manager rating arrives (R2 had none, so
its total rises) and the period is evaluated again.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.engine.models import Scorecard
from perfrules.web import create_app
from perfrules.workflow.engine import act
from perfrules.workflow.models import ReviewAction

from ..helpers import run_cli, sign_in, write
from .test_engine import lifecycle, review_of, user  # noqa: F401 (a fixture)

pytestmark = pytest.mark.database

WALKS = {"R1": ["rep1", "lead", "hr", "lead"], "R2": ["rep2", "lead", "lead"]}


def _approve_all(session) -> None:
    for code, logins in WALKS.items():
        review = review_of(session, code)
        for login in logins:
            act(session, review, user(session, login), "approve")
        assert review.state == "approved"
    session.commit()


def test_a_rerun_that_changes_an_approved_scorecard_sends_it_back_and_says_why(lifecycle, tmp_path, cli_env):
    session = lifecycle
    _approve_all(session)
    r2_before = session.scalar(
        sa.select(Scorecard.total).where(Scorecard.employee_id == review_of(session, "R2").employee_id)
    )

    # the same numbers again: every approval stands
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()  # a new transaction: the runs wrote in other connections
    assert review_of(session, "R1").state == review_of(session, "R2").state == "approved"

    rated = run_cli(
        "ratings", "import", write(tmp_path, "late.csv", "employee,period,item,value\nR2,2026-10,rating,100\n")
    )
    assert rated.exit_code == 0, rated.output
    rerun = run_cli("run", "2026-10")
    assert rerun.exit_code == 0 and "1 approval(s) withdrawn: their numbers changed" in rerun.output
    session.rollback()  # a new transaction: the runs wrote in other connections
    r1, r2 = review_of(session, "R1"), review_of(session, "R2")
    r2_after = session.scalar(sa.select(Scorecard.total).where(Scorecard.employee_id == r2.employee_id))
    assert r2_after > r2_before
    assert r1.state == "approved"  # unchanged numbers, untouched
    assert (r2.state, r2.step, r2.path) == ("in_review", "self_review", ["self_review"])
    last = session.scalars(
        sa.select(ReviewAction).where(ReviewAction.review_id == r2.id).order_by(ReviewAction.id.desc())
    ).first()
    assert last.action == "recompute" and last.user_id is None
    assert f"from {r2_before:.1f} to {r2_after:.1f}" in last.comment
    [audit] = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "review.recompute")).all()
    assert audit.key == "2026-10" and audit.after["run"] == int(rerun.output.split()[1])
    assert audit.after["sent_back"] == [{"employee": "R2", "step": "self_review", "comment": last.comment}]

    # approvals of the earlier pass do not count: the flow is walked again from the start
    for login in WALKS["R2"]:
        act(session, r2, user(session, login), "approve")
    assert r2.state == "approved"
    session.commit()

    # the page and the API show who sent it back: the evaluation run
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(client, "rep2", "s3cret-pass").status_code == 302
    page = client.get("/scorecards/2026-10/R2").get_data(as_text=True)
    assert "Sent back: the numbers changed" in page and "evaluation run" in page
    review = client.get("/api/v1/reviews/2026-10/R2").get_json()
    sent_back = [a for a in review["actions"] if a["action"] == "recompute"]
    assert len(sent_back) == 1 and sent_back[0]["by"] is None and "changed the total" in sent_back[0]["comment"]


def test_a_locked_scorecard_is_not_rewritten_so_its_review_stays_locked(lifecycle, tmp_path):
    session = lifecycle
    _approve_all(session)
    act(session, review_of(session, "R2"), user(session, "hr"), "lock")
    session.commit()
    assert (
        run_cli(
            "ratings", "import", write(tmp_path, "late.csv", "employee,period,item,value\nR2,2026-10,rating,100\n")
        ).exit_code
        == 0
    )
    result = run_cli("run", "2026-10")
    assert result.exit_code == 0 and "1 locked scorecard(s) kept" in result.output
    session.rollback()  # a new transaction: the runs wrote in other connections
    assert review_of(session, "R2").state == "locked"
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(ReviewAction).where(ReviewAction.action == "recompute"))
        == 0
    )


def test_sending_back_takes_the_same_few_statements_for_one_review_or_many(lifecycle, db_engine):
    from perfrules.workflow.reruns import withdraw_changed_approvals

    session = lifecycle
    _approve_all(session)
    ids = [review_of(session, code).employee_id for code in ("R1", "R2")]
    counts = []
    for approved_at in ({ids[0]: (1.0, "D")}, {ids[0]: (1.0, "D"), ids[1]: (2.0, "D")}):  # numbers since changed
        session.rollback()
        statements = []
        listener = lambda *args, sink=statements: sink.append(args[2])  # noqa: E731
        sa.event.listen(db_engine, "before_cursor_execute", listener)
        assert withdraw_changed_approvals(session, "2026-10", approved_at, "tester", 99) == len(approved_at)
        sa.event.remove(db_engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    session.rollback()
    assert counts[1] <= counts[0] <= 12
