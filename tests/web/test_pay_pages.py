"""The pay pages on the hand-checked pay company (tests/pay/test_pay_runs.py, paid for 2026-10
and 2026-11): each person's statement and its totals, a line opened to its records, who may open
whose, the lines of a team or the company filtered, paged and downloaded, and HR's runs —
previewed without writing, confirmed, refused to anyone else and without a CSRF token."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from perfrules.pay.models import PayLine, PayRun
from perfrules.web import create_app
from perfrules.web.pay import lines as lines_page
from perfrules.web.pay import statement as statement_page
from perfrules.web.pay.blueprint import money

from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write
from ..pay.test_pay_runs import paid_company  # noqa: F401  (the parent state)
from .test_scorecard_pages import cells, element, plain

pytestmark = pytest.mark.database
PASSWORD = "pay-pages-1"
#: login → (role, employee): L1 leads R1 and R2 in EAST; R3 leads R4 in WEST
USERS = {
    "rep1": ("employee", "R1"),
    "rep2": ("employee", "R2"),
    "lead_east": ("manager", "L1"),
    "lead_west": ("manager", "R3"),
    "rep4_manager": ("manager", "R4"),  # a manager who reports to R3: never sees their boss's pay
    "hr": ("hr", None),
    "audit": ("auditor", None),
}
#: R1's October lines (tests/pay/test_pay_runs.py works every amount out by hand)
R1_OCTOBER = {
    "Commission": "2,400.00",
    "Floating pay": "4,472.42",
    "Grade bonus": "1,500.00",
    "Attainment bonus": "13,000.00",
}


def _pay_and_users(folder: Path) -> None:
    for month in ("2026-10", "2026-11"):
        result = run_cli("pay", "run", month)
        assert result.exit_code == 0, result.output
    add_users(((login, role, employee) for login, (role, employee) in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_pay_and_users, parent="paid_company")
def pay_pages_company(paid_company):
    """The pay company paid for 2026-10 and 2026-11, with USERS; the test's folder."""
    return paid_company


