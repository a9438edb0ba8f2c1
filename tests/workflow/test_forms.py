"""Appraisal forms: the scenario's `rep` template collects its manual item `rating` through a
manager form. The form is filled by the right person at the right step only, every answer is
checked against its field, the step cannot be approved until the form is submitted, and
submitting turns the ratings into the item's points and scores the employee again.

R1 (manager L1, user `lead`) scores 105.4 with an imported rating of 80 (15 % of the total → 12
points). The form's ratings are attitude (1–5, weight 3) and teamwork (1–5, weight 1): attitude 5
and teamwork 3 normalise to 100 and 50, so the item scores (3 × 100 + 1 × 50) / 4 = 87.5, worth
87.5 × 0.15 = 13.125 points, and the total becomes 105.4 − 12 + 13.125 = 106.525.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.audit import AuditEntry
from perfrules.engine.models import ManualValue, Scorecard
from perfrules.org.models import Employee
from perfrules.workflow.engine import act
from perfrules.workflow.forms import FormError, forms_for, save_response
from perfrules.workflow.models import FormResponse, Review
from perfrules.workflow.steps import WorkflowError

from ..helpers import csrf_token, run_cli, sign_in, starting_state, write
from .test_engine import FLOW, create_users, review_of, user

pytestmark = pytest.mark.database

FORM = """
forms:
  - slug: rep_rating
    label: {zh: 销售评分, en: Rep rating}
    filled_by: manager
    fields:
      - name: attitude
        label: {zh: 工作态度, en: Attitude}
        type: rating
        min: 1
        max: 5
        weight: 3
        scale_labels:
          "1": {zh: 待改进, en: Needs improvement}
          "5": {zh: 卓越, en: Outstanding}
      - {name: teamwork, label: {zh: 团队协作, en: Teamwork}, type: rating, min: 1, max: 5, weight: 1}
      - {name: calls, label: {zh: 拜访数, en: Calls}, type: number, min: 0, required: false}
      - name: trend
        label: {zh: 趋势, en: Trend}
        type: choice
        required: false
        options:
          - {value: up, label: {zh: 上升, en: Up}}
          - {value: down, label: {zh: 下降, en: Down}}
      - {name: comment, label: {zh: 评语, en: Comment}, type: text, required: false}
