"""The incentive plan editor in the designer: HR builds a plan from nothing through the form — a
tiered commission on collections and floating pay against the department's average — and the
draft holds exactly the plan described; a rule's fields are read only for that rule; mistakes
show under their fields, on saving and while typing; the list says what each plan pays; a
manager reaches none of it (plans are pay). The parts plans gained — contests, awards given by
hand, formulas, grade pools, credit besides the owner, clawbacks, holds, draws and proration — are
built through the form and stored exactly; a stored plan with all of them saves back unchanged.
On the seed organisation and configuration."""

from __future__ import annotations

import html
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa

from perfrules.config.models import ConfigEntry
from perfrules.config.sources import SourceDocument
from perfrules.config.store import apply_documents
from perfrules.plugins import load_plugins
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, sign_in, starting_state
from .test_round_trip import PASSWORD, browser_post, seed_in_draft  # noqa: F401  (the starting state this one builds on)

pytestmark = pytest.mark.database


def _add_users(folder: Path) -> None:
    add_users([("hr", "hr", None), ("lead", "manager", "E0002")], PASSWORD)


@pytest.fixture
@starting_state(_add_users, parent="seed_in_draft")
def plan_designer_users(seed_in_draft):
    """The seed organisation and configuration in the draft, with an administrator, HR and a manager."""
    return seed_in_draft


