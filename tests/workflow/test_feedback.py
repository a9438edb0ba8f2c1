"""Peer feedback (同事评价): the employee's manager, HR or an administrator asks colleagues for
their view, the employee may propose colleagues, each colleague answers (or declines) their own
request on a page that shows nothing of the scorecard, and the mean of the submitted answers
scores the manual item — never holding up a step.

The scenario's `rep` template gets a third process item fed by the peer form: growth 40, the
manager rating 40, peer feedback 20. Without answers the new item is excluded, so R1 keeps
105.4. With answers the section's 30 splits 12 / 12 / 6: 78.4 (results) + 12 (growth at 100) +
80 × 0.12 (the imported rating) + peer points × 0.06. The form's two ratings (1–5, equal
weights): rep2 answers 5 and 3 → (100 + 50) / 2 = 75, total 78.4 + 12 + 9.6 + 4.5 = 104.5; west
answers 3 and 3 → 50, so the mean is 62.5 and the total 78.4 + 12 + 9.6 + 3.75 = 103.75. The form
is anonymous: one answer alone does not count (it would be that colleague's score), so the item
has no value (105.4) until the second; a named form's first answer gives 104.5 at once.

Who is who: R1 (user rep1) and R2 (rep2) report to L1 (lead) in EAST; R3 (west) manages WEST,
R4 (rep4) reports to R3; hr, hr2 and admin are linked to no employee.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.audit import AuditEntry
from perfrules.engine.models import ManualValue
from perfrules.org.models import User
from perfrules.workflow.disputes import raise_dispute, resolve_dispute
from perfrules.workflow.engine import act
from perfrules.workflow.feedback import ask, drop, peer_forms, suggestions
from perfrules.workflow.feedback_answers import answer, asked_of, decline, one_asked
from perfrules.workflow.feedback_models import FeedbackRequest
from perfrules.workflow.feedback_views import feedback_view
from perfrules.workflow.forms import FormError, rescore, save_response
from perfrules.workflow.steps import WorkflowError

from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write
from .test_engine import FLOW, create_users, review_of, user
from .test_forms import card_of

pytestmark = pytest.mark.database

PEER_FORM = """
forms:
  - slug: peer_view
    label: {zh: 同事评价, en: Peer view}
    filled_by: peer
    fields:
      - {name: collaboration, label: {zh: 协作, en: Collaboration}, type: rating, min: 1, max: 5}
      - {name: helpfulness, label: {zh: 乐于助人, en: Helpfulness}, type: rating, min: 1, max: 5}
      - {name: comment, label: {zh: 评语, en: Comment}, type: text, required: false}
"""
REP2 = {"collaboration": "5", "helpfulness": "3", "comment": "always <b>helps</b>"}
WEST = {"collaboration": 3, "helpfulness": 3, "comment": "a good partner"}
LATER = dt.date.today() + dt.timedelta(days=7)


def _publish(tmp_path, form: str) -> None:
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
        if template["slug"] == "rep":
            process = template["sections"][1]["items"]
            process[0]["weight"], process[1]["weight"] = 40, 40
            process.append(
                {
                    "manual": "peer",
                    "label": {"zh": "同事评价", "en": "Peer feedback"},
                    "form": "peer_view",
                    "weight": 20,
                }
            )
    text = FLOW + form + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True)
    loaded = run_cli("config", "load", write(tmp_path, "peer.yaml", text))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "peer feedback").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


def _ask_peers(folder: Path) -> None:
    """The lifecycle's users and rep4 (R4); the anonymous peer form on `rep`, published; 2026-10 run."""
    create_users()
    add_users([("rep4", "employee", "R4")], "s3cret-pass")
    _publish(folder, PEER_FORM)


@pytest.fixture
@starting_state(_ask_peers, parent="company")
def peers(company, cli_env, session):
    """The scenario company with the lifecycle's users and rep4, the flow `standard` and the
    anonymous peer form feeding `rep`'s third process item, 2026-10 evaluated (reviews open at
    the self-review). The test's session."""
    session.rollback()
    return session


def _ask_named_peers(folder: Path) -> None:
    """The lifecycle's users; the peer form, not anonymous, on `rep`, published; 2026-10 run."""
    create_users()
    _publish(folder, PEER_FORM.replace("filled_by: peer", "filled_by: peer\n    anonymous: false"))


@pytest.fixture
@starting_state(_ask_named_peers, parent="company")
def named_peers(company, cli_env, session):
    """As `peers`, with a named (not anonymous) peer form and without rep4. The test's session."""
    session.rollback()
    return session


def requests_of(session, code="R1") -> dict[str, FeedbackRequest]:
    """The requests about `code`'s scorecard, by the login of the colleague asked."""
    review = review_of(session, code)
    rows = session.execute(
        sa.select(FeedbackRequest, User.login)
        .join(User, User.id == FeedbackRequest.peer_id)
        .where(FeedbackRequest.employee_id == review.employee_id)
    ).all()
    return {login: request for request, login in rows}


