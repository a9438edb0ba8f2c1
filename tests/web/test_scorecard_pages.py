"""The scorecard pages on the hand-checked scenario company (tests/engine/scenario.py, evaluated for
2026-09 and 2026-10): the numbers, the trace in plain words, the comparison with the previous
period, where points are to be gained, who sees which page, the team table's filters and sorting,
the company summary by department, and pages that load nothing from elsewhere."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.org.models import Employee
from perfrules.web import create_app

from ..helpers import add_users, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database
PASSWORD = "pages-pass-1"
EVERYONE = {"L1", "R1", "R2", "R3", "R4"}
#: login → (role, employee) and whose 2026-10 scorecards the login may see
USERS = {
    "rep1": ("employee", "R1", {"R1"}),
    "rep2": ("employee", "R2", {"R2"}),
    "lead_east": ("manager", "L1", {"L1", "R1", "R2"}),
    "lead_west": ("manager", "R3", {"R3", "R4"}),
    "hr": ("hr", None, EVERYONE),
    "audit": ("auditor", None, EVERYONE),
    "admin": ("admin", None, EVERYONE),
}


def _evaluate_and_create_users(folder: Path) -> None:
    for period in ("2026-09", "2026-10"):
        result = run_cli("run", period)
        assert result.exit_code == 0, result.output
    add_users(((login, role, employee) for login, (role, employee, _) in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_evaluate_and_create_users, parent="company")
def pages_company(company):
    """The scenario company evaluated for 2026-09 and 2026-10, with USERS; the test's folder."""
    return company


@pytest.fixture
def app(pages_company, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


class Browser:
    """A test client signed in through the real sign-in form, asking for English pages."""

    def __init__(self, app, login: str, language: str = "en"):
        self.client = app.test_client()
        self.language = language
        response = sign_in(self.client, login, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)

    def get(self, url: str, status: int = 200):
        response = self.client.get(url, headers={"Accept-Language": self.language})
        assert response.status_code == status, (url, response.status_code)
        return response

    def page(self, url: str, status: int = 200) -> str:
        return self.get(url, status).get_data(as_text=True)


def plain(fragment: str) -> str:
    """The text a reader sees: no scripts, no tags, entities decoded, spaces collapsed."""
    fragment = re.sub(r"<script\b.*?</script>", " ", fragment, flags=re.S)
    fragment = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"\s+", " ", html.unescape(fragment)).strip()


def element(page: str, tag: str, attribute: str, value: str) -> str:
    found = re.search(rf'<{tag}\b[^>]*\b{attribute}="{re.escape(value)}"[^>]*>(.*?)</{tag}>', page, re.S)
    assert found, f"no <{tag} {attribute}={value!r}>"
    return found.group(1)


