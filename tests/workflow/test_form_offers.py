"""Forms a template gains while its reviews are open are offered to the people who fill them.

The lifecycle scenario (test_engine.py): every 2026-10 review open at the self-review, then R1's
employee approves it (R1 at the manager's step). A new version gives the `rep` template three
forms — the employee's `self_check`, the manager's `rep_rating` and the colleagues' `peer_view` —
and the period is evaluated again, moving the scorecards to it:

- R2, R3, R4 are at the self-review: the self-check is filled now, its employee is told;
- R1 had passed the self-review: it goes back there (the step was approved without the form it
  now asks for), with a history entry, and rep1 is told;
- the manager's rating lies ahead for everyone: it is there when the manager's step comes;
- the peer form: whoever asks colleagues for it is told (R3 has no manager: HR is).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.audit import AuditEntry
from perfrules.cli.context import session_scope
from perfrules.engine.models import EvaluationRun
from perfrules.notify.messages import render
from perfrules.notify.models import Notification
from perfrules.org.models import Employee, User
from perfrules.web import create_app
from perfrules.workflow.engine import act
from perfrules.workflow.form_offers import FORM_ADDED
from perfrules.workflow.forms import forms_for, save_response
from perfrules.workflow.models import ReviewAction
from perfrules.workflow.steps import WorkflowError

from ..helpers import csrf_token, run_cli, sign_in, starting_state, write
from .test_engine import lifecycle, review_of, user  # noqa: F401 (a fixture)

pytestmark = pytest.mark.database

FORMS = """
forms:
  - slug: self_check
    label: {zh: 自我检查, en: Self-check}
    filled_by: employee
    fields:
      - {name: effort, label: {zh: 投入, en: Effort}, type: rating, min: 1, max: 5}
  - slug: rep_rating
    label: {zh: 销售评分, en: Rep rating}
    filled_by: manager
    fields:
      - {name: attitude, label: {zh: 工作态度, en: Attitude}, type: rating, min: 1, max: 5}
  - slug: peer_view
    label: {zh: 同事评价, en: Peer view}
    filled_by: peer
    anonymous: false
    fields:
      - {name: help, label: {zh: 协作, en: Helpfulness}, type: rating, min: 1, max: 5}
"""
ITEMS = [
    {"kpi": "growth", "weight": 30},
    {"manual": "rating", "label": {"zh": "上级评分", "en": "Manager rating"}, "weight": 30, "form": "rep_rating"},
    {"manual": "self_check", "label": {"zh": "自我检查", "en": "Self-check"}, "weight": 20, "form": "self_check"},
    {"manual": "peer_view", "label": {"zh": "同事评价", "en": "Peer view"}, "weight": 20, "form": "peer_view"},
]


def _gain_forms(folder: Path) -> None:
    """R1's self-review approved; then the `rep` template gains the three forms in version 3,
    and 2026-10 is evaluated again with it."""
    with session_scope() as session:
        act(session, review_of(session, "R1"), user(session, "rep1"), "approve")
    config = yaml.safe_load(run_cli("config", "export").stdout)
    [rep] = [template for template in config["templates"] if template["slug"] == "rep"]
    [process] = [section for section in rep["sections"] if section["name"] == "process"]
    process["items"] = ITEMS
    text = FORMS + yaml.safe_dump({"templates": [rep]}, allow_unicode=True)
    loaded = run_cli("config", "load", write(folder, "forms.yaml", text))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "forms added").exit_code == 0
    rerun = run_cli("run", "2026-10")
    assert rerun.exit_code == 0 and "4 review(s) offered the forms their template gained" in rerun.output


@pytest.fixture
@starting_state(_gain_forms, parent="lifecycle")
def gained(lifecycle, cli_env, session):
    """The lifecycle with R1 at the manager's step when the `rep` template gained its forms and
    2026-10 was evaluated again. The test's session."""
    session.rollback()
    return session


def _notices(session, kind: str) -> list[tuple[str, str]]:
    """(recipient login, employee code) of each notification of `kind`, sorted."""
    return sorted(
        session.execute(
            sa.select(User.login, Employee.code)
            .select_from(Notification)
            .join(User, User.id == Notification.user_id)
            .join(Employee, Employee.id == Notification.employee_id)
            .where(Notification.kind == kind)
        ).all()
    )


