"""The what-if and special-award pages on the ledger company (tests/pay/test_pay_ledger.py, whose
docstring works October out by hand; nothing paid yet): R1 collecting 50,000 more in 2026-10
changes commission 4,000.00 → 6,500.00 and the hold −800.00 → −1,300.00, +2,000.00 in all; R4
collecting 10,000 more is paid 100.00 less this month (held back; the draw tops up less); awards of plan `extras` paid by
`special`, at most 5,000.00 each.

Who may estimate for whom, HR's draft and pipeline, that nothing is ever written; who may ask for
an award for whom, who decides (never the one who asked), the lists each viewer sees, CSRF, and
each problem said beside its field — in English and in Chinese."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.pay.models import PayAward
from perfrules.web import create_app
from perfrules.web.pay import awards as awards_page

from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write
from ..pay.test_pay_ledger import LEDGER_CONFIG, ledger_company  # noqa: F401  (the parent state)
from .test_scorecard_pages import cells, element, plain

pytestmark = pytest.mark.database
PASSWORD = "what-if-pages-1"
#: login → (role, employee): L1 leads R1 and R2 in EAST; R3 leads R4 in WEST
USERS = {
    "rep1": ("employee", "R1"),
    "lead_east": ("manager", "L1"),
    "lead_west": ("manager", "R3"),
    "hr": ("hr", None),
    "hr2": ("hr", None),
    "audit": ("auditor", None),
}
R1_MORE = "/pay/estimate?month=2026-10&employee=R1&dataset=collections&amount=50%2C000.00"
AWARD = {"employee": "R1", "component": "extras:special", "month": "2026-11", "amount": "3000", "reason": "saved Acme"}


def _users(folder: Path) -> None:
    add_users(((login, role, employee) for login, (role, employee) in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_users, parent="ledger_company")
def whatif_company(ledger_company):
    """The ledger company with USERS; the test's folder."""
    return ledger_company


@pytest.fixture
def app(whatif_company, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


class Browser:
    """A test client signed in through the real sign-in form, asking for pages in `language`."""

    def __init__(self, app, login: str, language: str = "en"):
        self.client = app.test_client()
        self.headers = {"Accept-Language": language}
        assert sign_in(self.client, login, PASSWORD).status_code == 302
        self.csrf = csrf_token(self.client.get("/", headers=self.headers).get_data(as_text=True))

    def page(self, url: str, status: int = 200) -> str:
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == status, (url, response.status_code, plain(response.get_data(as_text=True)))
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict, csrf: bool = True):
        return self.client.post(url, data={**data, **({"csrf_token": self.csrf} if csrf else {})}, headers=self.headers)


def changes(page: str) -> dict[str, list[str]]:
    """employee-component-kind → the row's cells after the employee's."""
    return {key: cells(page, "data-change", key)[1:] for key in re.findall(r'data-change="([^"]+)"', page)}


def people(page: str) -> dict[str, str]:
    table = element(page, "table", "id", "estimate-people")
    return {code: cells(table, "data-employee", code)[1] for code in re.findall(r'data-employee="([^"]+)"', table)}


def in_all(page: str, currency: str = "CNY") -> str:
    return plain(element(page, "div", "data-currency", currency))


def error(page: str, field: str) -> str:
    return plain(element(page, "div", "id", f"error-{field}"))


def written(session) -> tuple[int, int]:
    session.rollback()
    return (
        session.scalar(sa.text("SELECT count(*) FROM pay_lines")),
        session.scalar(sa.text("SELECT count(*) FROM pay_runs")),
    )


# --- what if ------------------------------------------------------------------------------------


def test_an_employee_sees_what_more_collected_would_pay_them_and_nothing_is_written(app, session):
    rep1 = Browser(app, "rep1")
    form = rep1.page("/pay/estimate")
    assert 'value="R1"' in element(form, "form", "id", "estimate-form")  # themselves by default
    assert plain(element(form, "select", "id", "e-dataset")) == "Collections"  # what some plan pays on
    assert 'id="estimate-answer"' not in form and 'id="e-draft"' not in form  # nothing asked; no draft for them
    assert 'method="get"' in form

    page = rep1.page(R1_MORE)
    assert changes(page) == {
        "R1-commission-earned": [
            "Rep pay",
            "Commission",
            "4,000.00",
            "6,500.00",
            "+2,500.00 CNY",
            "130,000.00 amount collected × 5 % = 6,500.00",
        ],
        "R1-commission-hold": [
            "Rep pay",
            "Commission held back",
            "\u2212800.00",
            "\u22121,300.00",
            "\u2212500.00 CNY",
            changes(page)["R1-commission-hold"][-1],
        ],
    }
    assert 'class="amount negative">\u2212500.00' in page  # red, and a real minus sign
    assert people(page) == {"R1": "+2,000.00 CNY"} and in_all(page) == "+2,000.00"
    assert "50,000.00 more in Collections for 销售一 (R1), on 2026-10-31" in plain(
        element(page, "ul", "id", "estimate-assumptions")
    )
    assert written(session) == (0, 0)  # an estimate writes nothing