def cells(page: str, attribute: str, value: str) -> list[str]:
    """The cells of the table row carrying attribute=value, as text."""
    row = element(page, "tr", attribute, value)
    return [plain(cell) for cell in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", row, re.S)]


def chart(page: str, name: str) -> dict:
    return json.loads(html.unescape(element(page, "script", "id", f"{name}-data")))


def team_codes(page: str) -> list[str]:
    table = element(page, "table", "id", "team-table")
    return re.findall(r'<tr data-employee="([^"]+)"', table)


# --- one scorecard -------------------------------------------------------------------------------


def test_an_employee_reads_their_own_scorecard_with_every_number_explained(app):
    page = Browser(app, "rep1").page("/scorecards/mine")
    text = plain(page)
    # the latest period by default, and the periods the employee has
    assert 'data-period="2026-10"' in page
    assert (
        plain(element(page, "ul", "class", "nav nav-pills d-inline-flex flex-wrap period-picker")) == "2026-10 2026-09"
    )
    assert plain(element(page, "div", "id", "card-total")) == "105.4"
    assert plain(element(page, "span", "id", "card-grade")) == "S" and "Outstanding" in text
    assert plain(element(page, "div", "id", "rank-department")) == "1 of 2"  # R1 and R2 on the rep template
    assert plain(element(page, "div", "id", "rank-company")) == "1 of 4"
    assert plain(element(page, "strong", "id", "card-template")) == "Rep" and "configuration version 1" in text

    # item, value, target, score, weight, points, and the change since 2026-09
    attainment = cells(page, "data-item", "attainment")
    # the scenario's KPIs have no format: values show as the numbers they are (a percent KPI shows 120%)
    assert attainment[1:] == ["1.2", "20,000", "120.0", "42%", "50.4", "−21.6"]
    assert (
        "Sales 24,000 ÷ target 20,000 = 1.2 → 120.0 points (linear from 0 (0 points) to 1.2 (120 points), "
        "never below 0, capped at 120 — the cap applies) × weight 42% = 50.4 points"
    ) in attainment[0]
    assert "Target: your own target in “Targets”: 2026-10" in attainment[0]
    assert "Formula: sales / target.sales" in attainment[0]
    win_rate = cells(page, "data-item", "win_rate")
    assert win_rate[1:] == ["0.67", "—", "100.0", "28%", "28.0", "−12.0"]
    assert (
        "Won 2 ÷ (Won 2 + Lost 1) = 0.67 → 100.0 points (band 1 of 2: ≥ 0.5) × weight 28% = 28.0 points" in win_rate[0]
    )
    growth = cells(page, "data-item", "growth")
    assert growth[1:] == ["1", "—", "100.0", "15%", "15.0", "—"]  # excluded in 2026-09: nothing to compare
    assert (
        "Sales 24,000 ÷ Sales last period 12,000 − 1 = 1 → 100.0 points (scoring formula "
        "clamp(50 + value * 100, 0, 100)) × weight 15% = 15.0 points" in growth[0]
    )
    rating = cells(page, "data-item", "rating")
    assert rating[1:] == ["80.0", "—", "80.0", "15%", "12.0", "—"]
    assert "rated 80.0 points × weight 15% = 12.0 points" in rating[0]
    assert cells(page, "data-section-row", "results")[:3] == ["Results", "70%", "78.4"]

    # 2026-09: 12,000 against the role's 10,000 (capped 120) and 1 of 1 won, process left out → 112.0
    assert plain(element(page, "div", "id", "previous-total")) == "112.0 → 105.4 −6.6"
    # only the rating is short of its maximum: (100 − 80) × 15%
    gains = element(page, "table", "id", "gains")
    assert re.findall(r'<tr data-item="([^"]+)"', gains) == ["rating"]
    assert cells(gains, "data-item", "rating") == [
        "Manager rating",
        "12.0",
        "15.0",
        "+3.0",
        "a rating of up to 100 points",
    ]

    attained = chart(page, "attainment")
    assert attained["labels"] == ["Attainment", "Win rate", "Growth", "Manager rating"]
    assert attained["values"] == [120.0, 100.0, 100.0, 80.0] and attained["basis"][0] == "target"
    assert chart(page, "trend") == {"labels": ["2026-09", "2026-10"], "values": [112.0, 105.4], "title": "Total"}


def test_left_out_items_their_reasons_and_where_points_are_to_be_gained(app):
    browser = Browser(app, "rep2")
    page = browser.page("/scorecards/mine?period=2026-10")
    assert plain(element(page, "div", "id", "card-total")) == "60.0"
    assert plain(element(page, "span", "id", "card-grade")) == "C"
    attainment = cells(page, "data-item", "attainment")
    assert attainment[1:6] == ["0.6", "10,000", "60.0", "60%", "36.0"]
    assert (
        "Target: the default for role rep in “Targets”: 2026 120,000 → 2026-10 10,000 (spread evenly over the months)"
    ) in attainment[0]
    growth = cells(page, "data-item", "growth")
    assert growth[1:6] == ["—", "—", "—", "0%", "—"]
    assert (
        "Sales 6,000 ÷ Sales last period 0 − 1 = no value → left out (division by zero in sales / prev.sales); "
        "its weight goes to the other items"
    ) in growth[0]
    assert (
        "No rating yet → left out by the missing-data policy; its weight goes to the other items"
        in cells(page, "data-item", "rating")[0]
    )
    # 2026-09: no sales (0 points) and nothing else counted → 0.0
    assert plain(element(page, "div", "id", "previous-total")) == "0.0 → 60.0 +60.0"

    gains = element(page, "table", "id", "gains")
    assert re.findall(r'<tr data-item="([^"]+)"', gains) == ["attainment", "win_rate"]
    assert cells(gains, "data-item", "attainment") == [
        "Attainment",
        "36.0",
        "72.0",
        "+36.0",
        "1.2 or more gives the item's full 120 points",
    ]
    assert cells(gains, "data-item", "win_rate") == [
        "Win rate",
        "24.0",
        "40.0",
        "+16.0",
        "next band ≥ 0.5 gives 100 points (+16.0 in the total)",
    ]

    earlier = browser.page("/scorecards/mine?period=2026-09")
    assert plain(element(earlier, "div", "id", "card-total")) == "0.0"
    assert "No earlier scorecard to compare with." in plain(earlier)
    browser.page("/scorecards/mine?period=2026-11", 404)
    browser.page("/scorecards/mine?period=someday", 404)


def test_a_scorecard_without_a_total_says_why(app):
    # 2026-09 has no team target: team_attainment's policy is fail
    page = Browser(app, "lead_east").page("/scorecards/2026-09/L1")
    assert plain(element(page, "div", "id", "card-error")) == (
        "This scorecard has no total: Team attainment: no value, and the missing-data policy fails the scorecard"
    )
    assert plain(element(page, "div", "id", "card-total")) == "—"


def test_pages_before_any_period_is_evaluated(company, cli_env, tmp_path):
    for login in ("rep1", "hr"):
        role, employee, _ = USERS[login]
        run_cli(
            "user",
            "create",
            login,
            "--role",
            role,
            "--password",
            PASSWORD,
            *(["--employee", employee] if employee else []),
        )
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    assert "You have no scorecards yet" in plain(Browser(app, "rep1").page("/scorecards/mine"))
    hr = Browser(app, "hr")
    assert plain(element(hr.page("/scorecards/team"), "p", "id", "team-summary")).startswith("0 scorecards")
    assert "No scorecards for this period yet." in plain(hr.page("/scorecards/company"))


def test_users_without_an_employee_and_anonymous_visitors(app):
    assert "not linked to an employee" in plain(Browser(app, "hr").page("/scorecards/mine"))
    anonymous = app.test_client()
    for url in ("/scorecards/mine", "/scorecards/2026-10/R1", "/scorecards/team", "/scorecards/company"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), url


def test_who_may_open_whose_scorecard(app):
    for login in sorted(USERS):
        check_whose_scorecards(app, login)


def check_whose_scorecards(app, login):
    visible = USERS[login][2]
    browser = Browser(app, login)
    for code in sorted(EVERYONE):
        if code in visible:
            page = browser.page(f"/scorecards/2026-10/{code}")
            assert f'data-employee="{code}"' in page
        else:  # the same answer as for a scorecard that does not exist
            page = browser.page(f"/scorecards/2026-10/{code}", 404)
            assert "There is no such page, or it is not yours to see." in page and code not in plain(page)
    browser.page("/scorecards/2026-10/NOBODY", 404)
    browser.page("/scorecards/2026-13/R1", 404)
    # the menu offers what the role may use
    menu = element(browser.page("/"), "ul", "class", "navbar-nav mr-auto")
    assert ("/scorecards/mine" in menu) == (USERS[login][1] is not None)
    assert ("/scorecards/team" in menu) == (USERS[login][0] == "manager")
    assert ("/scorecards/company" in menu) == (USERS[login][0] in ("hr", "auditor", "admin"))


# --- the team table ------------------------------------------------------------------------------


def test_the_team_table_shows_the_department_subtree(app):
    for login, (role, _, visible) in sorted(USERS.items()):
        browser = Browser(app, login)
        if role == "employee":
            browser.page("/scorecards/team", 403)
            continue
        page = browser.page("/scorecards/team")
        assert set(team_codes(page)) == visible, login
        assert f"{len(visible)} scorecards" in plain(element(page, "p", "id", "team-summary"))
        for code in visible:
            assert f'href="/scorecards/2026-10/{code}"' in page


def test_team_figures_and_charts(app):
    page = Browser(app, "lead_east").page("/scorecards/team?period=2026-10")
    assert team_codes(page) == ["R1", "L1", "R2"]  # total, highest first; a tie by code
    assert cells(page, "data-employee", "R1")[:8] == ["R1", "销售一", "East", "Rep", "105.4", "S", "1", "1"]
    assert cells(page, "data-employee", "L1")[:8] == ["L1", "主管一", "East", "Lead", "60.0", "C", "1", "1"]
    summary = plain(element(page, "p", "id", "team-summary"))
    assert summary.startswith("3 scorecards · average 75.1 · lowest 60.0 · highest 105.4")
    assert "S 1" in summary and "C 2" in summary
    histogram = chart(page, "histogram")
    assert histogram["labels"][:2] == ["<10", "10–20"] and histogram["labels"][-1] == "≥120"
    assert dict(zip(histogram["labels"], histogram["values"])) == {
        **dict.fromkeys(histogram["labels"], 0),
        "60–70": 2,
        "100–110": 1,
    }
    grades = chart(page, "grades")
    assert grades["labels"] == ["S", "A", "B", "C", "D"] and grades["values"] == [1, 0, 0, 2, 0]


def test_team_filters_search_and_sorting(app):
    browser = Browser(app, "hr")
    codes = lambda query: team_codes(browser.page(f"/scorecards/team?period=2026-10&{query}"))  # noqa: E731
    assert codes("") == ["R1", "R4", "L1", "R2", "R3"]
    assert set(codes("department=EAST")) == {"L1", "R1", "R2"}
    assert set(codes("department=SALES")) == EVERYONE  # a department and the ones below it
    assert codes("template=lead") == ["L1"]
    assert codes("grade=S") == ["R1", "R4"]
    assert codes("q=r3") == ["R3"] and codes("q=销售") == ["R1", "R4", "R2", "R3"] and codes("q=%25") == []
    assert codes("department=WEST&grade=D") == ["R3"]
    assert codes("sort=total&order=asc") == ["R3", "L1", "R2", "R4", "R1"]
    assert codes("sort=employee&order=desc") == ["R4", "R3", "R2", "R1", "L1"]
    assert codes("sort=rank_company&order=asc") == ["L1", "R1", "R4", "R2", "R3"]
    assert codes("sort=nonsense&order=sideways") == ["R1", "R4", "L1", "R2", "R3"]
    unknown = browser.page("/scorecards/team?department=MARS")
    assert "There is no department MARS." in plain(unknown) and team_codes(unknown) == []
    # headers sort on the server without JavaScript, and turn the order round when clicked again
    page = browser.page("/scorecards/team?period=2026-10&grade=S&sort=total&order=desc")
    total_header = element(page, "th", "data-key", "total")
    assert 'href="/scorecards/team?grade=S&amp;period=2026-10&amp;sort=total&amp;order=asc"' in total_header
    assert 'aria-sort="descending"' in page
    # a manager's filters never reach past their subtree
    assert team_codes(Browser(app, "lead_east").page("/scorecards/team?department=WEST")) == []
    assert team_codes(Browser(app, "lead_east").page("/scorecards/team?department=SALES")) == ["R1", "L1", "R2"]
    # the earlier period: L1 has no total and comes last
    assert team_codes(browser.page("/scorecards/team?period=2026-09")) == ["R1", "R4", "R3", "R2", "L1"]


def test_names_are_escaped(app, session):
    session.execute(sa.update(Employee).where(Employee.code == "R3").values(name='<img src=x onerror="alert(1)">'))
    session.commit()
    page = Browser(app, "hr").page("/scorecards/team?period=2026-10")
    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    card = Browser(app, "hr").page("/scorecards/2026-10/R3")
    assert "<img src=x" not in card


# --- the company summary -------------------------------------------------------------------------


def test_only_hr_admins_and_auditors_see_the_company(app):
    for login, (role, _, _) in USERS.items():
        Browser(app, login).page("/scorecards/company", 200 if role in ("hr", "auditor", "admin") else 403)


def test_company_summary_by_department(app):
    page = Browser(app, "audit").page("/scorecards/company?period=2026-10")
    header = [
        plain(cell)
        for cell in re.findall(r"<th\b[^>]*>(.*?)</th>", element(page, "thead", "class", "thead-light"), re.S)
    ]
    assert header == ["Department", "Scorecards", "Average", "Lowest", "Highest", "S", "A", "B", "C", "D", "no total"]
    # EAST: L1 60, R1 105.4, R2 60; WEST: R3 13.5, R4 103.9
    assert cells(page, "data-department", "EAST") == [
        "East EAST",
        "3",
        "75.1",
        "60.0",
        "105.4",
        "1",
        "0",
        "0",
        "2",
        "0",
        "0",
    ]
    assert cells(page, "data-department", "WEST") == [
        "West WEST",
        "2",
        "58.7",
        "13.5",
        "103.9",
        "1",
        "0",
        "0",
        "0",
        "1",
        "0",
    ]
    assert cells(page, "data-department", "*") == [
        "Company",
        "5",
        "68.6",
        "13.5",
        "105.4",
        "2",
        "0",
        "0",
        "2",
        "1",
        "0",
    ]
    assert 'href="/scorecards/team?period=2026-10&amp;department=EAST"' in page
    departments = chart(page, "departments")
    assert departments["labels"] == ["East", "West"]
    assert {s["label"]: s["values"] for s in departments["datasets"]} == {
        "S": [1, 1],
        "A": [0, 0],
        "B": [0, 0],
        "C": [2, 0],
        "D": [0, 1],
    }
    # 2026-09: R1 112, R2 0, R3 82, R4 100; L1 failed for want of a team target
    assert chart(page, "company-trend")["labels"] == ["2026-09", "2026-10"]
    assert chart(page, "company-trend")["values"] == [73.5, 68.6]

    september = Browser(app, "admin").page("/scorecards/company?period=2026-09")
    assert cells(september, "data-department", "EAST") == [
        "East EAST",
        "3",
        "56.0",
        "0.0",
        "112.0",
        "1",
        "0",
        "0",
        "0",
        "1",
        "1",
    ]
    assert cells(september, "data-department", "*")[:2] == ["Company", "5"]
    only_leads = Browser(app, "hr").page("/scorecards/company?period=2026-10&template=lead")
    assert cells(only_leads, "data-department", "*")[:5] == ["Company", "1", "60.0", "60.0", "60.0"]
    assert 'data-department="WEST"' not in only_leads


# --- what the pages load -------------------------------------------------------------------------


def test_pages_load_nothing_from_elsewhere_and_every_script_carries_the_nonce(app):
    pages = [
        ("rep1", "/scorecards/mine"),
        ("lead_east", "/scorecards/2026-10/R2"),
        ("lead_east", "/scorecards/team"),
        ("hr", "/scorecards/company"),
    ]
    for login, url in pages:
        response = Browser(app, login).get(url)
        page = response.get_data(as_text=True)
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I), url
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), url
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), url  # no inline event handlers
        assert "vendor/chartjs/chart.umd.min.js" in page


def test_configuration_labels_follow_the_language(app):
    page = Browser(app, "rep1", "zh-CN").page("/scorecards/mine?period=2026-10")
    assert plain(element(page, "strong", "id", "card-template")) == "销售考核"
    assert cells(page, "data-section-row", "results")[0] == "业绩"
    assert "销售额 24,000 ÷" in cells(page, "data-item", "attainment")[0]
    assert chart(page, "attainment")["labels"][0] == "完成率"
