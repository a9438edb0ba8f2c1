"""The main pages for everyone who uses them: axe-core (vendored from npm for these tests only,
tests/browser/vendor/) finds no serious or critical violation on them (contrast, labels, names,
ARIA…), and on a 390 px wide phone every page fits without scrolling sideways, the skip link is
the first thing the keyboard reaches, and the menu folds behind a button that opens it.

One signed-in browser per role (a team lead, the administrator, and nobody for the sign-in page),
each page opened once at desktop width for axe and then narrowed to 390 px. Every failure is
collected and reported together, by page, rule and element."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}
MANAGER = "e00002"  # the demo's first team lead: an employee with a team (see `perfrules data demo`)

#: (name, path) per login; None: the first scorecard of the manager's team, found on the team page
PAGES = {
    MANAGER: [
        ("home", "/"),
        ("my scorecards", "/scorecards/mine"),
        ("team", "/scorecards/team"),
        ("a scorecard", None),
        ("disputes", "/scorecards/disputes"),
        ("inbox", "/inbox/"),
        ("feedback requests", "/feedback/"),
        ("delegations", "/delegations/"),
    ],
    "admin": [
        ("home", "/"),
        ("company", "/scorecards/company"),
        ("calibration", "/scorecards/calibration"),
        ("disputes", "/scorecards/disputes"),
        ("inbox", "/inbox/"),
        ("designer: templates", "/designer/templates"),
        ("designer: a template", "/designer/templates/sales_rep"),
        ("designer: a new KPI", "/designer/kpis/new"),
        ("designer: a new metric", "/designer/metrics/new"),
        ("designer: a form", "/designer/forms/self_assessment"),
        ("designer: a target set", "/designer/targets/role_defaults_2026"),
        ("console", "/admin/"),
        ("console: employees", "/admin/employees/"),
        ("console: an employee", "/admin/employees/edit/?id=2"),
        ("console: runs", "/admin/runs/"),
    ],
}

#: serious and critical violations, one line per element: "rule (impact) at selector: what is wrong"
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const found = [];
  for (const violation of result.violations) {
    if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
    for (const node of violation.nodes) {
      const why = (node.failureSummary || '').split('\\n').slice(1).join(' ').trim();
      found.push(`${violation.id} (${violation.impact}) at ${node.target.join(' ')}: ${why || violation.help}`);
    }
  }
  return found;
}"""


def _axe(page) -> list[str]:
    page.evaluate(AXE + "\n;0")  # evaluated by the browser itself: the page's CSP allows no injected <script>
    return page.evaluate(AXE_RUN)


def _wide(page) -> list[str]:
    """At 390 px: whether the page scrolls sideways, and which elements stick out of it."""
    page.set_viewport_size(PHONE)
    page.wait_for_function("document.documentElement.clientWidth <= 390")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return []
    culprits = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > 391
              && el.children.length === 0).slice(0, 5).map(el => el.tagName.toLowerCase()
              + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string'
              ? '.' + el.className.trim().split(/\\s+/).join('.') : ''))"""
    )
    return [f"390 px: the page is {width} px wide, sticking out: {', '.join(culprits)}"]


def _phone_menu(page) -> list[str]:
    """At 390 px on the page shown: the skip link comes first, the menu is folded and its button
    opens it, and the menu's entries are big enough to tap."""
    problems = []
    page.set_viewport_size(PHONE)
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    page.keyboard.press("Tab")
    first = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
    if first != ["skip-link", "#content"]:
        problems.append(f"the first Tab reaches {first}, not the skip link")
    menu, button = page.locator("#site-menu"), page.locator("#menu-toggle")
    if not button.is_visible() or menu.is_visible():
        problems.append("at 390 px the menu is not folded behind its button")
        return problems
    button.click()
    if not menu.is_visible() or button.get_attribute("aria-expanded") != "true":
        problems.append("the menu button does not open the menu")
        return problems
    small = [
        link.inner_text().strip()
        for link in menu.locator(".nav-link").all()
        if link.bounding_box()["height"] < 44 or link.bounding_box()["width"] < 44
    ]
    if small:
        problems.append(f"menu entries smaller than 44 px: {small}")
    button.click()
    return problems


def _scorecard_of_team(page) -> str:
    page.goto(f"{page.base}/scorecards/team")
    link = page.locator("#team-table a[href^='/scorecards/2']").first
    return link.get_attribute("href")


def test_the_main_pages_pass_axe_and_fit_a_phone(open_as, browser, demo_server):
    failures: dict[str, list[str]] = {}
    for login, pages in PAGES.items():
        page = open_as(login)
        for name, path in pages:
            page.set_viewport_size(DESKTOP)
            page.goto(f"{page.base}{path or _scorecard_of_team(page)}")
            found = _axe(page) + _wide(page)
            if path == "/":
                found += _phone_menu(page)
            if path == "/admin/employees/":
                page.locator("#console-menu-toggle").click()
                if not page.locator("#console-menu a[href='/admin/runs/']").is_visible():
                    found.append("at 390 px the console's menu button does not open the console menu")
            if found:
                screenshot(page, f"accessibility-{login}-{name.replace(' ', '-').replace(':', '')}")
                failures[f"{login} · {name} ({path or 'a scorecard'})"] = found

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{demo_server['url']}/sign-in")
        found = _axe(page) + _wide(page)
        if found:
            failures["nobody · sign-in (/sign-in)"] = found
    finally:
        context.close()

    report = "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in failures.items())
    assert not failures, f"accessibility problems:\n{report}"