def asked(session, login, code="R1"):
    """The request asked of `login` about `code`, as the peer sees it."""
    request = requests_of(session, code)[login]
    return one_asked(session, user(session, login), request.id)


def peer_points(session, code="R1") -> float | None:
    review = review_of(session, code)
    return session.scalar(
        sa.select(ManualValue.value).where(
            ManualValue.period == "2026-10", ManualValue.employee_id == review.employee_id, ManualValue.item == "peer"
        )
    )


def approve_through(session, review, *logins):
    for login in logins:
        act(session, review, user(session, login), "approve")


# --- asking --------------------------------------------------------------------------------------


def test_the_manager_hr_or_an_admin_asks_colleagues_each_once(peers):
    session = peers
    review = review_of(session, "R1")
    [need] = peer_forms(session, review)
    assert (need.slug, need.items, need.users, need.at_its_step) == ("peer_view", ["peer"], set(), False)
    made = ask(session, review, user(session, "lead"), "peer_view", ["rep2", " west ", "rep2"], due_on=LATER)
    assert [(r.state, r.due_on, r.requested_by) for r in made] == [("requested", LATER, user(session, "lead").id)] * 2
    ask(session, review, user(session, "hr"), "peer_view", ["rep4"])
    assert set(requests_of(session)) == {"rep2", "west", "rep4"}
    audited = session.scalars(
        sa.select(AuditEntry.after).where(AuditEntry.action == "feedback.ask").order_by(AuditEntry.id)
    ).all()
    assert audited == [{"peers": ["rep2", "west"], "due_on": LATER.isoformat()}, {"peers": ["rep4"], "due_on": None}]
    # nobody else asks: not a colleague, not a manager of another department, not the employee
    for login in ("rep2", "west"):
        with pytest.raises(WorkflowError, match=f"{login} may not ask for feedback on this scorecard"):
            ask(session, review, user(session, login), "peer_view", ["rep4"])


def test_who_may_be_asked_is_checked_for_each_colleague_and_nothing_changes_when_one_fails(peers):
    session = peers
    review = review_of(session, "R1")
    lead = user(session, "lead")
    ask(session, review, lead, "peer_view", ["rep2"])
    with pytest.raises(WorkflowError) as refused:
        ask(session, review, lead, "peer_view", ["rep4", "rep1", "lead", "rep2", "nobody", "hr"])
    assert str(refused.value) == (
        "rep1: nobody gives peer feedback on their own scorecard; "
        "lead is the employee's manager: their say is the manager's rating; "
        "rep2 has already been asked for the Peer view; there is no active user 'nobody'; "
        "hr is not linked to an employee: only colleagues give peer feedback"
    )
    assert set(requests_of(session)) == {"rep2"}  # rep4 was fine, but nothing is half done
    with pytest.raises(WorkflowError, match="the due date .* has passed"):
        ask(session, review, lead, "peer_view", ["rep4"], due_on=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(WorkflowError, match="name at least one colleague"):
        ask(session, review, lead, "peer_view", [" ", ""])
    with pytest.raises(WorkflowError, match="no peer feedback form 'self_note'"):
        ask(session, review, lead, "self_note", ["rep4"])
    # an administrator linked to an employee does not ask themselves
    admin, rep4 = user(session, "admin"), user(session, "rep4")
    r4, rep4.employee_id = rep4.employee_id, None
    session.flush()  # one user per employee: rep4 lets go of R4 first
    admin.employee_id = r4
    session.flush()
    with pytest.raises(WorkflowError, match="admin: ask a colleague, not yourself"):
        ask(session, review, admin, "peer_view", ["admin"])


def test_feedback_is_asked_for_only_while_the_scorecard_is_under_review(peers):
    session = peers
    review = review_of(session, "R1")
    approve_through(session, review, "rep1", "lead", "hr", "lead")
    assert review.state == "approved"
    for login in ("lead", "hr", "rep1"):
        with pytest.raises(WorkflowError, match="only while the scorecard is under review"):
            ask(session, review, user(session, login), "peer_view", ["rep4"])


def test_the_employee_proposes_colleagues_and_the_manager_asks_or_drops_them(peers):
    session = peers
    review = review_of(session, "R1")
    rep1, lead = user(session, "rep1"), user(session, "lead")
    proposed = ask(session, review, rep1, "peer_view", ["rep2", "west"])
    assert [(r.state, r.proposed_by, r.requested_by) for r in proposed] == [("proposed", rep1.id, None)] * 2
    assert asked_of(session, user(session, "rep2")) == []  # a proposal reaches nobody
    with pytest.raises(WorkflowError, match="rep2 has already been proposed"):
        ask(session, review, rep1, "peer_view", ["rep2"])
    with pytest.raises(WorkflowError, match="the one who asks sets the due date"):
        ask(session, review, rep1, "peer_view", ["rep4"], due_on=LATER)
    # the manager confirms one by asking them, and drops the other
    ask(session, review, lead, "peer_view", ["rep2"], due_on=LATER)
    requests = requests_of(session)
    assert (requests["rep2"].state, requests["rep2"].proposed_by, requests["rep2"].due_on) == (
        "requested",
        rep1.id,
        LATER,
    )
    assert [a.colleague for a in asked_of(session, user(session, "rep2"))] == ["销售一"]
    with pytest.raises(WorkflowError, match="rep2 may not drop this proposal"):
        drop(session, review, requests["west"], user(session, "rep2"))
    drop(session, review, requests["west"], lead)
    with pytest.raises(WorkflowError, match="only a proposal can be dropped"):
        drop(session, review, requests["rep2"], rep1)
    assert set(requests_of(session)) == {"rep2"}
    # the employee withdraws their own proposal
    ask(session, review, rep1, "peer_view", ["rep4"])
    drop(session, review, requests_of(session)["rep4"], rep1)
    assert set(requests_of(session)) == {"rep2"}
    actions = session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.kind == "feedback_requests").order_by(AuditEntry.id)
    ).all()
    assert actions == ["feedback.propose", "feedback.ask", "feedback.drop", "feedback.propose", "feedback.drop"]