def test_nobody_estimates_for_someone_they_may_not_see(app, session):
    rep1 = Browser(app, "rep1")
    for code in ("R2", "NOBODY"):
        page = rep1.page(R1_MORE.replace("employee=R1", f"employee={code}"), 422)
        assert error(page, "employee") == f"There is nobody with the code {code} among the people you may see."
        assert 'id="estimate-answer"' not in page and "6,500.00" not in page
    rep1.page("/pay/estimate?month=2026-10&draft=yes", 403)  # another configuration: HR's
    rep1.page("/pay/estimate?month=2026-10&dataset=collections&pipeline=opportunities", 403)
    Browser(app, "lead_east").page(R1_MORE.replace("employee=R1", "employee=R4"), 422)  # another team's
    assert written(session) == (0, 0)


def test_a_manager_estimates_for_a_report_and_sees_the_draw_absorb_it(app):
    lead = Browser(app, "lead_west")
    page = lead.page("/pay/estimate?month=2026-10&employee=R4&dataset=collections&amount=10000")
    found = changes(page)
    assert found["R4-commission-earned"][2:5] == ["—", "500.00", "+500.00 CNY"]
    assert found["R4-commission-hold"][2:5] == ["—", "\u2212100.00", "\u2212100.00 CNY"]
    assert found["R4-draw-draw"][:5] == ["Rep pay", "draw (recoverable)", "1,000.00", "500.00", "\u2212500.00 CNY"]
    assert people(page) == {"R4": "\u2212100.00 CNY"} and in_all(page) == "\u2212100.00"
    one_more = changes(Browser(app, "lead_east").page(R1_MORE.replace("50%2C000.00", "1")))  # a report's
    assert one_more["R1-commission-earned"][2:5] == ["4,000.00", "4,000.05", "+0.05 CNY"]


def test_hr_replays_the_draft_beside_the_published_plans_and_forecasts_the_pipeline(app, session, whatif_company):
    hr = Browser(app, "hr")
    same = hr.page("/pay/estimate?month=2026-10&draft=yes")  # the draft is the published configuration
    assert plain(element(same, "p", "id", "no-change")) == (
        "Nothing would change: every line of 2026-10 you may see stays as it is."
    )
    draft = LEDGER_CONFIG.replace("rule: {kind: flat, percent: 5}", "rule: {kind: flat, percent: 6}")
    assert run_cli("config", "load", write(whatif_company, "draft.yaml", draft)).exit_code == 0
    page = hr.page("/pay/estimate?month=2026-10&draft=yes")
    assert plain(element(page, "p", "id", "estimate-basis")) == (
        "Compared with the pay of 2026-10 as version 2 computes it; estimated with the draft."
    )
    assert people(page) == {"R1": "+640.00 CNY", "R2": "+2,000.00 CNY", "R3": "\u22122.00 CNY"}
    assert changes(page)["R3-draw-draw"][2:5] == ["950.00", "940.00", "\u221210.00 CNY"]
    assert in_all(page) == "+2,638.00"

    forecast = hr.page(
        "/pay/estimate?month=2026-10&dataset=collections&pipeline=opportunities&p.opportunities.proposal=50"
        "&p.opportunities.qualified=20&p.opportunities.negotiation=80&closes.opportunities=expected_close"
    )
    assert people(forecast) == {"R1": "+2,000.00 CNY", "R4": "\u221240.00 CNY"}
    assert changes(forecast)["R4-commission-earned"][3] == "200.00"
    assumed = plain(element(forecast, "ul", "id", "estimate-assumptions"))
    assert "销售一 (R1): 50,000.00 expected in Collections from the open Opportunities" in assumed
    bad = hr.page("/pay/estimate?month=2026-10&dataset=collections&pipeline=opportunities&p.opportunities.won=150", 422)
    assert error(bad, "p-opportunities-won") == "A percentage from 0 to 100."
    assert written(session) == (0, 0)


