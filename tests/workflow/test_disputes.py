"""Disputes (申诉): an employee contests an item of their approved scorecard; the dispute goes to
their manager (or HR), who accepts it with a correction — the scorecard is scored again and its
review reopened — or rejects it with a reason the employee reads.

The scenario company (tests/engine/scenario.py) with the standard flow of test_engine.py. R1
(EAST, manager L1 = user `lead`) scores 105.4 with an imported rating of 80: the manual item
`rating` is 15 % of the total (12 points). Corrected to 100 it gives 15 points: 108.4. R1's
`attainment` (sales 24,000 against a target of 20,000 → 120 points × 42 % = 50.4 points) drops
to 70 points × 42 % = 29.4 once deal D1 is corrected from 15,000 to 5,000. L1 has no manager, so
their disputes go to HR.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.engine.models import ManualValue, Scorecard
from perfrules.org.models import Employee
from perfrules.workflow.dispute_models import Dispute
from perfrules.workflow.disputes import (
    DisputeInvalid,
    DisputeRefused,
    disputes_for,
    raise_dispute,
    resolve_dispute,
    withdraw_dispute,
)
from perfrules.workflow.engine import act, allowed_actions, start_reviews
from perfrules.workflow.models import Delegation, Review, ReviewAction

from ..helpers import csrf_token, run_cli, sign_in, write
from .test_engine import FLOW, create_users, lifecycle, review_of, user  # noqa: F401 (lifecycle: a fixture)

pytestmark = pytest.mark.database

LOGINS = ("rep1", "rep2", "lead", "west", "hr", "hr2", "admin")


def approve_all(session, code: str) -> Review:
    """Walk the review through every step, each approved by whoever the flow names."""
    review = review_of(session, code)
    while review.state == "in_review":
        login = next(
            name
            for name in LOGINS
            if any(a.action == "approve" for a in allowed_actions(session, review, user(session, name)))
        )
        act(session, review, user(session, login), "approve")
    return review


def card_of(session, code: str) -> Scorecard:
    return session.scalar(
        sa.select(Scorecard)
        .join(Employee, Employee.id == Scorecard.employee_id)
        .where(Scorecard.period == "2026-10", Employee.code == code)
    )


def points_of(card: Scorecard, item: str) -> float:
    return {entry["key"]: entry for entry in card.items}[item]["points"]


def audited(session, kind: str = "disputes") -> list[str]:
    return session.scalars(sa.select(AuditEntry.action).where(AuditEntry.kind == kind).order_by(AuditEntry.id)).all()


def rating_of(session, code: str) -> ManualValue | None:
    return session.scalar(
        sa.select(ManualValue)
        .join(Employee, Employee.id == ManualValue.employee_id)
        .where(ManualValue.period == "2026-10", Employee.code == code, ManualValue.item == "rating")
    )


@pytest.fixture
def approved(lifecycle):
    """R1 and R2 approved, R1 locked too; the others still in review."""
    session = lifecycle
    approve_all(session, "R1")
    act(session, review_of(session, "R1"), user(session, "hr"), "lock")
    approve_all(session, "R2")
    session.commit()
    return session


# --- raising -------------------------------------------------------------------------------------


def test_the_employee_raises_a_dispute_routed_to_their_manager(approved):
    session = approved
    rep1, lead = user(session, "rep1"), user(session, "lead")
    dispute = raise_dispute(session, review_of(session, "R1"), rep1, "rating", "  my 1:1 notes say 100  ")
    assert (dispute.state, dispute.routed_to, dispute.item, dispute.reason) == (
        "open",
        "manager",
        "rating",
        "my 1:1 notes say 100",
    )
    assert dispute.points_raised == pytest.approx(12) and dispute.review_state == "locked"
    assert disputes_for(session, lead) == [dispute]
    for login in ("rep1", "rep2", "west", "hr", "admin"):  # HR may resolve it, but it does not wait for them
        assert disputes_for(session, user(session, login)) == []
    assert audited(session) == ["dispute.raise"]
    # L1 has no manager: HR resolves
    l1 = raise_dispute(session, approve_all(session, "L1"), lead, "team_attainment", "team sales miss D10")
    assert l1.routed_to == "hr"
    assert disputes_for(session, user(session, "hr")) == [l1] == disputes_for(session, user(session, "hr2"))
    assert disputes_for(session, lead) == [dispute]  # not their own


def test_every_refusal_to_raise_says_why_and_changes_nothing(approved):
    session = approved
    rep1, rep2 = user(session, "rep1"), user(session, "rep2")
    r1 = review_of(session, "R1")
    with pytest.raises(DisputeRefused, match="only its employee"):
        raise_dispute(session, r1, user(session, "lead"), "rating", "looks low")
    with pytest.raises(DisputeRefused, match="only its employee"):
        raise_dispute(session, r1, user(session, "hr"), "rating", "looks low")
    with pytest.raises(DisputeRefused, match="in_review at step self_review: it may be disputed once it is approved"):
        raise_dispute(session, review_of(session, "R3"), user(session, "west"), "rating", "x")  # R3: still in review
    with pytest.raises(DisputeInvalid, match="no item 'ratng' — did you mean 'rating'") as unknown:
        raise_dispute(session, r1, rep1, "ratng", "looks low")
    assert unknown.value.field == "item"
    with pytest.raises(DisputeInvalid, match="name the item") as empty_item:
        raise_dispute(session, r1, rep1, " ", "looks low")
    assert empty_item.value.field == "item"
    with pytest.raises(DisputeInvalid, match="needs a reason") as no_reason:
        raise_dispute(session, r1, rep1, "rating", "   ")
    assert no_reason.value.field == "reason"
    raise_dispute(session, r1, rep1, "rating", "looks low")
    with pytest.raises(DisputeRefused, match="already disputed"):
        raise_dispute(session, r1, rep1, "rating", "again")
    raise_dispute(session, r1, rep1, "attainment", "another item is fine")
    with pytest.raises(DisputeRefused, match="only its employee"):  # R2 may not dispute R1's
        raise_dispute(session, r1, rep2, "win_rate", "x")
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 2
    assert audited(session) == ["dispute.raise", "dispute.raise"]


def test_the_database_keeps_one_open_dispute_per_item(approved):
    session = approved
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "low")
    session.commit()
    session.add(
        Dispute(
            period="2026-10",
            employee_id=dispute.employee_id,
            review_id=dispute.review_id,
            item="rating",
            review_state="locked",
            reason="twice",
            raised_by=dispute.raised_by,
            raised_at=dispute.raised_at,
            state="open",
            routed_to="manager",
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()
    withdraw_dispute(session, dispute, user(session, "rep1"))  # a closed one does not count
    raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "once more")
    session.commit()


def test_two_requests_raising_the_same_dispute_at_once_give_one_dispute_and_one_refusal(approved, db_engine):
    """The second request's check runs before the first commits; the database decides, and the
    loser gets the same refusal as a plain duplicate (not an error)."""
    import threading

    from perfrules.db.engine import make_sessionmaker

    first = approved
    raise_dispute(first, review_of(first, "R1"), user(first, "rep1"), "rating", "first")  # flushed, not committed
    outcome = {}

    def second_request():
        with make_sessionmaker(db_engine, write=True)() as other:  # as a web request that writes
            try:
                raise_dispute(other, review_of(other, "R1"), user(other, "rep1"), "rating", "second")
                other.commit()
                outcome["result"] = "raised"
            except DisputeRefused as exc:
                outcome["result"] = str(exc)

    racer = threading.Thread(target=second_request)
    racer.start()
    racer.join(timeout=1)  # it waits on the first transaction's write
    first.commit()
    racer.join(timeout=30)
    assert "already disputed" in outcome["result"]
    first.rollback()
    assert first.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 1


# --- resolving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["withdraw", "reject"])
def test_a_second_resolution_at_the_same_moment_gets_the_clean_refusal(approved, db_engine, second):
    """HR rejecting, or the employee withdrawing, while the manager's acceptance is not yet
    committed: both checks would see the dispute open; the row lock makes the second wait and
    then read "already accepted", instead of overwriting the acceptance."""
    import threading

    from perfrules.db.engine import make_sessionmaker

    first = approved
    dispute = raise_dispute(first, review_of(first, "R1"), user(first, "rep1"), "rating", "should be 100")
    first.commit()
    resolve_dispute(first, dispute, user(first, "lead"), "accept", "agreed", {"value": 100})  # flushed, not committed
    outcome = {}

    def second_request():
        with make_sessionmaker(db_engine, write=True)() as other:  # as a web request that writes
            mine = other.get(Dispute, dispute.id)
            try:
                if second == "withdraw":
                    withdraw_dispute(other, mine, user(other, "rep1"))
                else:
                    resolve_dispute(other, mine, user(other, "hr"), "reject", "the rating stands")
                other.commit()
                outcome["result"] = mine.state
            except DisputeRefused as exc:
                outcome["result"] = str(exc)

    racer = threading.Thread(target=second_request)
    racer.start()
    racer.join(timeout=1)  # it waits on the first transaction's lock
    first.commit()
    racer.join(timeout=30)
    assert outcome["result"] == "the dispute is already accepted"
    first.rollback()
    first.expire_all()
    kept = first.get(Dispute, dispute.id)
    assert (kept.state, kept.resolution) == ("accepted", "agreed") and rating_of(first, "R1").value == 100
    assert audited(first) == ["dispute.raise", "dispute.accept"]


def test_accepting_a_manual_correction_rescores_and_reopens(approved):
    session = approved
    lead = user(session, "lead")
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "should be 100")
    session.commit()
    assert card_of(session, "R1").total == pytest.approx(105.4)
    resolve_dispute(session, dispute, lead, "accept", "agreed: the Q3 project counts", {"value": "100"})
    session.commit()
    session.expire_all()
    card, review = card_of(session, "R1"), review_of(session, "R1")
    assert card.total == pytest.approx(108.4) and points_of(card, "rating") == pytest.approx(15)
    assert not card.locked and (review.state, review.step, review.path) == ("in_review", "self_review", ["self_review"])
    rating = rating_of(session, "R1")
    assert rating.value == 100 and rating.source == f"dispute {dispute.id} (lead)"
    dispute = session.get(Dispute, dispute.id)
    assert (dispute.state, dispute.resolved_by, dispute.resolution) == (
        "accepted",
        lead.id,
        "agreed: the Q3 project counts",
    )
    assert dispute.correction == {
        "value": 100.0,
        "previous_value": 80.0,
        "total_before": pytest.approx(105.4),
        "total_after": pytest.approx(108.4),
        "points_before": pytest.approx(12),
        "points_after": pytest.approx(15),
        "reopened": True,
    }
    reopen = session.scalar(
        sa.select(ReviewAction).where(ReviewAction.review_id == review.id).order_by(ReviewAction.id.desc()).limit(1)
    )
    assert (reopen.action, reopen.user_id) == ("reopen", lead.id)
    assert reopen.comment == f"dispute {dispute.id} accepted: agreed: the Q3 project counts"
    assert audited(session) == ["dispute.raise", "dispute.accept"]
    assert audited(session, "reviews")[-1] == "review.reopen"
    accepted = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "dispute.accept"))
    assert accepted.before["state"] == "open" and accepted.after["correction"]["value"] == 100
    # the reopened review walks the flow again, and the employee may then dispute again
    approve_all(session, "R1")
    raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "now it is right; testing")


def test_accepting_a_kpi_item_needs_the_data_corrected_then_recomputes(approved, tmp_path):
    session = approved
    hr = user(session, "hr")
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "attainment", "D1 was 5,000")
    session.commit()
    with pytest.raises(DisputeInvalid, match="correct the records") as missing:
        resolve_dispute(session, dispute, hr, "accept", "fixed", {})
    assert missing.value.field == "correction.data_corrected"
    with pytest.raises(
        DisputeInvalid, match="'value' does not apply: a KPI item's correction is data_corrected"
    ) as wrong:
        resolve_dispute(session, dispute, hr, "accept", "fixed", {"value": 50})
    assert wrong.value.field == "correction.value"
    deals = write(
        tmp_path, "fix.csv", "external_id,owner,closed_on,customer,amount,status\nD1,R1,2026-10-03,A,5000,won\n"
    )
    assert run_cli("data", "import", "deals", deals).exit_code == 0
    session.rollback()
    dispute = session.get(Dispute, dispute.id)
    resolve_dispute(session, dispute, hr, "accept", "D1 corrected in the CRM", {"data_corrected": True})
    session.commit()
    session.expire_all()
    card = card_of(session, "R1")
    assert points_of(card, "attainment") == pytest.approx(29.4) and card.total < 105.4
    assert review_of(session, "R1").state == "in_review" and not card.locked
    correction = session.get(Dispute, dispute.id).correction
    assert correction["data_corrected"] is True and correction["reopened"] is True
    assert correction["points_before"] == pytest.approx(50.4) and correction["points_after"] == pytest.approx(29.4)
    assert correction["total_after"] == pytest.approx(card.total)


def test_rejecting_keeps_the_scorecard_as_it_is(approved):
    session = approved
    dispute = raise_dispute(session, review_of(session, "R2"), user(session, "rep2"), "win_rate", "D6 was not lost")
    session.commit()
    with pytest.raises(DisputeInvalid, match="needs a resolution") as empty:
        resolve_dispute(session, dispute, user(session, "lead"), "reject", "  ")
    assert empty.value.field == "resolution"
    with pytest.raises(DisputeInvalid, match="unknown decision"):
        resolve_dispute(session, dispute, user(session, "lead"), "maybe", "hmm")
    resolve_dispute(session, dispute, user(session, "lead"), "reject", "the CRM shows D6 lost on 10-06")
    session.commit()
    session.expire_all()
    assert review_of(session, "R2").state == "approved" and card_of(session, "R2").total == pytest.approx(60)
    dispute = session.get(Dispute, dispute.id)
    assert (dispute.state, dispute.correction, dispute.resolution) == (
        "rejected",
        None,
        "the CRM shows D6 lost on 10-06",
    )
    with pytest.raises(DisputeRefused, match="already rejected"):
        resolve_dispute(session, dispute, user(session, "lead"), "accept", "changed my mind", {"data_corrected": True})
    assert audited(session) == ["dispute.raise", "dispute.reject"]


def test_only_the_routed_resolvers_resolve_and_never_on_their_own(approved):
    session = approved
    r1 = review_of(session, "R1")
    dispute = raise_dispute(session, r1, user(session, "rep1"), "rating", "low")
    session.commit()
    before = audited(session)
    for login in ("rep1", "rep2", "west"):
        with pytest.raises(DisputeRefused, match="may not resolve"):
            resolve_dispute(session, dispute, user(session, login), "reject", "no")
    # R1 holding the HR role is still R1
    rep1 = user(session, "rep1")
    rep1.roles = ["employee", "hr"]
    session.flush()
    with pytest.raises(DisputeRefused, match="their own scorecard"):
        resolve_dispute(session, dispute, rep1, "reject", "no")
    # nor through a delegation from their manager
    today = dt.date.today()
    session.add(
        Delegation(
            user_id=user(session, "lead").id, delegate_id=rep1.id, starts_on=today, ends_on=today, created_by="tester"
        )
    )
    session.flush()
    with pytest.raises(DisputeRefused, match="their own scorecard"):
        resolve_dispute(session, dispute, rep1, "accept", "yes", {"value": 100})
    assert dispute not in disputes_for(session, rep1)
    with pytest.raises(DisputeRefused):
        withdraw_dispute(session, dispute, user(session, "lead"))  # only its employee withdraws
    session.rollback()
    assert audited(session) == before and session.get(Dispute, dispute.id).state == "open"
    assert rating_of(session, "R1").value == 80 and card_of(session, "R1").locked


def test_a_delegate_resolves_for_the_manager_between_the_dates(approved):
    session = approved
    west, lead = user(session, "west"), user(session, "lead")
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "low")
    session.add(
        Delegation(
            user_id=lead.id,
            delegate_id=west.id,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 11, 7),
            created_by="tester",
        )
    )
    session.flush()
    assert disputes_for(session, west, today=dt.date(2026, 11, 3)) == [dispute]
    with pytest.raises(DisputeRefused):
        resolve_dispute(session, dispute, west, "reject", "no", today=dt.date(2026, 11, 8))
    resolve_dispute(session, dispute, west, "reject", "checked with the lead", today=dt.date(2026, 11, 7))
    assert (dispute.resolved_by, dispute.on_behalf_of) == (west.id, lead.id)


def test_the_flow_may_route_disputes_to_hr(approved, tmp_path):
    session = approved
    bad = FLOW.replace("    steps:\n", "    disputes: {route_to: nobody}\n    steps:\n", 1)
    loaded = run_cli("config", "load", write(tmp_path, "bad.yaml", bad))
    assert loaded.exit_code != 0 and "route_to" in loaded.output and "manager, hr" in loaded.output
    text = FLOW.replace("    steps:\n", "    disputes: {route_to: hr}\n    steps:\n", 1)
    assert run_cli("config", "load", write(tmp_path, "hr.yaml", text)).exit_code == 0
    assert run_cli("config", "publish", "-m", "disputes to HR").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    session.execute(sa.delete(ReviewAction))
    session.execute(sa.delete(Review))
    session.execute(sa.update(Scorecard).values(locked=False))
    start_reviews(session, "2026-10", "tester")
    dispute = raise_dispute(session, approve_all(session, "R2"), user(session, "rep2"), "win_rate", "x")
    assert dispute.routed_to == "hr"
    with pytest.raises(DisputeRefused, match="routed to HR"):
        resolve_dispute(session, dispute, user(session, "lead"), "reject", "no")
    resolve_dispute(session, dispute, user(session, "admin"), "reject", "administrators may always")


def test_a_value_out_of_range_is_refused_and_nothing_changes(approved):
    session = approved
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "low")
    session.commit()
    for value, message in (
        (150, "outside 0–100"),
        ("x", "not a number"),
        (True, "corrected value"),
        (None, "corrected value"),
        (float("nan"), "outside"),
    ):
        with pytest.raises(DisputeInvalid, match=message) as refused:
            resolve_dispute(session, dispute, user(session, "lead"), "accept", "ok", {"value": value})
        assert refused.value.field == "correction.value"
    session.rollback()
    assert session.get(Dispute, dispute.id).state == "open" and rating_of(session, "R1").value == 80
    assert card_of(session, "R1").locked and audited(session) == ["dispute.raise"]


# --- the REST API and the pages ----------------------------------------------------------------------


def _app(session):
    from perfrules.web import create_app

    return create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})


def _tokens(*logins):
    tokens = {}
    for login in logins:
        issued = run_cli("token", "create", login, "--name", "tests")
        tokens[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    return tokens


def test_disputes_through_the_rest_api_with_the_same_checks(approved):
    session = approved
    client = _app(session).test_client()
    tokens = _tokens("rep1", "rep2", "lead", "west", "hr")
    early = client.post(
        "/api/v1/disputes",
        json={"period": "2026-10", "employee": "R4", "item": "rating", "reason": "x"},
        headers=tokens["west"],
    )
    assert early.status_code == 409  # R4 is still in review (and not west's own)
    unknown = client.post(
        "/api/v1/disputes", json={"period": "2026-10", "item": "ratng", "reason": "low"}, headers=tokens["rep1"]
    )
    assert unknown.status_code == 422
    assert unknown.json["errors"] == [
        {"path": "json.item", "message": "the scorecard has no item 'ratng' — did you mean 'rating'?"}
    ]
    assert (
        client.post(
            "/api/v1/disputes", json={"period": "2026-13", "item": "rating", "reason": "x"}, headers=tokens["rep1"]
        ).json["errors"][0]["path"]
        == "json.period"
    )
    assert (
        client.post(
            "/api/v1/disputes", json={"period": "2026-10", "item": "rating", "reason": " "}, headers=tokens["rep1"]
        ).json["errors"][0]["path"]
        == "json.reason"
    )
    # R1's scorecard is invisible to R2: the same 404 as one that does not exist
    assert (
        client.post(
            "/api/v1/disputes",
            json={"period": "2026-10", "employee": "R1", "item": "rating", "reason": "x"},
            headers=tokens["rep2"],
        ).status_code
        == 404
    )
    refused = client.post(
        "/api/v1/disputes",
        json={"period": "2026-10", "employee": "R1", "item": "rating", "reason": "x"},
        headers=tokens["lead"],
    )
    assert refused.status_code == 409 and "only its employee" in refused.json["message"]
    raised = client.post(
        "/api/v1/disputes", json={"period": "2026-10", "item": "rating", "reason": "low"}, headers=tokens["rep1"]
    )
    assert raised.status_code == 201, raised.json
    one = raised.json
    assert (one["employee"], one["state"], one["routed_to"], one["raised_by"], one["item_kind"]) == (
        "R1",
        "open",
        "manager",
        "rep1",
        "manual",
    )
    assert one["item_label"] == {"zh": "上级评分", "en": "Manager rating"} and one["may_withdraw"] is True
    url = f"/api/v1/disputes/{one['id']}"
    assert (
        client.post(
            "/api/v1/disputes", json={"period": "2026-10", "item": "rating", "reason": "again"}, headers=tokens["rep1"]
        ).status_code
        == 409
    )
    # who sees it
    assert client.get(url, headers=tokens["rep2"]).status_code == 404
    assert client.get(url, headers=tokens["west"]).status_code == 404
    assert client.get(url, headers=tokens["lead"]).json["may_resolve"] is True
    assert client.get(url, headers=tokens["hr"]).json["may_resolve"] is True
    assert client.get(url, headers=tokens["rep1"]).json["may_resolve"] is False
    assert [d["id"] for d in client.get("/api/v1/disputes?state=open", headers=tokens["lead"]).json] == [one["id"]]
    assert client.get("/api/v1/disputes", headers=tokens["rep2"]).json == []
    assert client.get("/api/v1/disputes?state=rejected", headers=tokens["hr"]).json == []
    assert client.get("/api/v1/disputes?state=bogus", headers=tokens["hr"]).status_code == 422
    # resolving
    mine = client.post(f"{url}/resolve", json={"decision": "reject", "resolution": "no"}, headers=tokens["rep1"])
    assert mine.status_code == 409 and "their own scorecard" in mine.json["message"]
    assert (
        client.post(
            f"{url}/resolve", json={"decision": "reject", "resolution": "no"}, headers=tokens["west"]
        ).status_code
        == 404
    )
    empty = client.post(f"{url}/resolve", json={"decision": "reject", "resolution": ""}, headers=tokens["lead"])
    assert empty.status_code == 422 and empty.json["errors"][0]["path"] == "json.resolution"
    high = client.post(
        f"{url}/resolve",
        json={"decision": "accept", "resolution": "ok", "correction": {"value": 150}},
        headers=tokens["lead"],
    )
    assert high.status_code == 422 and high.json["errors"] == [
        {"path": "json.correction.value", "message": "150 is outside 0–100"}
    ]
    assert (
        client.post(f"{url}/resolve", json={"decision": "later", "resolution": "x"}, headers=tokens["lead"]).status_code
        == 422
    )
    done = client.post(
        f"{url}/resolve",
        json={"decision": "accept", "resolution": "agreed", "correction": {"value": 100}},
        headers=tokens["lead"],
    )
    assert done.status_code == 200, done.json
    assert (done.json["state"], done.json["resolved_by"], done.json["correction"]["total_after"]) == (
        "accepted",
        "lead",
        pytest.approx(108.4),
    )
    seen = client.get(url, headers=tokens["rep1"]).json  # the employee reads the resolution
    assert (seen["state"], seen["resolution"], seen["may_withdraw"]) == ("accepted", "agreed", False)
    review = client.get("/api/v1/reviews/2026-10/R1", headers=tokens["rep1"]).json
    assert (review["state"], review["step"]) == ("in_review", "self_review")
    assert client.post(f"{url}/withdraw", headers=tokens["rep1"]).status_code == 409


def test_a_delegate_resolves_through_the_api_what_they_may_not_otherwise_see(approved):
    session = approved
    dispute = raise_dispute(session, review_of(session, "R2"), user(session, "rep2"), "win_rate", "x")
    today = dt.date.today()
    session.add(
        Delegation(
            user_id=user(session, "lead").id,
            delegate_id=user(session, "west").id,
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=1),
            created_by="t",
        )
    )
    session.commit()
    client = _app(session).test_client()
    tokens = _tokens("west", "rep2")
    listed = client.get("/api/v1/disputes", headers=tokens["west"]).json
    assert [(d["id"], d["may_resolve"]) for d in listed] == [(dispute.id, True)]
    done = client.post(
        f"/api/v1/disputes/{dispute.id}/resolve",
        json={"decision": "reject", "resolution": "no"},
        headers=tokens["west"],
    )
    assert (done.status_code, done.json["on_behalf_of"], done.json["state"]) == (200, "lead", "rejected")
    seen = client.get(f"/api/v1/disputes/{dispute.id}", headers=tokens["rep2"]).json
    assert (seen["state"], seen["resolution"], seen["resolved_by"], seen["correction"]) == (
        "rejected",
        "no",
        "west",
        None,
    )
    withdrawn = client.post(f"/api/v1/disputes/{dispute.id}/withdraw", headers=tokens["rep2"])
    assert withdrawn.status_code == 409 and "already rejected" in withdrawn.json["message"]


def test_disputes_in_the_console_pages_with_csrf(approved):
    session = approved
    app = _app(session)

    def client_of(login):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert sign_in(client, login, "s3cret-pass").status_code == 302
        return client

    rep1, rep2, lead = client_of("rep1"), client_of("rep2"), client_of("lead")
    url = "/scorecards/2026-10/R1"
    page = rep1.get(url).get_data(as_text=True)
    assert 'id="raise-dispute"' in page and '<option value="rating">Manager rating · 12.0 points</option>' in page
    assert 'id="raise-dispute"' not in lead.get(url).get_data(as_text=True)  # only the employee raises
    in_review = client_of("west").get("/scorecards/2026-10/R3").get_data(as_text=True)
    assert 'id="raise-dispute"' not in in_review and 'id="disputes"' not in in_review  # not approved yet
    assert rep1.post(f"{url}/disputes", data={"item": "rating", "reason": "low"}).status_code == 400  # CSRF
    empty = rep1.post(
        f"{url}/disputes", data={"item": "rating", "reason": "", "csrf_token": csrf_token(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "a dispute needs a reason" in empty
    sent = rep1.post(
        f"{url}/disputes",
        data={"item": "rating", "reason": "<b>low</b>", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Your dispute of Manager rating is sent to the manager." in sent
    assert "&lt;b&gt;low&lt;/b&gt;" in sent and "<b>low</b>" not in sent
    assert '<option value="rating">' not in sent  # already disputed
    dispute = session.scalar(sa.select(Dispute))
    token = csrf_token(rep2.get("/").get_data(as_text=True))
    assert rep2.post(f"{url}/disputes", data={"item": "rating", "reason": "x", "csrf_token": token}).status_code == 404
    # the manager: waiting on the home page and the list, resolved from the scorecard
    home = lead.get("/").get_data(as_text=True)
    assert 'class="waiting-dispute"' in home and f"#dispute-{dispute.id}" in home
    listing = lead.get("/scorecards/disputes").get_data(as_text=True)
    assert f'id="resolve-{dispute.id}"' in listing and 'name="value"' in listing
    assert f'id="dispute-{dispute.id}"' not in rep2.get("/scorecards/disputes").get_data(as_text=True)
    page = lead.get(url).get_data(as_text=True)
    assert f'id="resolve-{dispute.id}"' in page
    resolve = f"/scorecards/disputes/{dispute.id}/resolve"
    assert lead.post(resolve, data={"decision": "reject", "resolution": "no"}).status_code == 400  # CSRF
    mine = rep1.post(
        resolve, data={"decision": "reject", "resolution": "no", "csrf_token": csrf_token(sent)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "may not resolve a dispute on their own scorecard" in mine
    rejected = lead.post(
        resolve,
        data={
            "decision": "reject",
            "resolution": "the rating stands",
            "kind": "manual",
            "csrf_token": csrf_token(page),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Dispute of Manager rating: Rejected." in rejected
    session.rollback()
    assert card_of(session, "R1").total == pytest.approx(105.4) and review_of(session, "R1").state == "locked"
    # the employee reads the resolution, and may dispute again
    shown = rep1.get(url).get_data(as_text=True)
    assert "the rating stands" in shown and 'data-state="rejected"' in shown and 'id="raise-dispute"' in shown
    assert 'class="waiting-dispute"' not in lead.get("/").get_data(as_text=True)
    # accepted from the list page with a correction
    again = rep1.post(
        f"{url}/disputes", data={"item": "rating", "reason": "still low", "csrf_token": csrf_token(shown)}
    )
    assert again.status_code == 302
    session.rollback()  # a new transaction sees what the app wrote
    second = session.scalar(sa.select(Dispute).where(Dispute.state == "open"))
    accepted = lead.post(
        f"/scorecards/disputes/{second.id}/resolve",
        data={
            "decision": "accept",
            "resolution": "fair",
            "kind": "manual",
            "value": "100",
            "back": "list",
            "csrf_token": csrf_token(listing),
        },
    )
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/scorecards/disputes")
    shown = rep1.get(url).get_data(as_text=True)
    assert "Value corrected: 80.0 → 100.0. Total 105.4 → 108.4. The scorecard was reopened for review." in shown
    assert 'id="card-total">108.4<' in shown
    withdraw = rep1.post(
        f"/scorecards/disputes/{second.id}/withdraw", data={"csrf_token": csrf_token(shown)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "already accepted" in withdraw


def test_a_ratings_import_does_not_overwrite_a_corrected_value(approved, tmp_path):
    session = approved
    dispute = raise_dispute(session, review_of(session, "R1"), user(session, "rep1"), "rating", "should be 100")
    resolve_dispute(session, dispute, user(session, "lead"), "accept", "agreed", {"value": 100})
    session.commit()
    result = run_cli(
        "ratings",
        "import",
        write(tmp_path, "again.csv", "employee,period,item,value\nR2,2026-10,rating,70\nR1,2026-10,rating,80\n"),
    )
    assert result.exit_code != 0
    assert (
        f"row 3, value: dispute {dispute.id} corrected rating of this employee and period, and its correction stands"
        in result.output
    )
    session.rollback()
    assert rating_of(session, "R1").value == 100 and rating_of(session, "R2") is None  # all or nothing