# --- answering -----------------------------------------------------------------------------------


def test_each_peer_answers_their_own_and_the_mean_of_the_submitted_scores_the_item(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west", "rep4"])
    assert card_of(session, "R1").total == pytest.approx(105.4)  # the peer item has no value yet
    rep2, west = user(session, "rep2"), user(session, "west")
    mine = asked(session, "rep2")
    assert (mine.colleague, mine.request.period, mine.label["en"], mine.waiting) == (
        "销售一",
        "2026-10",
        "Peer view",
        True,
    )
    with pytest.raises(WorkflowError, match="west was not asked for this feedback"):
        answer(session, mine, west, WEST, submit=True)
    assert one_asked(session, west, mine.request.id) is None  # nor may they look at it
    with pytest.raises(FormError) as wrong:
        answer(session, mine, rep2, {"collaboration": "6", "mood": "3"}, submit=True)
    assert wrong.value.errors == {
        "mood": "not a field of this form",
        "collaboration": "6 is outside 1–5",
        "helpfulness": "required",
    }
    answer(session, mine, rep2, {"collaboration": "4"}, submit=False)
    assert (mine.request.state, mine.request.values, peer_points(session)) == ("draft", {"collaboration": 4}, None)
    answer(session, mine, rep2, REP2, submit=True)
    session.commit()
    assert mine.request.state == "submitted" and mine.request.submitted_at is not None
    # one answer of an anonymous form would be that colleague's score: the item waits for two
    assert peer_points(session) is None
    assert card_of(session, "R1").total == pytest.approx(105.4)
    answer(session, asked(session, "west"), west, WEST, submit=True)
    session.commit()
    session.expire_all()
    assert peer_points(session) == pytest.approx(62.5)
    card = card_of(session, "R1")
    assert card.total == pytest.approx(103.75)
    assert {i["key"]: i for i in card.items}["peer"]["points"] == pytest.approx(3.75)
    assert card_of(session, "R2").total == pytest.approx(60)  # nobody else was touched
    source = session.scalar(sa.select(ManualValue.source).where(ManualValue.item == "peer"))
    assert source == "peer feedback peer_view (2 answers)"  # names no one
    # submitted again while the review is open; a draft is not taken once submitted
    answer(session, asked(session, "rep2"), rep2, {**REP2, "helpfulness": "5"}, submit=True)
    assert peer_points(session) == pytest.approx(75)  # (100 + 50) / 2
    with pytest.raises(WorkflowError, match="already submitted: submit it again"):
        answer(session, asked(session, "rep2"), rep2, REP2, submit=False)
    audited = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "feedback.submit").order_by(AuditEntry.id)
    ).all()
    assert [a.after.get("points") for a in audited] == [None, {"peer": 62.5}, {"peer": 75}]
    assert audited[1].before["points"] == {} and audited[2].before["points"] == {"peer": 62.5}