@pytest.fixture
def app(pay_pages_company, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


class Browser:
    """A test client signed in through the real sign-in form, asking for pages in `language`."""

    def __init__(self, app, login: str, language: str = "en"):
        self.client = app.test_client()
        self.headers = {"Accept-Language": language}
        assert sign_in(self.client, login, PASSWORD).status_code == 302
        self.csrf = csrf_token(self.client.get("/", headers=self.headers).get_data(as_text=True))

    def get(self, url: str, status: int = 200):
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == status, (url, response.status_code)
        return response

    def page(self, url: str, status: int = 200) -> str:
        return self.get(url, status).get_data(as_text=True)

    def post(self, url: str, data: dict, csrf: bool = True):
        return self.client.post(url, data={**data, **({"csrf_token": self.csrf} if csrf else {})}, headers=self.headers)


def amounts(page: str, table: str) -> list[Decimal]:
    """The amounts of a table's lines, as numbers again (a real minus sign read as one)."""
    body = element(page, "table", "id", table)
    shown = [plain(cell) for cell in re.findall(r'<td [^>]*class="num line-amount">(.*?)</td>', body, re.S)]
    return [Decimal(text.split()[0].replace(",", "").replace("\u2212", "-")) for text in shown]


def total(page: str, currency: str = "CNY") -> Decimal:
    shown = plain(element(page, "div", "data-currency", currency))
    return Decimal(shown.replace(",", "").replace("\u2212", "-"))


def line_id(session, code: str, component: str, month: str = "2026-10") -> int:
    session.rollback()
    return session.scalar(
        sa.text(
            "SELECT l.id FROM pay_lines l JOIN employees e ON e.id = l.employee_id "
            "WHERE e.code = :code AND l.component = :component AND l.period = :month"
        ),
        {"code": code, "component": component, "month": month},
    )


def lines_table_codes(page: str) -> list[str]:
    return re.findall(r'<tr data-employee="([^"]+)" data-line=', element(page, "table", "id", "pay-lines"))


# --- the statement -------------------------------------------------------------------------------


def test_an_employee_reads_their_statement_and_its_totals_are_the_sums_of_the_lines(app):
    rep1 = Browser(app, "rep1")
    latest = rep1.page("/pay/statement")
    assert 'data-month="2026-11"' in latest  # the latest month with lines
    assert plain(element(latest, "ul", "id", "month-picker")) == "2026-11 2026-10"
    assert Decimal("3100.00") in amounts(latest, "statement-lines")  # November's commission
    assert sum(amounts(latest, "statement-lines")) == total(latest)

    page = rep1.page("/pay/statement?month=2026-10")
    shown = {cells(page, "data-line", line)[1]: cells(page, "data-line", line)[3] for line in _lines(page)}
    assert shown == {component: f"{amount} CNY" for component, amount in R1_OCTOBER.items()}
    assert all(cells(page, "data-line", line)[0] == "Rep pay" for line in _lines(page))  # labels, not slugs
    assert "line-kind" not in page  # earned lines are named by their component alone
    assert sum(amounts(page, "statement-lines")) == total(page) == Decimal("21372.42")
    assert "80,000.00 amount collected: 80,000.00 × 3 % = 2,400.00" in plain(page)
    rep1.get("/pay/statement?month=2026-09", 404)  # no lines that month


def _lines(page: str) -> list[str]:
    return re.findall(r'<tr data-line="(\d+)"', page)


def test_a_line_opens_to_its_base_rate_and_the_records_it_credits_a_page_at_a_time(app, session, monkeypatch):
    rep1 = Browser(app, "rep1")
    commission = line_id(session, "R1", "commission")
    page = rep1.page(f"/pay/line/{commission}")
    assert plain(element(page, "dd", "id", "line-amount")) == "2,400.00 CNY"
    assert plain(element(page, "dd", "id", "line-base")) == "80,000.00"
    assert plain(element(page, "dd", "id", "line-source")) == "2 records of Collections"
    assert plain(element(page, "p", "id", "credit-summary")) == "2 records, bringing 80,000.00 in this period."
    assert cells(page, "data-record", "C1") == ["C1", "2026-10-05", "60,000.00", "software"]
    assert cells(page, "data-record", "C2") == ["C2", "2026-10-25", "20,000.00", "software"]
    assert "Product" in element(page, "table", "id", "line-credits")  # the dataset's own field, by its label

    monkeypatch.setattr(statement_page, "CREDITS_PER_PAGE", 1)
    second = rep1.page(f"/pay/line/{commission}?page=2")
    assert re.findall(r'data-record="([^"]+)"', second) == ["C2"] and "Page 2 of 2" in plain(second)

    grade = rep1.page(f"/pay/line/{line_id(session, 'R1', 'grade_bonus')}")
    assert plain(element(grade, "dd", "id", "line-rate")) == "× 1.5" and 'id="line-credits"' not in grade
    attainment = rep1.page(f"/pay/line/{line_id(session, 'R1', 'attainment')}")
    assert plain(element(attainment, "dd", "id", "line-rate")) == "130 %"
    assert plain(element(attainment, "dd", "id", "line-source")) == "the metric Sales · target 20,000.00"


def test_nobody_opens_a_statement_or_line_they_may_not_see(app, session):
    rep1 = Browser(app, "rep1")
    rep1.get("/pay/statement/R1")  # their own, by code
    for code in ("R2", "L1", "NOBODY"):
        rep1.get(f"/pay/statement/{code}", 404)
    rep1.get(f"/pay/line/{line_id(session, 'R2', 'commission')}", 404)
    rep1.get("/pay/line/999999999", 404)
    assert set(lines_table_codes(rep1.page("/pay/lines?month=2026-10"))) == {"R1"}  # an employee: their own

    lead = Browser(app, "lead_east")
    assert total(lead.page("/pay/statement/R2?month=2026-10")) == Decimal("21045.97")  # a report's
    lead.get(f"/pay/line/{line_id(session, 'R2', 'commission')}")
    lead.get("/pay/statement/R3", 404)  # another team's
    assert "No pay lines yet" in lead.page("/pay/statement")  # a lead is in no plan

    below = Browser(app, "rep4_manager")
    below.get("/pay/statement/R4")
    below.get("/pay/statement/R3", 404)  # their boss's
    below.get(f"/pay/line/{line_id(session, 'R3', 'commission')}", 404)
    assert Browser(app, "lead_west").get("/pay/statement/R4?month=2026-10").status_code == 200


# --- the lines of everyone one may see ----------------------------------------------------------------


def test_managers_see_their_reports_lines_and_hr_everyones_with_totals_in_sql(app):
    lead = Browser(app, "lead_east").page("/pay/lines?month=2026-10")
    assert set(lines_table_codes(lead)) == {"R1", "R2"}
    assert plain(element(lead, "p", "id", "pay-summary")).startswith("8 lines for 2 people")
    assert 'href="/pay/statement/R2?month=2026-10"' in lead  # each person's row opens their statement

    hr = Browser(app, "hr").page("/pay/lines?month=2026-10")
    assert plain(element(hr, "p", "id", "pay-summary")).startswith("15 lines for 4 people")
    assert total(hr) == Decimal("69811.75")
    assert "Rep pay" in plain(element(hr, "select", "id", "f-plan"))
    assert plain(element(hr, "select", "id", "f-department")) == "all East West"


def test_filters_and_pages_keep_the_counts_and_totals_of_every_line_they_match(app, monkeypatch):
    hr = Browser(app, "hr")
    east = hr.page("/pay/lines?month=2026-10&department=EAST")
    assert set(lines_table_codes(east)) == {"R1", "R2"} and total(east) == Decimal("42418.39")
    commission = hr.page("/pay/lines?month=2026-10&plan=reps&component=commission")
    assert amounts(commission, "pay-lines") == [Decimal("2400.00"), Decimal("12000.00"), Decimal("30.00")]
    assert total(commission) == Decimal("14430.00")
    assert set(lines_table_codes(hr.page("/pay/lines?month=2026-10&q=%E9%94%80%E5%94%AE%E4%BA%8C"))) == {"R2"}  # 销售二
    assert set(lines_table_codes(hr.page("/pay/lines?month=2026-10&q=r3"))) == {"R3"}
    nothing = hr.page("/pay/lines?month=2026-10&department=NOWHERE")
    assert "No lines match." in nothing and plain(element(nothing, "p", "id", "pay-summary")).startswith("0 lines")

    monkeypatch.setattr(lines_page, "LINES_PER_PAGE", 4)
    first, last = hr.page("/pay/lines?month=2026-10"), hr.page("/pay/lines?month=2026-10&page=4")
    assert len(lines_table_codes(first)) == 4 and len(lines_table_codes(last)) == 3
    assert "Page 4 of 4" in plain(last) and total(first) == total(last) == Decimal("69811.75")
    assert len(lines_table_codes(hr.page("/pay/lines?month=2026-10&page=99"))) == 3  # past the end: the last


def test_downloads_are_exactly_the_filtered_lines_with_amounts_as_numbers_and_text_neutralised(app, session):
    session.execute(sa.text("UPDATE employees SET name = '=HYPERLINK(1)' WHERE code = 'R3'"))
    session.commit()
    hr = Browser(app, "hr")
    response = hr.get("/pay/lines/download.csv?month=2026-10&component=commission")
    assert response.mimetype == "text/csv" and "pay-lines-2026-10.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [(row["employee"], row["amount"]) for row in rows] == [
        ("R1", "2400.00"),
        ("R2", "12000.00"),
        ("R3", "30.00"),
    ]
    assert rows[2]["name"] == "'=HYPERLINK(1)"

    workbook = hr.get("/pay/lines/download.xlsx?month=2026-10&department=EAST").get_data()
    sheet = load_workbook(io.BytesIO(workbook)).active
    header = [cell.value for cell in sheet[1]]
    found = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert {row["employee"] for row in found} == {"R1", "R2"} and len(found) == 8
    assert all(isinstance(row["amount"], int | float) for row in found)
    assert sum(Decimal(str(row["amount"])) for row in found) == Decimal("42418.39")

    rep1 = Browser(app, "rep1").get("/pay/lines/download.csv?month=2026-10").get_data().decode("utf-8-sig")
    assert {row["employee"] for row in csv.DictReader(io.StringIO(rep1))} == {"R1"}
    hr.get("/pay/lines/download.pdf?month=2026-10", 404)


