"""One scorecard's whole lifecycle in a real browser. An administrator adds the self-assessment to
the sales representatives' template, makes HR calibrate every scorecard in the approval flow
designer (the condition checked as it is typed), publishes in the console and runs a period
nobody has evaluated yet. Then, each in their own browser: the employee fills in and submits the
self-assessment and approves their step; their manager submits the manager rating, sees the
total change, and approves; HR calibrates; the department head approves; HR locks it, and the
employee sees it locked. Out of turn, nobody gets a button, and a POST made by hand is refused.
Screenshots of the key pages are kept as artifacts."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from perfrules.engine.periods import Period
from perfrules.workflow.actors import Directory

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _people(demo_server, cards: list[dict]):
    """A sales representative outside SOUTH (test_flows gives SOUTH its own template) with a total,
    their manager and the head of their department, three different people with logins."""
    engine = sa.create_engine(demo_server["environment"]["PERFRULES_DATABASE_URL"])
    scored = {card["employee"] for card in cards if card["template"] == "sales_rep" and card["total"] is not None}
    with Session(engine) as session:
        directory = Directory.load(session)
        rows = session.execute(
            sa.text(
                "SELECT e.id, e.code, e.manager_id, u.login FROM employees e JOIN departments d ON d.id = e.department_id "
                "JOIN roles r ON r.id = e.role_id JOIN users u ON u.employee_id = e.id "
                "WHERE r.code = 'sales_rep' AND d.code <> 'SOUTH' ORDER BY e.code"
            )
        ).all()
        logins = dict(
            session.execute(sa.text("SELECT employee_id, login FROM users WHERE employee_id IS NOT NULL")).all()
        )
    engine.dispose()
    for row in rows:
        head = directory.department_head(row.id)
        if row.code in scored and head not in (None, row.manager_id):
            return row.code, row.login, logins[row.manager_id], logins[head]
    pytest.fail("the demo company has no sales representative whose manager is not their department head")


def _period_before(period: str) -> str:
    """The month two before a month: evaluated by nobody yet (the demo evaluates the month before
    last and last month, and leaves their scorecards at every step of their lifecycle)."""
    return str(Period.parse(period).previous().previous())


def _submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def _review_state(page) -> tuple[str, str]:
    review = page.locator("#review")
    return review.get_attribute("data-state"), review.locator("h2 .badge").inner_text().strip()


def _post_by_hand(page, url: str) -> str:
    """A POST made outside the page's buttons, with the user's own session and CSRF token: the text
    of the page it ends on."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(url, form={"csrf_token": token, "comment": "by hand"})
    assert response.ok, response.status
    return response.text()


