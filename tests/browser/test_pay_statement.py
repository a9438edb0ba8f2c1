"""A sales rep's pay statement on a phone: last month paid on the demo company, the statement and
one of its lines opened at 390 px wide — no sideways scrolling of the page (the tables turn into
cards), and no serious or critical axe-core violation, in Chinese as in English; HR's lines and
runs pages the same."""

from __future__ import annotations

import json

import pytest

from .conftest import screenshot
from .test_accessibility import DESKTOP, _axe, _wide

pytestmark = pytest.mark.browser


def test_the_statement_fits_a_phone_and_passes_axe(open_as, demo_server):
    demo_server["cli"]("pay", "run", "last-month")
    lines = json.loads(demo_server["cli"]("pay", "lines", "last-month"))
    commission = next(line for line in lines if line["component"] == "commission")
    failures = {}
    for language in ("zh-CN", "en"):
        page = open_as(commission["employee"].lower(), language)
        page.goto(f"{page.base}/pay/statement")
        assert page.locator("#statement-lines tbody tr").count() >= 1
        found = _axe(page) + _wide(page)
        screenshot(page, f"pay-statement-{language}-390")
        page.set_viewport_size(DESKTOP)
        page.locator("#statement-lines a").first.click()
        page.wait_for_selector("#line-detail")
        found += _axe(page) + _wide(page)
        screenshot(page, f"pay-line-{language}-390")
        if found:
            failures[language] = found
    hr = open_as("hr")
    for name, path in (("lines", "/pay/lines"), ("runs", "/pay/runs")):
        hr.set_viewport_size(DESKTOP)
        hr.goto(f"{hr.base}{path}")
        found = _axe(hr) + _wide(hr)
        screenshot(hr, f"pay-{name}-390")
        if found:
            failures[f"hr · {name}"] = found
    assert not failures, f"accessibility problems: {failures}"


def test_what_if_and_special_awards_fit_a_phone_and_pass_axe(open_as, demo_server):
    """A rep opens What if… from their statement and asks what 50,000.00 more would pay; HR replays
    the draft and asks for an award that an administrator may decide: each page at 390 px without sideways scrolling (the changes
    become cards), and no serious or critical axe-core violation."""
    demo_server["cli"]("pay", "run", "last-month")
    lines = json.loads(demo_server["cli"]("pay", "lines", "last-month"))
    commission = next(line for line in lines if line["component"] == "commission")
    failures = {}
    for language in ("zh-CN", "en"):
        page = open_as(commission["employee"].lower(), language)
        page.goto(f"{page.base}/pay/statement")
        page.locator("#what-if").click()
        page.fill("#e-amount", "50,000.00")
        page.locator("#estimate").click()
        page.wait_for_selector("#estimate-answer")
        assert page.locator("#estimate-changes tbody tr").count() >= 1
        found = _axe(page) + _wide(page)
        screenshot(page, f"pay-estimate-{language}-390")
        if found:
            failures[language] = found
    hr = open_as("hr")
    hr.goto(f"{hr.base}/pay/awards")
    hr.locator("#ask summary").click()
    hr.fill("#a-employee", commission["employee"])
    hr.fill("#a-month", commission["month"])
    hr.fill("#a-amount", "1,000.00")
    hr.fill("#a-reason", "saved a renewal")
    hr.locator("#ask-award").click()
    hr.wait_for_selector("#awards tbody tr[data-status='requested']")
    admin = open_as("admin")
    for name, page, path in (
        ("estimate", hr, f"/pay/estimate?month={commission['month']}&draft=yes"),
        ("awards", admin, "/pay/awards"),
    ):
        page.set_viewport_size(DESKTOP)
        page.goto(f"{page.base}{path}")
        found = _axe(page) + _wide(page)
        screenshot(page, f"pay-{name}-hr-390")
        if found:
            failures[f"hr · {name}"] = found
    assert admin.locator("#awards form.decide-form").count() >= 1  # another may approve HR's award
    assert not failures, f"accessibility problems: {failures}"