def test_a_peer_declines_with_a_reason_and_the_item_stays_without_value(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    rep2 = user(session, "rep2")
    answer(session, asked(session, "rep2"), rep2, {"collaboration": 4}, submit=False)
    with pytest.raises(WorkflowError, match="say why: declining needs a reason"):
        decline(session, asked(session, "rep2"), rep2, "  ")
    declined = decline(session, asked(session, "rep2"), rep2, "we have not worked together")
    assert (declined.state, declined.decline_reason, declined.values) == ("declined", "we have not worked together", {})
    with pytest.raises(WorkflowError, match="you declined this request"):
        answer(session, asked(session, "rep2"), rep2, REP2, submit=True)
    assert peer_points(session) is None and card_of(session, "R1").total == pytest.approx(105.4)
    assert not asked(session, "rep2").waiting
    west = user(session, "west")
    answer(session, asked(session, "west"), west, WEST, submit=True)
    with pytest.raises(WorkflowError, match="submitted and counts: it can be changed, not declined"):
        decline(session, asked(session, "west"), west, "changed my mind")
    with pytest.raises(WorkflowError, match="has already been asked"):  # declined is asked: never twice
        ask(session, review, user(session, "lead"), "peer_view", ["rep2"])


def test_peer_feedback_never_holds_up_a_step_and_closes_with_the_review(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    approve_through(session, review, "rep1", "lead", "hr", "lead")  # rep2 has not answered: no matter
    assert review.state == "approved"
    assert asked_of(session, user(session, "rep2"), waiting_only=True) == []
    with pytest.raises(WorkflowError, match="feedback on this scorecard is closed: it is approved"):
        answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    with pytest.raises(WorkflowError, match="closed: it is approved"):
        decline(session, asked(session, "rep2"), user(session, "rep2"), "too late")
    act(session, review, user(session, "hr"), "lock")
    with pytest.raises(WorkflowError, match="closed: it is locked"):
        answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    # the peer form is no one's to fill through the forms of the scorecard
    with pytest.raises(WorkflowError, match="filled by the colleagues asked for it"):
        save_response(session, review, user(session, "lead"), "peer_view", WEST, submit=True)


def test_a_locked_scorecard_keeps_its_total(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    card_of(session, "R1").locked = True
    session.flush()
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    session.commit()
    session.expire_all()
    assert card_of(session, "R1").total == pytest.approx(105.4) and peer_points(session) == pytest.approx(62.5)


# --- who sees what -------------------------------------------------------------------------------


def _view(session, login):
    review = review_of(session, "R1")
    [need] = peer_forms(session, review)
    return feedback_view(session, review, need, user(session, login))


def test_the_manager_and_hr_see_each_answer_the_employee_only_anonymous_ones_past_the_minimum(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "rep1"), "peer_view", ["rep4"])
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    for login in ("lead", "hr", "admin"):
        seen = _view(session, login)
        assert seen["individual"] and seen["may_ask"] and seen["summary"] is not None
        assert {r["peer"]: r["state"] for r in seen["requests"]} == {
            "rep4": "proposed",
            "rep2": "submitted",
            "west": "requested",
        }
        assert {r["peer"]: r["answers"] for r in seen["requests"]}["rep2"] == {
            "collaboration": 5,
            "helpfulness": 3,
            "comment": "always <b>helps</b>",
        }
    own = _view(session, "rep1")
    assert (own["individual"], own["may_ask"], own["may_propose"], own["asked"], own["answered"]) == (
        False,
        False,
        True,
        2,
        1,
    )
    # one answer could be traced to one person: neither the points nor the summary show it
    assert (own["points"], own["counts"], own["summary"]) == (None, False, None)
    assert _view(session, "lead")["points"] is None  # the item has no value for anyone yet
    assert own["requests"] == [
        {"id": requests_of(session)["rep4"].id, "peer": "rep4", "name": "销售四", "state": "proposed", "proposed": True}
    ]
    answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    own = _view(session, "rep1")
    summary = {field["name"]: field for field in own["summary"]}
    assert own["counts"] and own["points"] == pytest.approx(62.5)
    assert summary["collaboration"]["mean"] == pytest.approx(4) and summary["helpfulness"]["count"] == 2
    assert summary["comment"]["answers"] == [
        {"text": "a good partner", "by": None},
        {"text": "always <b>helps</b>", "by": None},
    ]
    assert "answers" not in str(own["requests"])


def test_a_named_form_shows_the_employee_who_said_what(named_peers):
    session = named_peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2"])
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    own = _view(session, "rep1")
    assert own["anonymous"] is False and not own["individual"]
    assert {f["name"]: f for f in own["summary"]}["comment"]["answers"] == [
        {"text": "always <b>helps</b>", "by": "销售二"}
    ]


def test_only_peer_forms_say_whether_they_are_anonymous(company, cli_env, tmp_path):
    text = PEER_FORM.replace("filled_by: peer", "filled_by: manager\n    anonymous: true")
    loaded = run_cli("config", "load", write(tmp_path, "bad.yaml", text))
    assert loaded.exit_code != 0 and "only peer forms are anonymous or not" in loaded.output


# --- anonymity, an accepted dispute, who is offered ---------------------------------------------


def _submits(session) -> list[AuditEntry]:
    return session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "feedback.submit").order_by(AuditEntry.id)
    ).all()


