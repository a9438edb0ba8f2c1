"""The console in a real browser: an administrator clones a template for another department,
changes a weight, publishes and runs an evaluation; an employee of that department then sees
their own scorecard, computed with the new weight, and nobody else's; a manager cannot open a
scorecard outside their department. Screenshots of the key pages are kept as artifacts."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _people(demo_server, cards):
    """Who is who in the demo company: a sales rep in SOUTH with both results items scored, and a
    manager outside SOUTH."""
    engine = sa.create_engine(demo_server["environment"]["PERFRULES_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT e.code, d.code AS department, r.code AS role, u.login, u.roles FROM employees e "
                "JOIN departments d ON d.id = e.department_id JOIN roles r ON r.id = e.role_id "
                "JOIN users u ON u.employee_id = e.id ORDER BY e.code"
            )
        ).all()
    engine.dispose()
    scored = {
        card["employee"]
        for card in cards
        if all(_weight_of([card], card["employee"], key) for key in ("sales_attainment", "collection_rate"))
    }
    rep = next(row for row in rows if row.department == "SOUTH" and row.role == "sales_rep" and row.code in scored)
    manager = next(row for row in rows if row.department == "EAST" and "manager" in json.loads(row.roles))
    return rep, manager


def _weight_of(cards: list[dict], employee: str, key: str) -> float:
    card = next(card for card in cards if card["employee"] == employee)
    return next((item["weight"] for item in card["items"] if item["key"] == key), 0)


def test_a_cloned_template_with_a_new_weight_reaches_the_employees_of_that_department(open_as, demo_server):
    cards_before = json.loads(demo_server["cli"]("scorecards", "last-month"))
    rep, manager = _people(demo_server, cards_before)
    period = cards_before[0]["period"]
    # within the results section, sales attainment weighs 50 against collection's 30
    assert _weight_of(cards_before, rep.code, "sales_attainment") == pytest.approx(
        _weight_of(cards_before, rep.code, "collection_rate") * 50 / 30
    )

    admin = open_as("admin")
    admin.goto(f"{admin.base}/designer/templates")
    row = admin.locator("tr[data-slug='sales_rep']")
    row.locator("summary", has_text="Clone").click()
    row.locator("input[name='new_slug']").fill("sales_rep_south")
    row.locator("select[name='departments']").select_option("SOUTH")
    row.locator("input[name='label_en']").fill("Sales representative, South")
    row.locator("input[name='label_zh']").fill("华南销售代表")
    row.locator("button[type='submit']").click()
    admin.wait_for_url(re.compile(r"/designer/templates/sales_rep_south"))

    # results: sales attainment 50 → 40, collection 30 → 40; the live sums stay at 100
    results = admin.locator("#sections .section-row").first
    weights = results.locator("input.item-weight-input")
    weights.nth(0).fill("40")
    weights.nth(1).fill("40")
    assert results.locator(".items-sum .sum-value").inner_text() == "100"
    weights.nth(1).fill("45")  # a wrong sum shows at once, before saving
    assert results.locator(".items-sum .sum-value").inner_text() == "105"
    assert "bad" in results.locator(".items-sum").get_attribute("class")
    weights.nth(1).fill("40")
    screenshot(admin, "designer-clone")
    admin.click("#save")
    admin.wait_for_load_state()
    assert "Saved into the draft." in admin.content()

    admin.goto(f"{admin.base}/designer/templates/sales_rep_south/review")
    assert "sales_rep_south" in admin.locator("#diff").inner_text()
    screenshot(admin, "designer-review")
    admin.locator("#publish-form button[type='submit']").click()
    admin.wait_for_load_state()
    assert re.search(r"Published as version \d+", admin.content())

    admin.goto(f"{admin.base}/admin/runs/start")
    admin.fill("#period", period)
    admin.click("#start")
    admin.wait_for_url(re.compile(r"/admin/runs/\d+"))
    admin.wait_for_function("() => !document.body.innerText.includes('running')", timeout=60_000)
    assert "succeeded" in admin.content()
    screenshot(admin, "console-run")

    cards_after = json.loads(demo_server["cli"]("scorecards", period))
    mine = next(card for card in cards_after if card["employee"] == rep.code)
    assert mine["template"] == "sales_rep_south"
    weight_after = _weight_of(cards_after, rep.code, "sales_attainment")
    assert weight_after == pytest.approx(_weight_of(cards_after, rep.code, "collection_rate"))  # 40 and 40 now

    employee = open_as(rep.login)
    employee.goto(f"{employee.base}/scorecards/mine?period={period}")
    page = employee.content()
    assert "Sales representative, South" in page and f"{mine['total']:.1f}" in page
    row = employee.locator("tr", has_text="Sales attainment").first
    shown = f"{weight_after:.1f}".removesuffix(".0") + "%"
    assert shown in row.inner_text(), (shown, row.inner_text())
    screenshot(employee, "employee-scorecard")
    others = [card["employee"] for card in cards_after if card["employee"] != rep.code][:3]
    for code in others:  # nobody else's scorecard, whatever the URL
        response = employee.goto(f"{employee.base}/scorecards/{period}/{code}")
        assert response.status == 404
    assert employee.goto(f"{employee.base}/scorecards/team").status == 403
    assert employee.goto(f"{employee.base}/admin/").status == 403

    boss = open_as(manager.login)
    response = boss.goto(f"{boss.base}/scorecards/{period}/{rep.code}")
    assert response.status == 404  # SOUTH is not the manager's department
    team = boss.goto(f"{boss.base}/scorecards/team?period={period}")
    assert team.status == 200 and rep.code not in boss.content()
    screenshot(boss, "manager-team")


def test_the_console_speaks_chinese_to_a_chinese_browser(open_as):
    page = open_as("hr", language="zh-CN")
    page.goto(f"{page.base}/")
    assert "概览" in page.content()
    page.goto(f"{page.base}/scorecards/company")
    assert "公司汇总" in page.content()
    screenshot(page, "company-zh")