"""
GOOD = {"attitude": "5", "teamwork": "3", "calls": "12", "trend": "up", "comment": "<b>solid</b> month"}


def _collect_ratings_by_form(folder: Path) -> None:
    """The lifecycle's users; the flow `standard` on both templates and the `rep` template's
    rating collected through FORM, published; 2026-10 evaluated."""
    create_users()
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
        for section in template["sections"]:
            for item in section["items"]:
                if item.get("manual") == "rating":
                    item["form"] = "rep_rating"
    text = FLOW + FORM + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True)
    loaded = run_cli("config", "load", write(folder, "flow.yaml", text))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "flows and forms").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_collect_ratings_by_form, parent="company")
def forms_lifecycle(company, cli_env, session):
    """The scenario company with the lifecycle's users, the flow `standard` and the manager form
    FORM for `rep`'s rating, 2026-10 evaluated (reviews open at the self-review). The test's session."""
    session.rollback()
    return session


def card_of(session, code: str) -> Scorecard:
    return session.scalar(
        sa.select(Scorecard)
        .join(Employee, Employee.id == Scorecard.employee_id)
        .where(Scorecard.period == "2026-10", Employee.code == code)
    )


def to_manager_step(session, code="R1", login="rep1"):
    review = review_of(session, code)
    act(session, review, user(session, login), "approve")
    assert review.step == "manager_review"
    return review


def test_the_template_names_its_form_and_who_fills_it(forms_lifecycle):
    session = forms_lifecycle
    review = review_of(session, "R1")
    [need] = forms_for(session, review)
    assert (need.slug, need.items, need.filled_by) == ("rep_rating", ["rating"], "manager")
    assert need.users == {user(session, "lead").id}
    assert not need.at_its_step  # the review is at the self-review step
    assert forms_for(session, review_of(session, "L1")) == []  # the lead template has no form


def test_every_answer_is_checked_against_its_field(forms_lifecycle):
    session = forms_lifecycle
    review = to_manager_step(session)
    lead = user(session, "lead")
    with pytest.raises(FormError) as raised:
        save_response(
            session,
            review,
            lead,
            "rep_rating",
            {"attitude": "6", "teamwork": "x", "calls": "-1", "trend": "sideways", "mood": "3"},
            submit=True,
        )
    assert raised.value.errors == {
        "mood": "not a field of this form",
        "attitude": "6 is outside 1–5",
        "teamwork": "'x' is not a number",
        "calls": "-1 is below 0",
        "trend": "'sideways' is not one of up, down",
    }
    with pytest.raises(FormError) as raised:  # required ones only when submitting
        save_response(session, review, lead, "rep_rating", {"calls": "3"}, submit=True)
    assert raised.value.errors == {"attitude": "required", "teamwork": "required"}
    draft = save_response(session, review, lead, "rep_rating", {"attitude": "4"}, submit=False)
    assert (draft.state, draft.values, draft.submitted_at) == ("draft", {"attitude": 4}, None)
    assert session.scalar(sa.select(sa.func.count()).select_from(FormResponse)) == 1


def test_only_the_manager_fills_it_at_the_manager_step(forms_lifecycle):
    session = forms_lifecycle
    review = review_of(session, "R1")
    with pytest.raises(WorkflowError, match="may not fill"):  # too early: the self-review step
        save_response(session, review, user(session, "lead"), "rep_rating", GOOD, submit=False)
    act(session, review, user(session, "rep1"), "approve")
    for login in ("rep1", "rep2", "west", "hr", "admin"):
        with pytest.raises(WorkflowError, match="may not fill"):
            save_response(session, review, user(session, login), "rep_rating", GOOD, submit=True)
    with pytest.raises(WorkflowError, match="no form"):
        save_response(session, review, user(session, "lead"), "nope", GOOD, submit=True)
    # nobody fills the manager form of their own scorecard
    lead_review = review_of(session, "R2")
    act(session, lead_review, user(session, "rep2"), "approve")
    with pytest.raises(WorkflowError, match="their own scorecard"):
        save_response(session, lead_review, user(session, "rep2"), "rep_rating", GOOD, submit=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(FormResponse)) == 0


def test_the_manager_step_waits_for_the_form_and_submitting_rescores(forms_lifecycle):
    session = forms_lifecycle
    review = to_manager_step(session)
    lead = user(session, "lead")
    before = card_of(session, "R1")
    assert before.total == pytest.approx(105.4)
    with pytest.raises(WorkflowError, match="submit the Rep rating first"):
        act(session, review, lead, "approve")
    save_response(session, review, lead, "rep_rating", GOOD, submit=False)
    with pytest.raises(WorkflowError, match="submit the Rep rating first"):  # a draft is not enough
        act(session, review, lead, "approve")
    response = save_response(session, review, lead, "rep_rating", GOOD, submit=True)
    assert response.state == "submitted" and response.submitted_at is not None
    assert response.values == {
        "attitude": 5,
        "teamwork": 3,
        "calls": 12,
        "trend": "up",
        "comment": "<b>solid</b> month",
    }
    rating = session.scalar(
        sa.select(ManualValue).where(
            ManualValue.period == "2026-10", ManualValue.employee_id == review.employee_id, ManualValue.item == "rating"
        )
    )
    assert rating.value == pytest.approx(87.5) and rating.source == "form rep_rating (lead)"
    session.commit()
    session.expire_all()
    after = card_of(session, "R1")
    assert after.total == pytest.approx(106.525)
    assert after.total - 105.4 == pytest.approx(1.125)
    assert {i["key"]: i for i in after.items}["rating"]["points"] == pytest.approx(13.125)
    assert (after.rank_company, after.rank_department) == (1, 1)
    assert card_of(session, "R2").total == pytest.approx(60)  # nobody else was touched
    audited = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.kind == "form_responses").order_by(AuditEntry.id)
    ).all()
    assert [a.action for a in audited] == ["form.save", "form.submit"]
    assert audited[-1].before["points"] == {"rating": 80} and audited[-1].after["points"] == {"rating": 87.5}
    with pytest.raises(WorkflowError, match="already submitted"):
        save_response(session, review, lead, "rep_rating", GOOD, submit=False)
    act(session, review, lead, "approve")
    assert review.step == "hr_calibration"
    with pytest.raises(WorkflowError, match="may not fill"):  # its step has passed
        save_response(session, review, lead, "rep_rating", GOOD, submit=True)


def test_a_locked_scorecard_is_not_rescored(forms_lifecycle):
    session = forms_lifecycle
    review = to_manager_step(session)
    card = card_of(session, "R1")
    card.locked = True  # e.g. locked by an earlier pass; the rating is still recorded
    session.flush()
    save_response(session, review, user(session, "lead"), "rep_rating", GOOD, submit=True)
    session.commit()
    session.expire_all()
    assert card_of(session, "R1").total == pytest.approx(105.4)
    assert (
        session.scalar(
            sa.select(ManualValue.value).where(
                ManualValue.item == "rating", ManualValue.employee_id == review.employee_id
            )
        )
        == 87.5
    )


def _app(session):
    from perfrules.web import create_app

    return create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})


def test_the_form_in_the_scorecard_page_with_csrf(forms_lifecycle):
    session = forms_lifecycle
    to_manager_step(session)
    session.commit()
    app = _app(session)

    def client_of(login):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert sign_in(client, login, "s3cret-pass").status_code == 302
        return client

    lead, rep1 = client_of("lead"), client_of("rep1")
    url = "/scorecards/2026-10/R1"
    page = lead.get(url).get_data(as_text=True)
    assert 'id="form-rep_rating"' in page and 'type="radio" name="attitude" value="5"' in page
    assert "Outstanding" in page and "<select" in page and 'name="calls"' in page and "<textarea" in page
    assert 'id="form-rep_rating"' not in rep1.get(url).get_data(as_text=True)  # not theirs to fill
    post = f"{url}/forms/rep_rating"
    assert lead.post(post, data=GOOD).status_code == 400  # CSRF
    bad = lead.post(
        post, data={**GOOD, "attitude": "9", "csrf_token": csrf_token(page), "action": "submit"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Attitude: 9 is outside 1–5" in bad
    approve = lead.post(f"{url}/review/approve", data={"csrf_token": csrf_token(page)}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "submit the Rep rating first" in approve
    done = lead.post(
        post, data={**GOOD, "csrf_token": csrf_token(page), "action": "submit"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Rep rating submitted." in done
    session.expire_all()
    assert card_of(session, "R1").total == pytest.approx(106.525)
    # the employee sees the submitted answers, read-only and escaped
    shown = rep1.get(url).get_data(as_text=True)
    assert 'id="answers-rep_rating"' in shown and "&lt;b&gt;solid&lt;/b&gt; month" in shown
    assert "<b>solid</b>" not in shown
    west = client_of("west")
    token = csrf_token(west.get("/").get_data(as_text=True))
    assert west.post(post, data={**GOOD, "csrf_token": token, "action": "submit"}).status_code == 404


def test_the_form_through_the_rest_api_with_the_same_checks(forms_lifecycle):
    session = forms_lifecycle
    to_manager_step(session)
    session.commit()
    client = _app(session).test_client()
    tokens = {}
    for login in ("rep1", "lead", "west"):
        issued = run_cli("token", "create", login, "--name", "tests")
        tokens[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    url = "/api/v1/reviews/2026-10/R1/forms/rep_rating"
    empty = client.get(url, headers=tokens["lead"]).json
    assert (empty["state"], empty["may_fill"], empty["filled_by"]) == (None, True, "manager")
    assert [f["name"] for f in empty["fields"]] == ["attitude", "teamwork", "calls", "trend", "comment"]
    assert client.get(url, headers=tokens["west"]).status_code == 404
    assert client.get("/api/v1/reviews/2026-10/R1/forms/nope", headers=tokens["lead"]).status_code == 404
    bad = client.put(url, json={"values": {"attitude": 0}, "submit": True}, headers=tokens["lead"])
    assert bad.status_code == 422 and bad.json["errors"] == [
        {"path": "json.values.attitude", "message": "0 is outside 1–5"},
        {"path": "json.values.teamwork", "message": "required"},
    ]
    refused = client.put(url, json={"values": {"attitude": 5, "teamwork": 3}, "submit": True}, headers=tokens["rep1"])
    assert refused.status_code == 409 and "may not fill" in refused.json["message"]
    blocked = client.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=tokens["lead"])
    assert blocked.status_code == 409 and blocked.json["message"] == "submit the Rep rating first"
    saved = client.put(url, json={"values": {"attitude": 5, "teamwork": 3}, "submit": True}, headers=tokens["lead"])
    assert saved.status_code == 200, saved.json
    assert (saved.json["state"], saved.json["values"], saved.json["filled_by_user"]) == (
        "submitted",
        {"attitude": 5, "teamwork": 3},
        "lead",
    )
    assert saved.json["total"] == pytest.approx(106.525)
    seen = client.get(url, headers=tokens["rep1"]).json
    assert (seen["state"], seen["values"], seen["may_fill"]) == ("submitted", {"attitude": 5, "teamwork": 3}, False)
    assert (
        client.post("/api/v1/reviews/2026-10/R1/approve", json={}, headers=tokens["lead"]).json["step"]
        == "hr_calibration"
    )


SELF_FORM = """
forms:
  - slug: self_note
    label: {zh: 自评, en: Self note}
    filled_by: employee
    fields:
      - {name: effort, label: {zh: 投入, en: Effort}, type: rating, min: 1, max: 5}
      - {name: note, label: {zh: 说明, en: Note}, type: text, required: false}