def test_one_scorecard_walks_its_whole_lifecycle_with_each_person_in_turn(open_as, demo_server):
    last_month = json.loads(demo_server["cli"]("scorecards", "last-month"))[0]["period"]
    period = _period_before(last_month)
    admin = open_as("admin")

    # the sales representatives assess themselves: a self-rated item next to the manager's rating
    admin.goto(f"{admin.base}/designer/templates/sales_rep")
    qualities = admin.locator("#sections .section-row").nth(3)
    assert qualities.locator("[data-field=name]").input_value() == "qualities"
    manager_item = qualities.locator("tbody.items tr.item-row").first
    assert manager_item.locator("[data-field=form]").input_value() == "manager_rating"
    manager_weight = float(manager_item.locator("[data-field=weight]").input_value())
    qualities.locator("[data-action=add-item]").click()
    item = qualities.locator("tbody.items tr.item-row").last
    item.locator("[data-field=kind]").select_option("manual")
    item.locator("[data-field=manual]").fill("self_rating")
    item.locator("[data-field=label_zh]").fill("员工自评")
    item.locator("[data-field=label_en]").fill("Self-assessment")
    item.locator("[data-field=form]").select_option("self_assessment")
    item.locator("[data-field=weight]").fill("20")  # taken from the manager's rating: the sum stays 100
    manager_item.locator("[data-field=weight]").fill(f"{manager_weight - 20:g}")
    assert qualities.locator(".items-sum .sum-value").inner_text() == "100"
    _submit(admin, admin.locator("#save"))
    assert "Saved into the draft." in admin.content()

    # from the template's flow to the flow designer: HR calibrates every scorecard this time
    _submit(admin, admin.locator("#approval-flow-links a", has_text="Edit this flow"))
    assert re.search(r"/designer/flows/standard$", admin.url)
    steps = admin.locator("#steps .step-row")
    assert steps.count() == 4
    admin.click("#add-step")  # a new step comes with its own condition editor; removed again, unsaved
    added = steps.nth(4)
    assert added.locator(".step-number").inner_text() == "5"
    assert added.locator("[data-field=name]").get_attribute("name") == "st-4-name"
    added.locator("[data-field=actor]").select_option("user")
    added.locator("[data-field=login]").wait_for(state="visible")
    added.locator("textarea.formula-input").fill("grade = 'S'")
    added.locator(".formula-suggestion", has_text="==").wait_for()
    added.locator("[data-action=up]").click()
    assert steps.nth(3).locator("[data-field=actor]").get_attribute("name") == "st-3-actor"
    assert steps.nth(3).locator("textarea.formula-input").get_attribute("name") == "st-3-condition"
    assert steps.nth(4).locator("[data-field=name]").input_value() == "department_head_approval"
    steps.nth(3).locator("[data-action=remove]").click()
    assert steps.count() == 4 and steps.nth(3).locator("[data-field=name]").get_attribute("name") == "st-3-name"
    calibration = steps.nth(2)
    assert calibration.locator("[data-field=name]").input_value() == "hr_calibration"
    assert calibration.locator("[data-field=actor]").input_value() == "role"
    assert calibration.locator("[data-field=role]").input_value() == "hr"
    condition = calibration.locator("textarea.formula-input")
    condition.fill("totl >= 0")
    message = calibration.locator(".formula-message")
    message.wait_for(state="visible")
    assert "unknown name 'totl'" in message.inner_text()
    assert calibration.locator(".formula-caret").inner_text().startswith("totl >= 0\n^^^^")
    calibration.locator(".formula-suggestion").click()  # did you mean total?
    assert condition.input_value() == "total >= 0"
    calibration.locator(".formula-status.text-success").wait_for()
    screenshot(admin, "lifecycle-flow-designer")
    _submit(admin, admin.locator("#save"))
    assert "Saved into the draft." in admin.content()
    assert (
        "reviews already open keep the flow they started with" in admin.locator("#reviews-keep-their-flow").inner_text()
    )

    # published in the console, then a period nobody has evaluated yet
    _submit(admin, admin.locator("#publish a"))
    assert "approval_flows.standard" in admin.content() and "templates.sales_rep" in admin.content()
    admin.fill("#message", "Self-assessment for sales; HR calibrates everyone")
    _submit(admin, admin.locator("#publish"))
    assert re.search(r"Version \d+ published", admin.content())
    admin.goto(f"{admin.base}/admin/runs/start")
    admin.fill("#period", period)
    admin.click("#start")
    admin.wait_for_url(re.compile(r"/admin/runs/\d+"))
    admin.wait_for_function("() => !document.body.innerText.includes('running')", timeout=60_000)
    assert "succeeded" in admin.content()

    code, employee_login, manager_login, head_login = _people(
        demo_server, json.loads(demo_server["cli"]("scorecards", period))
    )
    card_url = f"{admin.base}/scorecards/{period}/{code}"

    # the employee: the self-assessment at their own step, then their approval
    employee = open_as(employee_login)
    employee.goto(f"{employee.base}/scorecards/mine?period={period}")
    assert _review_state(employee) == ("in_review", "Self-review")
    assert employee.locator("#review-actions button").all_inner_texts() == ["Approve"]
    own_form = employee.locator("[data-form=self_assessment] form")
    assert employee.locator("[data-form=manager_rating] form").count() == 0  # not theirs to fill
    own_form.locator("textarea[name=achievements]").fill("Two new key accounts")
    own_form.locator("#self_assessment-attitude-4").check()
    own_form.locator("#self_assessment-teamwork-5").check()
    _submit(employee, own_form.locator("button[value=submit]"))
    assert "Self-assessment submitted." in employee.content()
    assert employee.locator("[data-form=self_assessment]").get_attribute("data-state") == "submitted"
    screenshot(employee, "lifecycle-self-assessment")
    _submit(employee, employee.locator("#review-actions button[data-action=approve]"))
    assert _review_state(employee) == ("in_review", "Manager review")
    assert employee.locator("#review-actions").count() == 0  # the manager's step: no buttons for the employee
    refused = _post_by_hand(employee, f"{card_url}/review/approve")
    assert f"{employee_login} may not approve this scorecard now" in refused

    # the manager: the approval waits for the manager rating, which changes the total
    manager = open_as(manager_login)
    manager.goto(f"{manager.base}/")  # what waits for them
    _submit(manager, manager.locator(f"a[href='/scorecards/{period}/{code}']"))
    assert _review_state(manager) == ("in_review", "Manager review")
    before = manager.locator("#card-total").inner_text()
    _submit(manager, manager.locator("#review-actions button[data-action=approve]"))
    assert "submit the Manager rating first" in manager.content()
    rating = manager.locator("[data-form=manager_rating] form")
    rating.locator("#manager_rating-attitude-5").check()
    rating.locator("#manager_rating-teamwork-5").check()
    rating.locator("textarea[name=comment]").fill("Reliable and helpful")
    _submit(manager, rating.locator("button[value=submit]"))
    assert "Manager rating submitted." in manager.content()
    after = manager.locator("#card-total").inner_text()
    assert after != before, (before, after)
    screenshot(manager, "lifecycle-manager-rating")
    _submit(manager, manager.locator("#review-actions button[data-action=approve]"))
    assert _review_state(manager) == ("in_review", "HR calibration")  # total >= 0 holds for everyone scored

    head = open_as(head_login)
    head.goto(card_url)
    assert head.locator("#review-actions").count() == 0  # HR's step, not the head's
    assert f"{head_login} may not approve this scorecard now" in _post_by_hand(head, f"{card_url}/review/approve")

    hr = open_as("hr")
    hr.goto(card_url)
    assert "Lock" not in hr.locator("#review-actions").inner_text()
    _submit(hr, hr.locator("#review-actions button[data-action=approve]"))
    assert _review_state(hr) == ("in_review", "Department head approval")

    head.reload()
    _submit(head, head.locator("#review-actions button[data-action=approve]"))
    assert _review_state(head) == ("approved", "Approved")
    assert f"{head_login} may not lock this scorecard now" in _post_by_hand(head, f"{card_url}/review/lock")

    hr.reload()
    _submit(hr, hr.locator("#review-actions button[data-action=lock]"))
    assert _review_state(hr) == ("locked", "Locked")

    employee.goto(f"{employee.base}/scorecards/mine?period={period}")
    assert _review_state(employee) == ("locked", "Locked")
    assert employee.locator("#review-actions").count() == 0
    history = employee.locator("#review .review-history").inner_text()
    for login in (employee_login, manager_login, "hr", head_login):
        assert login in history
    assert f"{employee_login} may not reopen this scorecard now" in _post_by_hand(employee, f"{card_url}/review/reopen")
    screenshot(employee, "lifecycle-locked")
