"""The approval flow designer: steps edited, added, removed and reordered; problems at their
fields (a condition's error with its place, an unknown role or login, a flow without steps),
nothing saved while one remains; only admin and HR; CSRF on every form; and a changed flow,
published in the console, followed by the reviews the next run opens while the reviews already
open keep theirs — on the hand-checked scenario (tests/engine/scenario.py)."""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.config.models import ConfigVersion
from perfrules.engine.models import Scorecard
from perfrules.org.models import Employee, User
from perfrules.web import create_app
from perfrules.workflow.engine import act
from perfrules.workflow.models import Review

from ..helpers import add_users, run_cli, starting_state, write
from .test_designer import audit, csrf, draft, signed_in

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
USERS = {  # login: (roles, employee)
    "admin": (["admin"], None),
    "hr": (["hr"], None),
    "lead_east": (["manager", "employee"], "L1"),
    "rep1": (["employee"], "R1"),
    "rep2": (["employee"], "R2"),
}
FLOW = """
approval_flows:
  - slug: standard
    label: {zh: 标准审批, en: Standard}
    steps:
      - {name: self_review, label: {zh: 自评, en: Self-review}, actor: employee}
      - {name: manager_review, label: {zh: 上级, en: Manager review}, actor: manager, deadline_days: 5}
      - {name: head_approval, label: {zh: 负责人, en: Head}, actor: department_head}
"""


def _put_the_flow_on(folder: Path) -> None:
    """USERS; FLOW on both templates, published as version 2; 2026-10 evaluated."""
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)
    config = yaml.safe_load(run_cli("config", "export").stdout)
    for template in config["templates"]:
        template["approval_flow"] = "standard"
    path = write(folder, "flow.yaml", FLOW + yaml.safe_dump({"templates": config["templates"]}, allow_unicode=True))
    assert run_cli("config", "load", path).exit_code == 0
    assert run_cli("config", "publish", "-m", "flows").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_put_the_flow_on, parent="company")
def flow_company(company):
    """The scenario with USERS and the standard flow on both templates, published as version 2
    and run for 2026-10; the test's folder."""
    return company