"""


def test_an_employee_form_is_filled_by_the_employee_at_the_self_review(forms_lifecycle, tmp_path):
    """The process section becomes growth 40, rating 40 and a self-assessed item 20. Without a
    value the new item is excluded, so R1 keeps 105.4; effort 4 → 75 points, and the section's
    30 splits 12 / 12 / 6: 50.4 + 28 + 12 + 80 × 0.12 + 75 × 0.06 = 104.5."""
    from perfrules.workflow.engine import start_reviews

    session = forms_lifecycle
    config = yaml.safe_load(run_cli("config", "export").stdout)
    [rep] = [t for t in config["templates"] if t["slug"] == "rep"]
    process = rep["sections"][1]["items"]
    process[0]["weight"], process[1]["weight"] = 40, 40
    process.append({"manual": "self", "label": {"zh": "自评", "en": "Self"}, "form": "self_note", "weight": 20})
    text = SELF_FORM + yaml.safe_dump({"templates": [rep]}, allow_unicode=True)
    loaded = run_cli("config", "load", write(tmp_path, "self.yaml", text))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "self form").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    session.execute(sa.delete(Review))
    start_reviews(session, "2026-10", "tester")
    review = review_of(session, "R1")
    assert card_of(session, "R1").total == pytest.approx(105.4)
    assert [n.slug for n in forms_for(session, review)] == ["rep_rating", "self_note"]
    with pytest.raises(WorkflowError, match="submit the Self note first"):
        act(session, review, user(session, "rep1"), "approve")
    with pytest.raises(WorkflowError, match="may not fill"):
        save_response(session, review, user(session, "lead"), "self_note", {"effort": 4}, submit=True)
    with pytest.raises(WorkflowError, match="may not fill"):  # the manager's form waits for its step
        save_response(session, review, user(session, "rep1"), "rep_rating", GOOD, submit=True)
    save_response(
        session, review, user(session, "rep1"), "self_note", {"effort": "4", "note": "more calls"}, submit=True
    )
    assert card_of(session, "R1").total == pytest.approx(104.5)
    act(session, review, user(session, "rep1"), "approve")
    assert review.step == "manager_review"


def test_a_corrected_value_from_an_accepted_dispute_stands_when_the_form_is_submitted_again(forms_lifecycle):
    from perfrules.workflow.disputes import raise_dispute, resolve_dispute

    session = forms_lifecycle
    review = to_manager_step(session)
    lead = user(session, "lead")
    save_response(session, review, lead, "rep_rating", GOOD, submit=True)
    for login in ("lead", "hr", "lead"):
        act(session, review, user(session, login), "approve")
    assert review.state == "approved"
    dispute = raise_dispute(session, review, user(session, "rep1"), "rating", "my attitude was outstanding")
    resolve_dispute(session, dispute, user(session, "hr"), "accept", "agreed", {"value": 100})
    assert review.step == "self_review"
    review = to_manager_step(session)
    save_response(session, review, lead, "rep_rating", {**GOOD, "attitude": "1"}, submit=True)  # lower than before
    session.commit()
    rating = session.scalar(
        sa.select(ManualValue).where(ManualValue.employee_id == review.employee_id, ManualValue.item == "rating")
    )
    assert rating.value == 100 and rating.source == f"dispute {dispute.id} (hr)"
    audit = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "form.submit").order_by(AuditEntry.id.desc())
    ).first()
    assert audit.after["kept"] == {"rating": f"corrected by dispute {dispute.id}"} and "points" not in audit.after