def test_what_cannot_be_estimated_is_said_beside_its_field(app):
    rep1 = Browser(app, "rep1")
    page = rep1.page(R1_MORE.replace("50%2C000.00", "1.005"), 422)
    assert error(page, "amount") == "An amount with at most two decimals, such as 50,000.00."
    assert 'aria-describedby="e-amount-help error-amount"' in page
    assert error(rep1.page(R1_MORE.replace("50%2C000.00", "-5"), 422), "amount") == "An amount more than 0."
    assert error(rep1.page(R1_MORE.replace("2026-10", "2026-Q4"), 422), "month") == "A month, such as 2026-10."
    assert "Choose the records" in error(rep1.page(R1_MORE.replace("collections", "refunds"), 422), "dataset")


def test_the_chinese_estimate_is_in_chinese(app):
    page = Browser(app, "rep1", "zh-CN").page(R1_MORE)
    text = plain(element(page, "section", "id", "estimate-answer"))
    assert "销售激励" in text and "回款提成" in text and "Rep pay" not in text
    assert "6,500.00" in text and "Commission" not in text and "collected" not in text


# --- awards -------------------------------------------------------------------------------------


def awards_listed(page: str) -> dict[str, str]:
    """award id → its employee and status, as data attributes."""
    table = element(page, "table", "id", "awards")
    return {
        a: f"{e} {s}" for a, e, s in re.findall(r'data-award="(\d+)" data-employee="(\w+)" data-status="(\w+)"', table)
    }


def test_a_manager_asks_for_an_award_and_hr_decides_it_never_their_own(app, session):
    lead = Browser(app, "lead_east")
    form = lead.page("/pay/awards")
    assert plain(element(form, "select", "id", "a-component")) == "Extras · Special award (at most 5,000.00)"
    asked = lead.post("/pay/awards", AWARD)
    assert asked.status_code == 302, plain(asked.get_data(as_text=True))
    listed = lead.page(asked.headers["Location"])
    assert "Award 1 of 3,000.00 CNY to 销售一 in 2026-11 asked for" in plain(listed)
    assert awards_listed(listed) == {"1": "R1 requested"} and "Waiting for approval" in plain(listed)
    assert 'data-decide="1"' not in listed  # managers do not decide
    assert lead.post("/pay/awards/1/decision", {"decision": "approve"}).status_code == 403
    refused = lead.post("/pay/awards", {**AWARD, "employee": "R4"})  # not one of theirs
    assert refused.status_code == 422
    assert "There is nobody with the code R4" in error(refused.get_data(as_text=True), "employee")
    assert Browser(app, "rep1").post("/pay/awards", AWARD).status_code == 403

    hr = Browser(app, "hr")
    assert hr.post("/pay/awards", {**AWARD, "employee": "R4", "amount": "5,000.00"}).status_code == 302
    page = hr.page("/pay/awards")
    assert 'data-decide="1"' in page and 'data-decide="2"' not in page  # not the one they asked for
    assert "You asked for it: someone else decides." in plain(element(page, "tr", "data-award", "2"))
    forced = hr.post("/pay/awards/2/decision", {"decision": "approve"})
    assert forced.status_code == 422
    assert plain(element(forced.get_data(as_text=True), "div", "id", "award-problem")) == (
        "The award was not decided: an award is approved or rejected by someone other than the person who asked for it"
    )
    approved = hr.post("/pay/awards/1/decision", {"decision": "approve", "note": "well earned"})
    assert approved.status_code == 302
    assert Browser(app, "hr2").post("/pay/awards/2/decision", {"decision": "reject", "note": "no"}).status_code == 302
    again = Browser(app, "hr2").post("/pay/awards/1/decision", {"decision": "reject"})
    assert again.status_code == 422 and "already approved" in plain(again.get_data(as_text=True))

    session.rollback()
    decided = {
        award.id: (award.status, award.requested_by, award.decided_by) for award in session.scalars(sa.select(PayAward))
    }
    assert decided == {1: ("approved", "web:lead_east", "web:hr"), 2: ("rejected", "web:hr", "web:hr2")}
    actions = session.scalars(sa.text("SELECT action FROM audit_log WHERE kind = 'pay_awards' ORDER BY id")).all()
    assert actions == ["pay.award.request", "pay.award.request", "pay.award.approved", "pay.award.rejected"]
    row = cells(hr.page("/pay/awards"), "data-award", "1")
    assert row[:6] == ["销售一 R1", "Extras · Special award", "2026-11", "3,000.00 CNY", "saved Acme", "Approved"]
    assert row[6].startswith("lead_east") and "well earned" in row[7]