# --- runs -----------------------------------------------------------------------------------------


def _counts(session) -> tuple[int, int]:
    session.rollback()
    return (
        session.scalar(sa.select(sa.func.count()).select_from(PayRun)),
        session.scalar(sa.select(sa.func.count()).select_from(PayLine)),
    )


def test_hr_previews_a_month_writing_nothing_then_runs_it(app, session):
    hr = Browser(app, "hr")
    listed = hr.page("/pay/runs")
    assert re.findall(r'<tr data-run="(\d+)" data-status="succeeded"', listed) == ["2", "1"]
    assert "Running a month again replaces the lines of that month" in plain(listed)
    before = _counts(session)

    preview = hr.post("/pay/runs/preview", {"month": "2026-11"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    previewed = re.search(r"Nothing has been written\. (\d+) lines for (\d+) people\.", plain(page))
    assert previewed, plain(page)
    rows = [cells(row, "data-employee", "R1") for row in re.findall(r'<tr data-employee="R1">.*?</tr>', page, re.S)]
    assert [
        "销售一 R1",
        "Rep pay",
        "Commission",
        "2026-11",
        "3,100.00 CNY",
        "150,000.00 amount collected: 100,000.00 × 3 % + 50,000.00 × 5 % = 5,500.00; "
        "less 2,400.00 on the 80,000.00 before this period in 2026-Q4 = 3,100.00",
    ] in rows
    assert _counts(session) == before  # a dry run writes nothing

    assert hr.post("/pay/runs", {"month": "2026-11"}).status_code == 422  # not confirmed
    assert _counts(session) == before
    ran = hr.post("/pay/runs", {"month": "2026-11", "confirm": "yes"})
    assert ran.status_code == 302
    detail = hr.page(ran.headers["Location"])
    assert plain(element(detail, "span", "id", "run-status")) == "Succeeded"
    assert plain(element(detail, "dd", "id", "run-lines")) == "{} lines for {} people".format(*previewed.groups())
    runs, lines = _counts(session)
    assert (runs, lines) == (before[0] + 1, before[1])  # the month's lines replaced, not added


def test_a_failed_run_lists_its_problems_with_plan_component_and_employee(app, session, tmp_path):
    leads = """
    plans:
      - slug: leads
        label: {zh: 主管激励, en: Lead pay}
        assign: [{roles: [lead]}]
        parameters: {target_bonus: 5000}
        components:
          - slug: attainment
            label: {zh: 主管达成, en: Lead attainment}
            frequency: monthly
            base: {metric: sales}
            rule: {kind: attainment, target_pay: target_bonus}
    """
    assert run_cli("config", "load", write(tmp_path, "leads.yaml", leads)).exit_code == 0
    assert run_cli("config", "publish", "-m", "leads").exit_code == 0
    hr = Browser(app, "hr")
    preview = hr.post("/pay/runs/preview", {"month": "2026-11"}).get_data(as_text=True)
    problem = plain(element(preview, "table", "id", "preview-problems"))
    assert "Lead pay Lead attainment 主管一 (L1) no target for sales in 2026-11" in problem
    ran = hr.post("/pay/runs", {"month": "2026-11", "confirm": "yes"})
    detail = hr.page(ran.headers["Location"])
    assert plain(element(detail, "span", "id", "run-status")) == "Failed"
    assert "no target for sales in 2026-11" in plain(element(detail, "table", "id", "run-problems"))
    # running a month before one already paid is refused, saying why, before anything is computed
    earlier = hr.post("/pay/runs", {"month": "2026-10", "confirm": "yes"})
    refusal = plain(element(earlier.get_data(as_text=True), "div", "id", "run-problem"))
    assert earlier.status_code == 422 and "already paid" in refusal
    assert hr.post("/pay/runs/preview", {"month": "2026-Q4"}).status_code == 422


def test_only_hr_and_administrators_run_pay_and_every_form_needs_its_csrf_token(app, session):
    before = _counts(session)
    for login in ("rep1", "lead_east"):
        user = Browser(app, login)
        user.get("/pay/runs", 403)
        assert user.post("/pay/runs/preview", {"month": "2026-10"}).status_code == 403
        assert user.post("/pay/runs", {"month": "2026-10", "confirm": "yes"}).status_code == 403
    auditor = Browser(app, "audit")
    assert 'id="preview-form"' not in auditor.page("/pay/runs")  # reads the runs, runs nothing
    assert auditor.post("/pay/runs", {"month": "2026-10", "confirm": "yes"}).status_code == 403
    hr = Browser(app, "hr")
    assert hr.post("/pay/runs", {"month": "2026-10", "confirm": "yes"}, csrf=False).status_code == 400
    assert hr.post("/pay/runs/preview", {"month": "2026-10"}, csrf=False).status_code == 400
    assert _counts(session) == before


# --- words, languages, the menu -------------------------------------------------------------------


def test_the_chinese_statement_shows_the_configuration_labels_and_explanations_in_chinese(app):
    page = Browser(app, "rep1", "zh-CN").page("/pay/statement?month=2026-10")
    text = plain(page)
    assert "销售激励" in text and "回款提成" in text and "浮动工资" in text and "Rep pay" not in text
    assert "回款金额 80,000.00：" in text
    assert "我的薪酬" in text and "Total for" not in text


def test_the_menu_offers_each_role_its_pay_pages(app):
    def menu(login: str) -> str:
        return plain(element(Browser(app, login).page("/"), "nav", "aria-label", "Main menu"))

    assert "My pay" in menu("rep1") and "Pay lines" not in menu("rep1") and "Pay runs" not in menu("rep1")
    assert "Pay lines" in menu("lead_east") and "Pay runs" not in menu("lead_east")
    hr = menu("hr")
    assert "Pay lines" in hr and "Pay runs" in hr


def test_money_has_separators_two_decimals_and_a_visible_minus():
    assert money(Decimal("1234567.5")) == "1,234,567.50"
    assert money(Decimal("-350.5")) == "\u2212350.50"
    assert money(None) == "—"