@pytest.fixture
def app(plan_designer_users, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def signed_in(app, login: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the texts below are the English ones
    assert sign_in(client, login, PASSWORD).status_code == 302, f"{login} could not sign in"
    client.csrf = csrf_token(client.get("/").get_data(as_text=True))
    return client


def post(client, url: str, fields: dict):
    return client.post(url, data={"csrf_token": client.csrf, **fields})


def stored(session, slug: str) -> dict | None:
    session.rollback()
    return session.scalar(sa.select(ConfigEntry.document).where(ConfigEntry.kind == "plans", ConfigEntry.slug == slug))


def errors_under(page: str, path: str) -> list[str]:
    """The problems the page shows inside the field (or list, or row) at `path`."""
    found = lxml.html.fromstring(page).xpath(
        f'//*[@data-field-path="{path}"]//div[contains(@class, "field-error")]'
        f' | //*[@data-field-path="{path}"]//div[contains(@class, "formula-server-error")]'
    )
    return [element.text_content().strip() for element in found]


#: the editor's fields, as a browser posts them, for a plan built from nothing
PLAN = {
    "slug": "east_rep_pay",
    "label-zh": "华东销售代表激励",
    "label-en": "East sales rep pay",
    "currency": "CNY",
    "assign-0-_row": "1",
    "assign-0-departments": ["EAST"],
    "assign-0-roles": ["sales_rep"],
    "assign-0-starts_on": "2026-01-01",
    "assign-0-ends_on": "",
    "parameters-0-_row": "1",
    "parameters-0-key": "floating_base",
    "parameters-0-value": "2500",
    "people-0-_row": "1",
    "people-0-key": "E0003",
    "people-0-value-0-_row": "1",
    "people-0-value-0-key": "floating_base",
    "people-0-value-0-value": "2800",
    # a tiered commission on what is collected on time, the quarter's collections deciding the rate
    "components-0-_row": "1",
    "components-0-slug": "commission",
    "components-0-label-zh": "回款提成",
    "components-0-label-en": "Commission",
    "components-0-frequency": "monthly",
    "components-0-base_kind": "records",
    "components-0-base-records": "payments",
    "components-0-base-amount": "amount",
    "components-0-base-filter": "on_time",
    "components-0-base-metric": "sales_amount",  # a metric base's field, hidden: not read
    "components-0-rule-kind": "tiered",
    "components-0-rule-percent": "7",  # a flat rule's field, hidden: not read
    "components-0-rule-tiers-0-_row": "1",
    "components-0-rule-tiers-0-from": "0",
    "components-0-rule-tiers-0-percent": "2",
    "components-0-rule-tiers-1-_row": "1",
    "components-0-rule-tiers-1-from": "300000",
    "components-0-rule-tiers-1-percent": "3.5",
    "components-0-rule-mode": "marginal",
    "components-0-rule-over": "quarterly",
    # floating pay: the amount × score ÷ the department's average, within half and one and a half times
    "components-1-_row": "1",
    "components-1-slug": "floating",
    "components-1-label-zh": "浮动工资",
    "components-1-label-en": "Floating pay",
    "components-1-frequency": "monthly",
    "components-1-base_kind": "scorecard",
    "components-1-base-records": "payments",  # a records base's field, hidden: not read
    "components-1-base-scorecard": "sales_rep",
    "components-1-rule-kind": "floating",
    "components-1-rule-amount": "floating_base",
    "components-1-rule-mode": "relative",
    "components-1-rule-scope": "department",
    "components-1-rule-floor": "50",
    "components-1-rule-cap": "150",
    "components-1-rule-budget_neutral": "yes",
    "components-1-rule-over": "yearly",  # a tiered rule's field, hidden: not read
}

EXPECTED = {
    "slug": "east_rep_pay",
    "label": {"zh": "华东销售代表激励", "en": "East sales rep pay"},
    "currency": "CNY",
    "assign": [{"departments": ["EAST"], "roles": ["sales_rep"], "starts_on": "2026-01-01"}],
    "parameters": {"floating_base": 2500.0},
    "people": {"E0003": {"floating_base": 2800.0}},
    "components": [
        {
            "slug": "commission",
            "label": {"zh": "回款提成", "en": "Commission"},
            "frequency": "monthly",
            "base": {"records": "payments", "amount": "amount", "filter": "on_time"},
            "rule": {
                "kind": "tiered",
                "tiers": [{"from": 0.0, "percent": 2.0}, {"from": 300000.0, "percent": 3.5}],
                "mode": "marginal",
                "over": "quarterly",
            },
        },
        {
            "slug": "floating",
            "label": {"zh": "浮动工资", "en": "Floating pay"},
            "frequency": "monthly",
            "base": {"scorecard": "sales_rep"},
            "rule": {
                "kind": "floating",
                "mode": "relative",
                "cap": 150.0,
                "amount": "floating_base",
                "scope": "department",
                "floor": 50.0,
                "budget_neutral": True,
            },
        },
    ],
}


def test_hr_builds_a_plan_from_nothing_and_the_list_says_what_it_pays(app, session):
    hr = signed_in(app, "hr")
    listing = hr.get("/designer/plans").get_data(as_text=True)
    assert 'href="/designer/plans/new"' in listing and "Incentive plans" in listing
    page = hr.get("/designer/plans/new").get_data(as_text=True)
    assert 'name="components-0-rule-kind"' in page and 'data-group="records metric"' in page
    assert "tiered percentages</option>" in page and '<span class="input-group-text">%</span>' in page
    assert "East China sales <code>EAST</code>" in page

    assert post(hr, "/designer/check/plans", PLAN).get_json() == {"problems": []}
    saved = post(hr, "/designer/plans/new", PLAN)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/designer/plans/east_rep_pay")
    assert stored(session, "east_rep_pay") == EXPECTED

    shown = hr.get("/designer/plans/east_rep_pay").get_data(as_text=True)
    assert 'data-field-path="people.E0003"' in shown and "张伟" in shown  # the person named, not only coded
    assert '<option value="floating_base" selected>floating_base</option>' in shown
    listed = lxml.html.fromstring(hr.get("/designer/plans").get_data(as_text=True))
    pays = [li.text_content() for li in listed.xpath('//tr[@data-slug="east_rep_pay"]//li')]
    assert pays == [
        "Commission: tiered percentages, monthly",
        "Floating pay: floating pay against the average score, monthly",
    ]


def test_mistakes_are_shown_under_their_fields_on_saving_and_while_typing(app, session):
    hr = signed_in(app, "hr")
    wrong = {**PLAN, "components-0-rule-tiers-0-from": "100", "components-1-rule-mode": "marginal"}
    refused = post(hr, "/designer/plans/new", wrong)
    assert refused.status_code == 422 and stored(session, "east_rep_pay") is None
    page = html.unescape(refused.get_data(as_text=True))
    assert errors_under(page, "components[0].rule.tiers") == ["the first tier must start from 0"]
    assert errors_under(page, "components[1].rule.mode") == [
        "say relative (score ÷ average) or points (score − average)"
    ]
    assert 'value="100"' in page  # what was typed stays, to be corrected

    # while typing: what the configuration says of a field that holds no money; a rule its base does not take
    mistaken = {**PLAN, "components-0-base-amount": "customer"}
    problems = post(hr, "/designer/check/plans", mistaken).get_json()["problems"]
    assert problems == [
        {
            "path": "components[0].base.amount",
            "message": "'customer' is not a money field of payments (its money fields: amount, receivable)",
        }
    ]
    refused = post(hr, "/designer/plans/new", mistaken)
    assert errors_under(refused.get_data(as_text=True), "components[0].base.amount") == [problems[0]["message"]]
    misfit = {**PLAN, "components-0-rule-kind": "over_target"}  # its percentage is the 7 % typed above
    assert post(hr, "/designer/check/plans", misfit).get_json()["problems"] == [
        {
            "path": "components[0].rule.kind",
            "message": "paid on the records of a dataset, a component pays one of: a percentage of the base, "
            "a percentage by a field's value, tiered percentages, a contest paying an amount per qualifying record, a formula",
        }
    ]


def test_a_manager_reaches_no_plan(app):
    lead = signed_in(app, "lead")
    assert lead.get("/designer/plans").status_code == 403
    assert lead.get("/designer/plans/sales_rep_pay").status_code == 403
    assert post(lead, "/designer/plans/new", PLAN).status_code == 403
    assert post(lead, "/designer/check/plans", PLAN).status_code == 403
    assert "/designer/plans" not in lead.get("/designer/templates").get_data(as_text=True)


# --- the parts plans gained: contests, awards, formulas, grade pools, credit, clawbacks, holds, ---
# --- draws and proration ------------------------------------------------------------------------

#: a plan with every part the editor switches on or shows for one rule only, as a browser posts it
EXTRAS = {
    "slug": "east_extras",
    "label-zh": "华东特别激励",
    "label-en": "East extras",
    "currency": "CNY",
    "assign-0-_row": "1",
    "assign-0-roles": ["sales_rep"],
    "assign-0-starts_on": "2026-01-01",
    "parameters-0-_row": "1",
    "parameters-0-key": "draw_base",
    "parameters-0-value": "3000",
    "parameters-1-_row": "1",
    "parameters-1-key": "bonus_cap",
    "parameters-1-value": "2000",
    # a March contest on collections, shared deals credited by their shares, refunds taken back, a fifth held
    "components-0-_row": "1",
    "components-0-slug": "march_spiff",
    "components-0-label-zh": "三月竞赛",
    "components-0-label-en": "March contest",
    "components-0-frequency": "monthly",  # hidden for a contest, still posted: not read
    "components-0-base_kind": "records",
    "components-0-base-records": "payments",
    "components-0-base-amount": "amount",
    "components-0-base-has_credit": "yes",
    "components-0-base-credit-splits": "customer",
    "components-0-base-credit-overlay": "owner",
    "components-0-base-credit-managers": "2",
    "components-0-rule-kind": "contest",
    "components-0-rule-starts_on": "2026-03-01",
    "components-0-rule-ends_on": "2026-03-31",
    "components-0-rule-per_record": "200",
    "components-0-rule-per_person": "2000",
    "components-0-rule-budget": "50000",
    "components-0-rule-most": "900",  # an award's field, hidden: not read
    "components-0-has_clawback": "yes",
    "components-0-clawback-records": "payments",
    "components-0-clawback-amount": "amount",
    "components-0-clawback-refers_to": "customer",
    "components-0-clawback-lookback_days": "90",
    "components-0-has_hold": "yes",
    "components-0-hold-percent": "20",
    "components-0-hold-release": "until_paid",
    "components-0-hold-months": "3",  # another way of paying out, hidden: not read
    "components-0-hold-until": "2026-12-31",  # the same
    "components-0-hold-until_paid-records": "payments",
    "components-0-hold-until_paid-refers_to": "customer",
    "components-0-hold-until_paid-amount": "amount",
    # awards given by hand, up to 5,000 each, a tenth held until the year's end
    "components-1-_row": "1",
    "components-1-slug": "awards",
    "components-1-label-zh": "特别奖励",
    "components-1-label-en": "Awards",
    "components-1-frequency": "monthly",
    "components-1-base_kind": "manual",
    "components-1-base-records": "payments",  # a records base's field, hidden: not read
    "components-1-base-manual": "on",
    "components-1-base-has_credit": "",
    "components-1-rule-kind": "award",
    "components-1-rule-most": "5000",
    "components-1-has_clawback": "",
    "components-1-has_hold": "yes",
    "components-1-hold-percent": "10",
    "components-1-hold-release": "until",
    "components-1-hold-months": "6",  # hidden: not read
    "components-1-hold-until": "2026-12-31",
    "components-1-hold-until_paid-records": "payments",  # hidden: not read
    # a formula on a metric
    "components-2-_row": "1",
    "components-2-slug": "formula_bonus",
    "components-2-label-zh": "公式奖金",
    "components-2-label-en": "Formula bonus",
    "components-2-frequency": "quarterly",
    "components-2-base_kind": "metric",
    "components-2-base-metric": "sales_amount",
    "components-2-rule-kind": "formula",
    "components-2-rule-formula": "MIN(value * 0.035, bonus_cap) + IF(value > target, 500, 0)",
    "components-2-has_hold": "no",
    "components-2-hold-percent": "50",  # switched off: not read
    # a department's pool shared by grade, no amount
    "components-3-_row": "1",
    "components-3-slug": "grade_pool",
    "components-3-label-zh": "等级奖金池",
    "components-3-label-en": "Grade pool",
    "components-3-frequency": "quarterly",
    "components-3-base_kind": "scorecard",
    "components-3-base-scorecard": "sales_rep",
    "components-3-rule-kind": "grade",
    "components-3-rule-amount": "",
    "components-3-rule-pool": "60000",
    "components-3-rule-scope": "department",
    "components-3-rule-coefficients-0-_row": "1",
    "components-3-rule-coefficients-0-key": "S",
    "components-3-rule-coefficients-0-value": "1.5",
    "components-3-rule-coefficients-1-_row": "1",
    "components-3-rule-coefficients-1-key": "A",
    "components-3-rule-coefficients-1-value": "1",
    # a recoverable draw, and whole months for joiners by the 15th
    "has_draw": "yes",
    "draw-amount": "draw_base",
    "draw-recoverable": "yes",
    "has_proration": "yes",
    "proration-by": "whole_months",
    "proration-cut_off_day": "15",
}

EXTRAS_EXPECTED = {
    "slug": "east_extras",
    "label": {"zh": "华东特别激励", "en": "East extras"},
    "currency": "CNY",
    "assign": [{"roles": ["sales_rep"], "starts_on": "2026-01-01"}],
    "parameters": {"draw_base": 3000.0, "bonus_cap": 2000.0},
    "components": [
        {
            "slug": "march_spiff",
            "label": {"zh": "三月竞赛", "en": "March contest"},
            "base": {
                "records": "payments",
                "amount": "amount",
                "credit": {"splits": "customer", "overlay": "owner", "managers": 2},
            },
            "rule": {
                "kind": "contest",
                "starts_on": "2026-03-01",
                "ends_on": "2026-03-31",
                "per_record": 200.0,
                "per_person": 2000.0,
                "budget": 50000.0,
            },
            "clawback": {"records": "payments", "amount": "amount", "refers_to": "customer", "lookback_days": 90},
            "hold": {
                "percent": 20.0,
                "until_paid": {"records": "payments", "refers_to": "customer", "amount": "amount"},
            },
        },
        {
            "slug": "awards",
            "label": {"zh": "特别奖励", "en": "Awards"},
            "frequency": "monthly",
            "base": {"manual": True},
            "rule": {"kind": "award", "most": 5000.0},
            "hold": {"percent": 10.0, "until": "2026-12-31"},
        },
        {
            "slug": "formula_bonus",
            "label": {"zh": "公式奖金", "en": "Formula bonus"},
            "frequency": "quarterly",
            "base": {"metric": "sales_amount"},
            "rule": {"kind": "formula", "formula": "MIN(value * 0.035, bonus_cap) + IF(value > target, 500, 0)"},
        },
        {
            "slug": "grade_pool",
            "label": {"zh": "等级奖金池", "en": "Grade pool"},
            "frequency": "quarterly",
            "base": {"scorecard": "sales_rep"},
            "rule": {"kind": "grade", "coefficients": {"S": 1.5, "A": 1.0}, "pool": 60000.0, "scope": "department"},
        },
    ],
    "draw": {"amount": "draw_base", "recoverable": True},
    "proration": {"by": "whole_months", "cut_off_day": 15},
}


def test_hr_builds_a_plan_with_every_new_part_and_the_draft_holds_exactly_it(app, session):
    hr = signed_in(app, "hr")
    page = lxml.html.fromstring(hr.get("/designer/plans/new").get_data(as_text=True))
    kinds = {
        option.get("value"): option.get("data-group")
        for option in page.xpath('//select[@name="components-0-rule-kind"]/option')
    }
    assert kinds["contest"] == "records" and kinds["award"] == "manual"
    assert kinds["formula"] == "records metric scorecard"
    assert page.xpath('//select[@name="components-0-base_kind"]/option[@value="manual"]/text()') == [
        "awards given by hand"
    ]
    # credit and clawbacks are offered on a records base only; a contest has no frequency
    for switch in ("components-0-base-has_credit", "components-0-has_clawback"):
        assert page.xpath(f'//select[@name="{switch}"]/option[@value="yes"]/@data-group') == ["records"]
    frequency = page.xpath('//*[@data-field-path="components[0].frequency"]')[0]
    assert frequency.get("data-show-rel") == "rule-kind" and "contest" not in frequency.get("data-show-values").split()
    assert "formula" in frequency.get("data-show-values").split()
    hints = page.text_content()
    assert "on a dataset's records, amount" in hints and "on a metric, value and target" in hints
    assert "on a template's scorecards, score and grade" in hints
    assert "taken back from later earnings above the draw. No: a guarantee, never taken back." in hints

    assert post(hr, "/designer/check/plans", EXTRAS).get_json() == {"problems": []}
    saved = post(hr, "/designer/plans/new", EXTRAS)
    assert saved.status_code == 302, html.unescape(saved.get_data(as_text=True))[-3000:]
    assert stored(session, "east_extras") == EXTRAS_EXPECTED

    listed = lxml.html.fromstring(hr.get("/designer/plans").get_data(as_text=True))
    pays = [li.text_content() for li in listed.xpath('//tr[@data-slug="east_extras"]//li')]
    assert pays == [
        "March contest: a contest paying an amount per qualifying record",
        "Awards: the awards asked for and approved, monthly",
        "Formula bonus: a formula, quarterly",
        "Grade pool: an amount by grade, quarterly",
    ]


def test_a_contest_has_no_frequency_and_every_other_component_needs_one(app, session):
    hr = signed_in(app, "hr")
    # the browser still posts the hidden frequency of a contest: it is not read, so not refused
    contest = {**EXTRAS, "slug": "contest_only"}
    assert post(hr, "/designer/plans/new", contest).status_code == 302
    assert "frequency" not in stored(session, "contest_only")["components"][0]

    # a rule other than a contest: the schema's message beside the frequency, saying what it may be
    unpaced = {**EXTRAS, "components-1-frequency": ""}
    refused = post(hr, "/designer/plans/new", unpaced)
    assert refused.status_code == 422 and stored(session, "east_extras") is None
    assert errors_under(refused.get_data(as_text=True), "components[1].frequency") == [
        "say how often it is paid: monthly, quarterly, half_yearly or yearly"
    ]


def test_the_new_parts_mistakes_show_beside_their_fields(app, session):
    hr = signed_in(app, "hr")
    wrong = {
        **EXTRAS,
        "components-0-rule-ends_on": "2026-02-01",  # before it starts
        "components-1-base-manual": "",  # awards not confirmed: the base names nothing
        "components-3-rule-pool": "",  # neither an amount nor a pool
        "proration-cut_off_day": "",  # whole months need one
    }
    refused = post(hr, "/designer/plans/new", wrong)
    assert refused.status_code == 422 and stored(session, "east_extras") is None
    page = html.unescape(refused.get_data(as_text=True))
    assert errors_under(page, "components[0].rule.ends_on") == ["must not be before starts_on"]
    assert errors_under(page, "components[1].base") == [
        "say one of records (a dataset), metric, scorecard (a template) or manual: true (awards)"
    ]
    assert errors_under(page, "components[3].rule.amount") == [
        "an amount by grade needs amount (a parameter), a pool, or both"
    ]
    assert errors_under(page, "proration.cut_off_day") == ["say the day of the month by which a joiner's month counts"]
    # shown again as chosen, to be corrected
    shown = lxml.html.fromstring(page)
    assert shown.xpath('//select[@name="components-1-base_kind"]/option[@selected]/@value') == ["manual"]
    assert shown.xpath('//select[@name="has_proration"]/option[@selected]/@value') == ["yes"]
    assert shown.xpath('//select[@name="components-0-hold-release"]/option[@selected]/@value') == ["until_paid"]

    # a formula reads its base's names: a scorecard's score is not a metric's
    misread = {**EXTRAS, "components-2-rule-formula": "score * 2"}
    problems = post(hr, "/designer/check/plans", misread).get_json()["problems"]
    assert [problem["path"] for problem in problems] == ["components[2].rule.formula"]
    assert "score" in problems[0]["message"]
    refused = post(hr, "/designer/plans/new", misread)
    assert errors_under(refused.get_data(as_text=True), "components[2].rule.formula") == [problems[0]["message"]]


def test_a_plan_with_every_new_part_opens_in_the_editor_and_saves_back_unchanged(app, session):
    document = {
        **EXTRAS_EXPECTED,
        "slug": "stored_extras",
        "components": [
            *EXTRAS_EXPECTED["components"],
            {
                "slug": "records_formula",
                "label": {"zh": "记录公式", "en": "Formula on records"},
                "frequency": "monthly",
                "base": {"records": "payments", "amount": "amount", "credit": {"managers": 1}},
                "rule": {"kind": "formula", "formula": "amount * 0.01"},
            },
            {
                "slug": "grade_amount_pool",
                "label": {"zh": "等级金额奖金池", "en": "Pool by grade and amount"},
                "frequency": "yearly",
                "base": {"scorecard": "sales_rep"},
                "rule": {"kind": "grade", "amount": "bonus_cap", "coefficients": {"S": 2.0}, "pool": 9000.0},
            },
        ],
        "draw": {"amount": "draw_base", "recoverable": False},
        "proration": {"by": "working_days"},
    }
    apply_documents(session, [SourceDocument("plans", 0, document)], load_plugins().functions, "test")
    session.commit()
    assert stored(session, "stored_extras") == document

    hr = signed_in(app, "hr")
    url = "/designer/plans/stored_extras"
    page = hr.get(url).get_data(as_text=True)
    answer = hr.post(url, data=browser_post(page, url))
    assert answer.status_code == 302, html.unescape(answer.get_data(as_text=True))[-3000:]
    assert stored(session, "stored_extras") == document