def _fillable(session, code: str, login: str) -> list[str]:
    return [need.slug for need in forms_for(session, review_of(session, code)) if need.may_fill(user(session, login))]


def test_the_forms_are_offered_at_their_steps_and_the_people_who_fill_them_are_told(gained):
    session = gained
    # the run's record counts the reviews offered forms; the audit names them
    run = session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id.desc())).first()
    assert run.counts["forms_offered"] == 4
    audited = session.scalar(sa.select(AuditEntry.after).where(AuditEntry.action == f"review.{FORM_ADDED}"))
    assert {entry["employee"]: entry["step"] for entry in audited["offered"]} == dict.fromkeys(
        ("R1", "R2", "R3", "R4"), "self_review"
    )

    # every rep scorecard now uses the three forms; the self-check is its employee's to fill now
    for code, login in (("R1", "rep1"), ("R2", "rep2"), ("R3", "west")):
        assert [need.slug for need in forms_for(session, review_of(session, code))] == [
            "rep_rating",
            "self_check",
            "peer_view",
        ]
        assert _fillable(session, code, login) == ["self_check"]
    assert _notices(session, "form.added") == [("rep1", "R1"), ("rep2", "R2"), ("west", "R3")]

    # R1 went back from the manager's step to the self-review it had passed without the form
    r1 = review_of(session, "R1")
    assert (r1.state, r1.step, r1.path) == ("in_review", "self_review", ["self_review"])
    entry = session.scalars(
        sa.select(ReviewAction).where(ReviewAction.review_id == r1.id).order_by(ReviewAction.id.desc())
    ).first()
    assert (entry.action, entry.step, entry.user_id) == (FORM_ADDED, "manager_review", None)
    assert entry.comment == f"run {run.id}: the template now asks for the Self-check"
    params = session.scalar(
        sa.select(Notification.params).where(
            Notification.kind == "form.added", Notification.employee_id == r1.employee_id
        )
    )
    assert render("form.added", params, "en") == (
        "A form to fill: the Self-check for 销售一, 2026-10",
        "The template now asks for this form: fill it in and submit it at the step Self-review.\n"
        "For it, the scorecard went back from Manager to Self-review.",
    )
    assert render("form.added", params, "zh")[0] == "待您填写:销售一 2026-10 的“自我检查”"

    # the peer form: the manager asks for it (HR for R3, who has none)
    assert _notices(session, "feedback.form_added") == [
        ("hr", "R3"),
        ("hr2", "R3"),
        ("lead", "R1"),
        ("lead", "R2"),
        ("west", "R4"),
    ]

    # the self-review waits for the self-check; the manager's rating is there at the next step
    r2, rep2 = review_of(session, "R2"), user(session, "rep2")
    with pytest.raises(WorkflowError, match="submit the Self-check first"):
        act(session, r2, rep2, "approve")
    save_response(session, r2, rep2, "self_check", {"effort": "4"}, submit=True)
    act(session, r2, rep2, "approve")
    assert r2.step == "manager_review"
    assert _fillable(session, "R2", "lead") == ["rep_rating"]
    session.commit()

    # evaluated again with the same version: nothing more is offered, nobody is told again
    again = run_cli("run", "2026-10")
    assert again.exit_code == 0 and "offered" not in again.output
    session.rollback()
    assert review_of(session, "R2").step == "manager_review"
    assert len(_notices(session, "form.added")) == 3


def test_the_employee_fills_the_gained_form_on_the_scorecard_page(gained, cli_env):
    app = create_app({"database_url": cli_env, "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, "rep2", "s3cret-pass")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "A form to fill: the Self-check for 销售二, 2026-10" in inbox
    page = client.get("/scorecards/2026-10/R2").get_data(as_text=True)
    assert 'id="form-self_check"' in page and 'id="form-rep_rating"' not in page
    answered = client.post(
        "/scorecards/2026-10/R2/forms/self_check",
        data={"effort": "5", "action": "submit", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "Self-check submitted." in answered.get_data(as_text=True)
    approved = client.post(
        "/scorecards/2026-10/R2/review/approve",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert approved.status_code == 200
    assert review_of(gained, "R2").step == "manager_review"