def test_each_viewer_sees_the_awards_of_the_people_they_may_see(app, monkeypatch):
    hr = Browser(app, "hr")
    for code in ("R1", "R2", "R4"):
        assert hr.post("/pay/awards", {**AWARD, "employee": code}).status_code == 302
    assert Browser(app, "hr2").post("/pay/awards/3/decision", {"decision": "approve"}).status_code == 302
    assert awards_listed(Browser(app, "rep1").page("/pay/awards")) == {"1": "R1 requested"}
    assert set(awards_listed(Browser(app, "lead_east").page("/pay/awards"))) == {"1", "2"}
    assert set(awards_listed(Browser(app, "lead_west").page("/pay/awards"))) == {"3"}
    assert set(awards_listed(Browser(app, "audit").page("/pay/awards"))) == {"1", "2", "3"}
    assert 'id="award-form"' not in Browser(app, "audit").page("/pay/awards")  # auditors only read
    assert awards_listed(hr.page("/pay/awards?status=approved")) == {"3": "R4 approved"}
    assert awards_listed(hr.page("/pay/awards?month=2026-10")) == {}
    monkeypatch.setattr(awards_page, "AWARDS_PER_PAGE", 2)
    second = hr.page("/pay/awards?page=2")
    assert set(awards_listed(second)) == {"1"} and "Page 2 of 2" in plain(second)


def test_awards_need_their_csrf_token(app, session):
    hr = Browser(app, "hr")
    assert hr.post("/pay/awards", AWARD, csrf=False).status_code == 400
    assert Browser(app, "lead_east").post("/pay/awards", AWARD).status_code == 302
    assert hr.post("/pay/awards/1/decision", {"decision": "approve"}, csrf=False).status_code == 400
    session.rollback()
    assert [award.status for award in session.scalars(sa.select(PayAward))] == ["requested"]


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("amount", "100.005", "An amount with at most two decimals, such as 1,500.00."),
        ("amount", "5000.01", "At most 5,000.00: the most one award of Extras · Special award may be."),
        ("amount", "0", "An amount more than 0."),
        ("reason", "  ", "Say why: an award needs a reason."),
        ("month", "2026-Q4", "A month, such as 2026-10."),
        ("component", "extras:pool", "Choose what pays the award."),
    ],
)
def test_an_award_form_says_each_problem_beside_its_field(app, session, field, typed, message):
    refused = Browser(app, "lead_east").post("/pay/awards", {**AWARD, field: typed})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert error(page, field) == message
    assert "is-invalid" in element(page, "form", "id", "award-form")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PayAward)) == 0


def test_what_the_service_still_refuses_is_said_in_its_words(app):
    refused = Browser(app, "hr").post("/pay/awards", {**AWARD, "employee": "L1"})  # in no plan with awards
    assert refused.status_code == 422
    assert "L1 is not in the plan extras in 2026-11" in plain(
        element(refused.get_data(as_text=True), "div", "id", "award-problem")
    )
    own = Browser(app, "lead_east").post("/pay/awards", {**AWARD, "employee": "L1"})  # L1 is lead_east
    assert "nobody asks for an award to themselves" in plain(
        element(own.get_data(as_text=True), "div", "id", "award-problem")
    )


def test_the_chinese_awards_page_and_the_menu(app):
    assert Browser(app, "lead_east").post("/pay/awards", AWARD).status_code == 302
    page = Browser(app, "hr", "zh-CN").page("/pay/awards")
    text = plain(page)
    assert "特别奖" in text and "额外奖励 · 特别奖" in text and "Waiting for approval" not in text

    def menu(login: str) -> str:
        return plain(element(Browser(app, login).page("/"), "nav", "aria-label", "Main menu"))

    assert "What if" in menu("rep1") and "Special awards" not in menu("rep1")
    assert "What if" in menu("lead_east") and "Special awards" in menu("lead_east")
    statement = Browser(app, "rep1").page("/pay/statement")
    assert 'href="/pay/estimate?employee=R1"' in statement and "What if…" in plain(statement)


def test_the_people_search_finds_only_those_one_may_see(app):
    lead = Browser(app, "lead_east")
    found = lead.client.get("/pay/people?q=R").get_json()
    assert found == {"people": []}  # two letters at least
    searched = "/pay/people?q=%E9%94%80%E5%94%AE"  # 销售
    assert [p["login"] for p in lead.client.get(searched).get_json()["people"]] == ["R1", "R2"]
    assert [p["login"] for p in Browser(app, "hr").client.get(searched).get_json()["people"]] == [
        "R1",
        "R2",
        "R3",
        "R4",
    ]


def test_money_differences_carry_their_sign():
    from perfrules.web.pay.people import signed, who

    assert signed(Decimal("2500")) == "+2,500.00" and signed(Decimal("-0.5")) == "\u22120.50"
    assert signed(Decimal(0)) == "0.00"
    assert who("web:hr1") == who("api:hr1") == who("hr1") == "hr1" and who("cron:x") == "cron:x"