def test_one_anonymous_answer_gives_no_value_and_removes_one_peer_feedback_wrote_before(peers):
    """Below the minimum the item has no value, so that neither the points nor the total say what
    one colleague gave; a value peer feedback wrote from one answer before this rule is removed."""
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    session.add(
        ManualValue(
            period="2026-10",
            employee_id=review.employee_id,
            item="peer",
            value=75.0,
            source="peer feedback peer_view (1 answers)",
            updated_at=dt.datetime.now(dt.UTC),
        )
    )
    session.flush()
    rescore(session, review)
    assert card_of(session, "R1").total == pytest.approx(104.5)  # what one answer used to show
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    assert peer_points(session) is None
    card = card_of(session, "R1")
    assert card.total == pytest.approx(105.4) and {i["key"]: i for i in card.items}["peer"].get("points") is None
    assert (_submits(session)[-1].before["points"], _submits(session)[-1].after["points"]) == (
        {"peer": 75.0},
        {"peer": None},
    )
    own = _view(session, "rep1")
    assert (own["answered"], own["points"], own["counts"], own["summary"]) == (1, None, False, None)
    # the second answer counts both
    answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    assert peer_points(session) == pytest.approx(62.5) and card_of(session, "R1").total == pytest.approx(103.75)


def test_below_the_minimum_a_value_from_elsewhere_stays(peers):
    session = peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    session.add(
        ManualValue(
            period="2026-10",
            employee_id=review.employee_id,
            item="peer",
            value=40.0,
            source="import peer.csv",
            updated_at=dt.datetime.now(dt.UTC),
        )
    )
    session.flush()
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    assert peer_points(session) == pytest.approx(40) and "points" not in _submits(session)[-1].after


def test_a_named_form_scores_from_the_first_answer(named_peers):
    session = named_peers
    review = review_of(session, "R1")
    ask(session, review, user(session, "lead"), "peer_view", ["rep2", "west"])
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    assert peer_points(session) == pytest.approx(75) and card_of(session, "R1").total == pytest.approx(104.5)
    own = _view(session, "rep1")
    assert (own["answered"], own["points"], own["counts"]) == (1, pytest.approx(75), True)


def test_an_accepted_dispute_s_correction_stands_against_later_peer_answers(peers):
    """Accepting a dispute reopens the review, which would open the peer form again: instead the
    correction stands, and the form takes no more answers, declines or colleagues."""
    session = peers
    review = review_of(session, "R1")
    lead, rep1 = user(session, "lead"), user(session, "rep1")
    ask(session, review, lead, "peer_view", ["rep2", "west", "rep4"])
    answer(session, asked(session, "rep2"), user(session, "rep2"), REP2, submit=True)
    answer(session, asked(session, "west"), user(session, "west"), WEST, submit=True)
    approve_through(session, review, "rep1", "lead", "hr", "lead")
    dispute = raise_dispute(session, review, rep1, "peer", "the Q3 project was left out")
    resolve_dispute(session, dispute, lead, "accept", "agreed", {"value": 90})
    assert review.state == "in_review" and peer_points(session) == pytest.approx(90)
    total = card_of(session, "R1").total
    for login, values in (("rep2", {**REP2, "helpfulness": "1"}), ("rep4", WEST)):
        mine = asked(session, login)
        assert mine.settled and not mine.may_answer and not mine.waiting
        with pytest.raises(WorkflowError, match="this feedback is closed: the value it would give has been settled"):
            answer(session, mine, user(session, login), values, submit=True)
    with pytest.raises(WorkflowError, match="this feedback is closed"):
        answer(session, asked(session, "rep4"), user(session, "rep4"), {"collaboration": 2}, submit=False)
    with pytest.raises(WorkflowError, match="this feedback is closed"):
        decline(session, asked(session, "rep4"), user(session, "rep4"), "busy")
    assert asked_of(session, user(session, "rep4"), waiting_only=True) == []
    for login in ("hr", "rep1"):
        with pytest.raises(
            WorkflowError,
            match=f"the Peer view is closed: dispute {dispute.id} corrected 'peer', "
            "and that correction stands: nobody more is asked",
        ):
            ask(session, review, user(session, login), "peer_view", ["admin"])
    assert peer_points(session) == pytest.approx(90) and card_of(session, "R1").total == pytest.approx(total)
    own, managed = _view(session, "rep1"), _view(session, "lead")
    assert (own["settled"], own["points"], own["may_propose"]) == (True, None, False)
    assert managed["settled"] and not managed["may_ask"]
    # the pages say so: to the colleague without a word of the dispute
    session.commit()
    app = _app(session)
    page = _client(app, "rep2").get(f"/feedback/{requests_of(session)['rep2'].id}").get_data(as_text=True)
    assert "This feedback is closed: the value it would give has been settled" in page
    assert f"dispute {dispute.id}" not in page and "the Q3 project" not in page
    card = _client(app, "rep1").get("/scorecards/2026-10/R1").get_data(as_text=True)
    assert 'id="feedback-settled-peer_view"' in card and 'id="ask-peer_view"' not in card