@pytest.fixture
def app(flow_company, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def flow_form(flow: dict, token: str) -> dict:
    """The editor's fields for a flow document, as the page posts them."""
    data = {"csrf_token": token, "label_zh": flow["label"]["zh"], "label_en": flow["label"]["en"]}
    for index, step in enumerate(flow["steps"]):
        at = f"st-{index}-"
        kind, _colon, rest = step["actor"].partition(":")
        data.update(
            {
                at + "name": step["name"],
                at + "label_zh": step["label"]["zh"],
                at + "label_en": step["label"]["en"],
                at + "actor": kind,
                at + "role": rest if kind == "role" else "",
                at + "login": rest if kind == "user" else "",
                at + "mode": step.get("mode", "any"),
                at + "condition": step.get("condition", ""),
                at + "deadline_days": str(step.get("deadline_days") or ""),
            }
        )
    return data


def save(client, flow: dict, slug: str = "standard"):
    page = client.get(f"/designer/flows/{slug}")
    assert page.status_code == 200
    return client.post(f"/designer/flows/{slug}", data=flow_form(flow, csrf(page.get_data(as_text=True))))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def hr_step(condition: str) -> dict:
    return {
        "name": "hr_check",
        "label": {"zh": "HR 审核", "en": "HR check"},
        "actor": "role:hr",
        "condition": condition,
        "deadline_days": 3,
    }


# --- the list and the editor -------------------------------------------------------------------


def test_the_list_shows_each_flow_its_steps_and_the_templates_using_it(app):
    admin = signed_in(app, "admin")
    page = text(admin.get("/designer/flows"))
    assert '<tr data-slug="standard">' in page
    assert re.search(
        r'<td class="templates"><a href="/designer/templates/lead"><code>lead</code></a>, '
        r'<a href="/designer/templates/rep"><code>rep</code></a></td>',
        page,
    )
    assert "Self-review" in page and "(their manager)" in page and 'href="/designer/flows/standard"' in page
    assert "reviews already under way keep the flow they started with" in page
    # linked from the templates list, the template editor and the console's list of flows
    assert 'href="/designer/flows">Approval flows</a>' in admin.get("/designer/templates").get_data(as_text=True)
    editor = admin.get("/designer/templates/rep").get_data(as_text=True)
    assert 'href="/designer/flows/standard">Edit this flow</a>' in editor
    assert 'href="/designer/flows/standard"' in admin.get("/admin/config/approval_flows/").get_data(as_text=True)

    page = text(admin.get("/designer/flows/standard"))
    assert 'name="st-1-actor"' in page and '<option value="manager" selected>' in page
    assert 'data-context="condition"' in page and 'id="formula-strings"' in page
    assert "Each review follows its flow as it was in the published version" in page
    assert "1 review under way follows this flow as published in version 2." not in page
    assert "5 reviews under way follow this flow as published in version 2." in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "nonce=" in tag, tag
    assert not re.search(r"\son[a-z]+=", page)


def test_edited_steps_are_saved_into_the_draft_and_audited(app, session):
    admin = signed_in(app, "admin")
    flow = copy.deepcopy(draft(session, "approval_flows")["standard"])
    flow["steps"][1].update(mode="all", deadline_days=7, label={"zh": "上级评分", "en": "Manager rating"})
    flow["steps"][2]["actor"] = "user:hr"
    flow["steps"].insert(2, hr_step("total < 60 or grade == 'S'"))
    response = save(admin, flow)
    assert response.status_code == 302 and response.headers["Location"].endswith("/designer/flows/standard")
    saved = draft(session, "approval_flows")["standard"]
    assert [s["name"] for s in saved["steps"]] == ["self_review", "manager_review", "hr_check", "head_approval"]
    assert saved["steps"][1] == {
        "name": "manager_review",
        "label": {"zh": "上级评分", "en": "Manager rating"},
        "actor": "manager",
        "mode": "all",
        "deadline_days": 7,
    }
    assert saved["steps"][2]["condition"] == "total < 60 or grade == 'S'" and saved["steps"][3]["actor"] == "user:hr"
    assert [entry.key for entry in audit(session, "config.save")][-1] == "standard"
    page = text(admin.get("/designer/flows/standard"))
    assert "Saved into the draft." in page and "Changed since version 2." in page
    assert 'href="/admin/versions/publish"' in page
    assert save(admin, saved).status_code == 302
    assert "Nothing changed." in text(admin.get("/designer/flows/standard"))


def test_steps_are_saved_in_the_order_posted_and_removed_ones_are_gone(app, session):
    admin = signed_in(app, "admin")
    flow = copy.deepcopy(draft(session, "approval_flows")["standard"])
    token = csrf(admin.get("/designer/flows/standard").get_data(as_text=True))
    data = flow_form(flow, token)
    # the page renumbers its fields in the order shown: the manager first, then the employee;
    # the department head's step was removed
    moved = {
        key.replace("st-0-", "st-9-").replace("st-1-", "st-0-"): value
        for key, value in data.items()
        if not key.startswith("st-2-")
    }
    moved = {key.replace("st-9-", "st-1-"): value for key, value in moved.items()}
    assert admin.post("/designer/flows/standard", data=moved).status_code == 302
    assert [s["name"] for s in draft(session, "approval_flows")["standard"]["steps"]] == [
        "manager_review",
        "self_review",
    ]


def test_a_bad_condition_is_shown_at_its_field_with_its_place_and_nothing_is_saved(app, session):
    admin = signed_in(app, "admin")
    before = draft(session, "approval_flows")
    flow = copy.deepcopy(before["standard"])
    flow["steps"].insert(2, hr_step("totl < 60"))
    response = save(admin, flow)
    assert response.status_code == 422
    page = text(response)
    assert "1 problem; nothing was saved." in page and "<code>steps[2].condition</code>" in page
    # next to the condition's field: the message, the line and carets under the unknown name
    field = re.search(
        r'<textarea[^>]*name="st-2-condition"[^>]*>totl &lt; 60</textarea>|'
        r'<textarea[^>]*name="st-2-condition"[^>]*>totl < 60</textarea>',
        page,
    )
    assert field and 'class="form-control formula-input is-invalid"' in field.group(0)
    error = re.search(
        r'<div class="invalid-feedback d-block field-error formula-server-error">(.*?)</div>', page[field.end() :], re.S
    ).group(1)
    assert "unknown name 'totl'" in error and "did you mean 'total'?" in error
    assert "totl < 60\n    ^^^^" in error
    assert draft(session, "approval_flows") == before

    flow["steps"][2]["condition"] = "total + 1"  # a number is not a condition
    page = text(save(admin, flow))
    assert "<code>steps[2].condition</code>" in page and "true/false" in page


def test_an_unknown_role_or_login_and_an_actor_not_chosen_are_refused_at_the_actor(app, session):
    admin = signed_in(app, "admin")
    before = draft(session, "approval_flows")
    flow = copy.deepcopy(before["standard"])
    flow["steps"].insert(2, {**hr_step("total < 60"), "actor": "role:wizard"})
    flow["steps"][3]["actor"] = "user:ghost"
    page = text(save(admin, flow))
    assert "2 problems; nothing was saved." in page
    assert (
        "<code>steps[2].actor</code>: <span class=\"problem-message\">unknown role 'wizard'; use one of "
        "admin, hr, manager, employee, auditor</span>"
    ) in page
    assert (
        '<code>steps[3].actor</code>: <span class="problem-message">nobody signs in as ghost: '
        "the step would wait for ever</span>"
    ) in page
    assert '<option value="wizard" selected>wizard</option>' in page  # what was posted is shown again
    flow["steps"][2]["actor"] = "role:"
    flow["steps"][3]["actor"] = "user:"
    page = text(save(admin, flow))
    assert "choose the role whose holders act at this step" in page
    assert "give the login of the user who acts at this step" in page
    assert "must be employee, manager" not in page  # the schema's words for YAML are not repeated
    assert draft(session, "approval_flows") == before


def test_a_flow_without_steps_or_with_a_step_twice_is_refused(app, session):
    admin = signed_in(app, "admin")
    before = draft(session, "approval_flows")
    flow = {**before["standard"], "steps": []}
    page = text(save(admin, flow))
    assert '<code>steps</code>: <span class="problem-message">A flow needs at least one step.</span>' in page
    assert "Shorter than minimum length" not in page
    twice = {**before["standard"], "steps": before["standard"]["steps"] + [before["standard"]["steps"][1]]}
    page = text(save(admin, twice))
    assert "<code>steps[3].name</code>" in page and "step 'manager_review' is in the flow twice" in page
    assert draft(session, "approval_flows") == before


def test_a_new_flow_is_created_and_its_code_must_be_new(app, session):
    hr = signed_in(app, "hr")
    page = hr.get("/designer/flows/new").get_data(as_text=True)
    data = flow_form(
        {
            "label": {"zh": "简易审批", "en": "Quick"},
            "steps": [{"name": "manager_review", "label": {"zh": "上级", "en": "Manager"}, "actor": "manager"}],
        },
        csrf(page),
    )
    response = hr.post("/designer/flows/new", data={**data, "slug": "quick"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/designer/flows/quick")
    assert draft(session, "approval_flows")["quick"]["steps"][0]["actor"] == "manager"
    again = text(hr.post("/designer/flows/new", data={**data, "slug": "quick"}))
    assert '<code>slug</code>: <span class="problem-message">A flow with this code exists already.</span>' in again
    bad = text(hr.post("/designer/flows/new", data={**data, "slug": "Quick Flow"}))
    assert "<code>slug</code>" in bad and "lowercase letters" in bad


def test_only_admin_and_hr_may_use_the_flow_designer(app, session):
    before = draft(session, "approval_flows")
    for login in ("lead_east", "rep1"):
        client = signed_in(app, login)
        for url in ("/designer/flows", "/designer/flows/standard", "/designer/flows/new"):
            assert client.get(url).status_code == 403, (login, url)
        flow = flow_form({**before["standard"], "steps": before["standard"]["steps"][1:]}, client.csrf)
        assert client.post("/designer/flows/standard", data=flow).status_code == 403
        assert client.post("/designer/flows/new", data={**flow, "slug": "mine"}).status_code == 403
        assert 'href="/designer/flows"' not in client.get("/designer/templates").get_data(as_text=True)
    anonymous = app.test_client().get("/designer/flows/standard")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert signed_in(app, "admin").get("/designer/flows/nothing").status_code == 404
    assert draft(session, "approval_flows") == before


def test_saving_a_flow_needs_the_csrf_token(app, session):
    admin = signed_in(app, "admin")
    before = draft(session, "approval_flows")
    flow = flow_form({**before["standard"], "steps": before["standard"]["steps"][1:]}, "")
    del flow["csrf_token"]
    assert admin.post("/designer/flows/standard", data=flow).status_code == 400
    assert admin.post("/designer/flows/new", data={**flow, "slug": "other"}).status_code == 400
    assert admin.post("/designer/flows/standard", data={**flow, "csrf_token": "forged"}).status_code == 400
    assert draft(session, "approval_flows") == before


# --- changed, published, followed by the next run ----------------------------------------------


def _review(session, period: str, code: str) -> Review:
    employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == code))
    return session.scalar(sa.select(Review).where(Review.period == period, Review.employee_id == employee_id))


def _user(session, login: str) -> User:
    return session.scalar(sa.select(User).where(User.login == login))


def test_a_changed_flow_published_in_the_console_is_followed_by_the_next_runs_reviews(app, session, tmp_path):
    admin = signed_in(app, "admin")
    flow = copy.deepcopy(draft(session, "approval_flows")["standard"])
    # no self-review any more; HR checks the high totals before the head approves
    flow["steps"] = [flow["steps"][1], hr_step("total > 10"), flow["steps"][2]]
    assert save(admin, flow).status_code == 302

    publish = text(admin.get("/admin/versions/publish"))
    assert "approval_flows.standard" in publish
    token = csrf(publish)
    assert (
        admin.post("/admin/versions/publish", data={"csrf_token": token, "message": "HR checks the best"}).status_code
        == 302
    )
    session.rollback()
    assert session.scalar(sa.select(sa.func.max(ConfigVersion.number))) == 3

    # nobody sold in November; R1's manager rating of 100 gives 15 points, R2 has none
    rated = run_cli(
        "ratings", "import", write(tmp_path, "november.csv", "employee,period,item,value\nR1,2026-11,rating,100\n")
    )
    assert rated.exit_code == 0, rated.output
    assert run_cli("run", "2026-11").exit_code == 0
    session.rollback()
    totals = dict(
        session.execute(
            sa.select(Employee.code, Scorecard.total)
            .join(Employee, Employee.id == Scorecard.employee_id)
            .where(Scorecard.period == "2026-11", Employee.code.in_(["R1", "R2"]))
        ).all()
    )
    assert totals == {"R1": pytest.approx(15), "R2": 0}
    first, second = "R1", "R2"
    november = {code: _review(session, "2026-11", code) for code in (first, second)}
    for review in november.values():  # the removed self-review is not visited: the manager's step comes first
        assert (review.version_number, review.state, review.step) == (3, "in_review", "manager_review")
        act(session, review, _user(session, "lead_east"), "approve")
    assert november[first].step == "hr_check"  # the added step, where its condition holds …
    assert november[second].step == "head_approval"  # … and passed over where it does not
    with pytest.raises(Exception, match="may not approve"):
        act(session, november[first], _user(session, "lead_east"), "approve")  # HR's turn, not the lead's
    act(session, november[first], _user(session, "hr"), "approve")
    act(session, november[first], _user(session, "lead_east"), "approve")
    assert november[first].state == "approved" and november[first].path == [
        "manager_review",
        "hr_check",
        "head_approval",
    ]

    # October's reviews keep the flow of version 2, self-review and all
    october = _review(session, "2026-10", "R1")
    assert (october.version_number, october.step) == (2, "self_review")
    act(session, october, _user(session, "rep1"), "approve")
    assert october.step == "manager_review"
    session.commit()
    page = text(admin.get("/designer/flows/standard"))
    assert "reviews under way follow this flow as published in version 2." in page
    assert (
        "follows this flow as published in version 3." in page or "follow this flow as published in version 3." in page
    )


def test_a_named_user_reads_and_acts_on_a_scorecard_at_their_step_and_only_then(app, session):
    """rep2 sees nobody's scorecard but their own, yet the flow names them: at their step the
    scorecard opens for them with its buttons, and what they acted on stays open to them."""
    admin = signed_in(app, "admin")
    flow = copy.deepcopy(draft(session, "approval_flows")["standard"])
    flow["steps"].insert(
        1, {"name": "peer_check", "label": {"zh": "同事核对", "en": "Peer check"}, "actor": "user:rep2"}
    )
    assert save(admin, flow).status_code == 302
    assert run_cli("config", "publish", "-m", "a colleague checks").exit_code == 0
    assert run_cli("run", "2026-11").exit_code == 0
    session.rollback()
    rep2 = signed_in(app, "rep2")
    assert rep2.get("/scorecards/2026-11/R1").status_code == 404  # the employee's own step comes first
    act(session, _review(session, "2026-11", "R1"), _user(session, "rep1"), "approve")
    session.commit()
    page = text(rep2.get("/scorecards/2026-11/R1"))
    assert 'data-action="approve"' in page and "Peer check" in page
    assert rep2.get("/scorecards/2026-10/R1").status_code == 404  # October's flow does not name them
    assert rep2.post("/scorecards/2026-10/R1/review/approve", data={"csrf_token": rep2.csrf}).status_code == 404
    acted = rep2.post("/scorecards/2026-11/R1/review/approve", data={"csrf_token": rep2.csrf}, follow_redirects=True)
    assert acted.status_code == 200 and "Done: Approve." in text(acted)
    session.rollback()
    assert _review(session, "2026-11", "R1").step == "manager_review"
    assert 'data-action="approve"' not in text(acted)
    assert rep2.get("/scorecards/2026-11/R2").status_code == 200  # their own, as ever
    assert rep2.get("/scorecards/2026-11/L1").status_code == 404
