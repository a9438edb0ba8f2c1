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