def test_the_employee_is_offered_their_department_and_refused_without_account_details(peers):
    session = peers
    review = review_of(session, "R1")
    rep1, lead, hr = user(session, "rep1"), user(session, "lead"), user(session, "hr")
    assert suggestions(session, review, rep1) == [("rep2", "销售二")]  # EAST (and below), not WEST
    offered = suggestions(session, review, lead)
    assert offered[0] == ("rep2", "销售二") and {login for login, _ in offered} == {"rep2", "west", "rep4"}
    assert suggestions(session, review, hr) == offered
    ask(session, review, lead, "peer_view", ["west"])
    ask(session, review, rep1, "peer_view", ["rep4"])  # another department may still be proposed
    with pytest.raises(WorkflowError) as refused:
        ask(session, review, rep1, "peer_view", ["nobody", "hr2", "lead", "west", "rep1", "rep4"])
    assert str(refused.value) == (
        "nobody cannot be proposed; hr2 cannot be proposed; lead cannot be proposed; west cannot be proposed; "
        "rep1: nobody gives peer feedback on their own scorecard; rep4 has already been proposed for the Peer view"
    )
    # those who ask still read why
    with pytest.raises(WorkflowError) as detailed:
        ask(session, review, hr, "peer_view", ["nobody", "hr2", "west"])
    assert str(detailed.value) == (
        "there is no active user 'nobody'; hr2 is not linked to an employee: only colleagues "
        "give peer feedback; west has already been asked for the Peer view"
    )


# --- at the same moment --------------------------------------------------------------------------


def _race(db_engine, first, second) -> dict:
    """Run `second(session)` in another thread and session, writing as a web request does, while
    `first` holds its uncommitted work; commit `first`, then let `second` finish. What `second`
    returned, or the WorkflowError it raised."""
    import threading

    from perfrules.db.engine import make_sessionmaker

    outcome = {}

    def second_request():
        with make_sessionmaker(db_engine, write=True)() as other:
            try:
                outcome["result"] = second(other)
                other.commit()
            except WorkflowError as exc:
                outcome["result"] = str(exc)

    racer = threading.Thread(target=second_request)
    racer.start()
    racer.join(timeout=1)  # it waits on the first transaction
    first.commit()
    racer.join(timeout=30)
    first.rollback()  # a new snapshot: see what both committed
    first.expire_all()
    return outcome


def test_two_colleagues_submitting_at_once_each_count_the_other(peers, db_engine):
    first = peers
    ask(first, review_of(first, "R1"), user(first, "lead"), "peer_view", ["rep2", "west"])
    first.commit()
    answer(first, asked(first, "rep2"), user(first, "rep2"), REP2, submit=True)  # flushed, not committed

    def west_submits(other):
        answer(other, asked(other, "west"), user(other, "west"), WEST, submit=True)
        return "submitted"

    assert _race(db_engine, first, west_submits) == {"result": "submitted"}
    assert peer_points(first) == pytest.approx(62.5)  # the mean of both, not of one
    assert (
        first.scalar(sa.select(ManualValue.source).where(ManualValue.item == "peer"))
        == "peer feedback peer_view (2 answers)"
    )
    assert card_of(first, "R1").total == pytest.approx(103.75)


@pytest.mark.parametrize(
    "second, refusal", [("hr", "rep2 has already been asked for the Peer view"), ("rep1", "rep2 cannot be proposed")]
)
def test_two_people_asking_the_same_colleague_at_once_give_one_request_and_one_refusal(
    peers, db_engine, second, refusal
):
    """The second's check runs before the first commits; the unique key decides, and the loser
    gets the same refusal as a plain duplicate, not an error."""
    first = peers
    ask(first, review_of(first, "R1"), user(first, "lead"), "peer_view", ["rep2"])  # flushed, not committed

    def second_asks(other):
        ask(other, review_of(other, "R1"), user(other, second), "peer_view", ["rep2"])
        return "asked"

    assert _race(db_engine, first, second_asks) == {"result": refusal}
    requests = requests_of(first)
    assert list(requests) == ["rep2"] and (requests["rep2"].state, requests["rep2"].requested_by) == (
        "requested",
        user(first, "lead").id,
    )


# --- the pages and the API -----------------------------------------------------------------------


def _app(session):
    from perfrules.web import create_app

    return create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})


def _client(app, login):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(client, login, "s3cret-pass").status_code == 302
    return client


def test_the_pages_ask_answer_and_decline_with_csrf_and_show_nothing_of_the_scorecard(peers):
    session = peers
    app = _app(session)
    lead, rep1, rep2, west = (_client(app, login) for login in ("lead", "rep1", "rep2", "west"))
    card = "/scorecards/2026-10/R1"
    page = lead.get(card).get_data(as_text=True)
    assert 'id="ask-peer_view"' in page and '<option value="rep2">' in page
    token = csrf_token(page)
    ask_url = "/feedback/ask/2026-10/R1/peer_view"
    assert lead.post(ask_url, data={"peers": "rep2, west"}).status_code == 400  # CSRF
    asked_page = lead.post(
        ask_url,
        data={"peers": "rep2, west，rep4", "due_on": LATER.isoformat(), "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        "Feedback asked of rep2, west, rep4." in asked_page and 'data-peer="west" data-state="requested"' in asked_page
    )
    refused = lead.post(ask_url, data={"peers": "rep1", "csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "rep1: nobody gives peer feedback on their own scorecard" in refused
    bad_date = lead.post(
        ask_url, data={"peers": "rep4", "due_on": "soon", "csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "soon is not a date (YYYY-MM-DD)" in bad_date
    # the peer: on the home page and the list, the colleague's name, the period, the form — no scorecard
    home = rep2.get("/").get_data(as_text=True)
    assert 'class="waiting-feedback"' in home and "Feedback on 销售一 · 2026-10" in home
    session.rollback()  # a new snapshot: see what the pages committed
    request_id = requests_of(session)["rep2"].id
    listing = rep2.get("/feedback").get_data(as_text=True)
    assert f'data-request="{request_id}"' in listing and "销售一" in listing and "Peer view" in listing
    form = rep2.get(f"/feedback/{request_id}").get_data(as_text=True)
    assert 'name="collaboration" value="5"' in form and "销售一" in form
    for secret in ("105.4", "card-total", 'data-employee="R1"', "/scorecards/2026-10/R1", "Attainment", "Win rate"):
        assert secret not in form, secret
    assert rep2.get(card).status_code == 404 and west.get(card).status_code == 404
    for other in (west, rep1, lead):  # nobody else opens or answers rep2's request
        assert other.get(f"/feedback/{request_id}").status_code == 404
        own_token = csrf_token(other.get("/").get_data(as_text=True))
        for path in (f"/feedback/{request_id}", f"/feedback/{request_id}/decline"):
            response = other.post(path, data={**REP2, "action": "submit", "reason": "x", "csrf_token": own_token})
            assert response.status_code == 404, path
    answer_url = f"/feedback/{request_id}"
    assert rep2.post(answer_url, data={**REP2, "action": "submit"}).status_code == 400  # CSRF
    peer_token = csrf_token(form)
    wrong = rep2.post(
        answer_url, data={"collaboration": "9", "action": "submit", "csrf_token": peer_token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Collaboration: 9 is outside 1–5" in wrong and "Helpfulness: required" in wrong
    done = rep2.post(
        answer_url, data={**REP2, "action": "submit", "csrf_token": peer_token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Thank you: your feedback is submitted." in done
    session.rollback()
    assert card_of(session, "R1").total == pytest.approx(105.4)  # one anonymous answer does not count
    # west declines on the page
    west_id = requests_of(session)["west"].id
    west_page = west.get(f"/feedback/{west_id}").get_data(as_text=True)
    assert west.post(f"/feedback/{west_id}/decline", data={"reason": "x"}).status_code == 400  # CSRF
    no_reason = west.post(
        f"/feedback/{west_id}/decline", data={"reason": " ", "csrf_token": csrf_token(west_page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "say why: declining needs a reason" in no_reason
    declined = west.post(
        f"/feedback/{west_id}/decline",
        data={"reason": "not my team", "csrf_token": csrf_token(west_page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "You declined this request: not my team" in declined
    # the manager sees who said what; the employee the count and, with one answer, no details
    managed = lead.get(card).get_data(as_text=True)
    assert 'data-peer="rep2" data-state="submitted"' in managed and "not my team" in managed
    assert "always &lt;b&gt;helps&lt;/b&gt;" in managed and "<b>helps</b>" not in managed
    own = rep1.get(card).get_data(as_text=True)
    assert "1 of the 3 colleagues asked have answered." in own and 'id="feedback-withheld-peer_view"' in own
    assert "The item counts once 2 colleagues have answered." in own and "points (the mean)" not in own
    assert 'id="feedback-requests-peer_view"' not in own and 'data-peer="rep2"' not in own
    assert "always" not in own and "not my team" not in own
    # the employee is offered the colleagues of their own department only (R2; not WEST's)
    assert '<option value="rep2">' in own and '<option value="west">' not in own and '<option value="rep4">' not in own
    # the employee's proposals are checked like any request, and the refusal says nothing of the account
    proposed = rep1.post(ask_url, data={"peers": "hr2", "csrf_token": csrf_token(own)}, follow_redirects=True)
    assert "hr2 cannot be proposed" in proposed.get_data(as_text=True)
    assert "not linked" not in proposed.get_data(as_text=True)


def test_the_api_with_the_same_checks_and_no_scorecard_for_the_peer(peers):
    session = peers
    client = _app(session).test_client()
    tokens = {}
    for login in ("rep1", "rep2", "lead", "west", "hr"):
        issued = run_cli("token", "create", login, "--name", "tests")
        tokens[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    review_url = "/api/v1/reviews/2026-10/R1/feedback"
    refused = client.post(review_url, json={"form": "peer_view", "peers": ["rep4"]}, headers=tokens["west"])
    assert refused.status_code == 404  # west may not even see R1's scorecard
    asked_by = client.post(
        review_url,
        json={"form": "peer_view", "peers": ["rep2", "west"], "due_on": LATER.isoformat()},
        headers=tokens["lead"],
    )
    assert asked_by.status_code == 200, asked_by.json
    assert [(r["peer"], r["state"], r["due_on"]) for r in asked_by.json["requests"]] == [
        ("rep2", "requested", LATER.isoformat()),
        ("west", "requested", LATER.isoformat()),
    ]
    twice = client.post(review_url, json={"form": "peer_view", "peers": ["rep2"]}, headers=tokens["hr"])
    assert twice.status_code == 409 and twice.json["message"] == "rep2 has already been asked for the Peer view"
    proposed = client.post(review_url, json={"form": "peer_view", "peers": ["rep4"]}, headers=tokens["rep1"])
    assert proposed.status_code == 200 and proposed.json["requests"][0]["state"] == "proposed"
    # the peer: their requests, nothing of the scorecard
    mine = client.get("/api/v1/feedback", headers=tokens["rep2"]).json
    assert [(m["colleague"], m["period"], m["form"], m["state"]) for m in mine] == [
        ("销售一", "2026-10", "peer_view", "requested")
    ]
    assert set(mine[0]) == {
        "id",
        "colleague",
        "period",
        "form",
        "label",
        "fields",
        "state",
        "values",
        "due_on",
        "overdue",
        "requested_at",
        "submitted_at",
        "decline_reason",
        "may_answer",
    }
    url = f"/api/v1/feedback/{mine[0]['id']}"
    for path in (
        "/api/v1/scorecards/2026-10/R1",
        "/api/v1/reviews/2026-10/R1",
        review_url,
        "/api/v1/reviews/2026-10/R1/forms/peer_view",
    ):
        assert client.get(path, headers=tokens["rep2"]).status_code == 404, path
    for login in ("west", "lead", "rep1"):
        assert client.get(url, headers=tokens[login]).status_code == 404
        assert client.put(url, json={"values": WEST, "submit": True}, headers=tokens[login]).status_code == 404
        assert client.post(f"{url}/decline", json={"reason": "x"}, headers=tokens[login]).status_code == 404
    bad = client.put(url, json={"values": {"collaboration": 0}, "submit": True}, headers=tokens["rep2"])
    assert bad.status_code == 422 and bad.json["errors"] == [
        {"path": "json.values.collaboration", "message": "0 is outside 1–5"},
        {"path": "json.values.helpfulness", "message": "required"},
    ]
    saved = client.put(url, json={"values": REP2, "submit": True}, headers=tokens["rep2"])
    assert saved.status_code == 200 and saved.json["state"] == "submitted"
    assert client.post(f"{url}/decline", json={"reason": "x"}, headers=tokens["rep2"]).status_code == 409
    west_id = next(m["id"] for m in client.get("/api/v1/feedback", headers=tokens["west"]).json)
    no_reason = client.post(f"/api/v1/feedback/{west_id}/decline", json={}, headers=tokens["west"])
    assert no_reason.status_code == 409 and no_reason.json["message"] == "say why: declining needs a reason"
    assert (
        client.post(f"/api/v1/feedback/{west_id}/decline", json={"reason": "not my team"}, headers=tokens["west"]).json[
            "state"
        ]
        == "declined"
    )
    # one answer of an anonymous form does not count
    assert client.get("/api/v1/scorecards/2026-10/R1", headers=tokens["rep1"]).json["total"] == pytest.approx(105.4)
    # the employee: counts, their proposal, no names and (one answer) no points and no summary
    [own] = client.get(review_url, headers=tokens["rep1"]).json
    assert (own["asked"], own["answered"], own["individual"], own["summary"]) == (2, 1, False, None)
    assert (own["points"], own["counts"], own["anonymity_minimum"], own["settled"]) == (None, False, 2, False)
    assert [(r["peer"], r["state"]) for r in own["requests"]] == [("rep4", "proposed")]
    assert "rep2" not in str(own) and "not my team" not in str(own)
    [managed] = client.get(review_url, headers=tokens["lead"]).json
    assert {r["peer"]: r["state"] for r in managed["requests"]} == {
        "rep2": "submitted",
        "west": "declined",
        "rep4": "proposed",
    }
    proposal = next(r["id"] for r in managed["requests"] if r["peer"] == "rep4")
    assert client.delete(f"{review_url}/{proposal}", headers=tokens["rep2"]).status_code == 404
    asked_id = next(r["id"] for r in managed["requests"] if r["peer"] == "rep2")
    assert client.delete(f"{review_url}/{asked_id}", headers=tokens["rep1"]).status_code == 409
    assert client.delete(f"{review_url}/{proposal}", headers=tokens["lead"]).status_code == 204
    assert len(client.get(review_url, headers=tokens["lead"]).json[0]["requests"]) == 2
