"""The incentive plan editor in the designer: HR builds a plan from nothing through the form — a
tiered commission on collections and floating pay against the department's average — and the
draft holds exactly the plan described; a rule's fields are read only for that rule; mistakes
show under their fields, on saving and while typing; the list says what each plan pays; a
manager reaches none of it (plans are pay). On the seed organisation and configuration."""

from __future__ import annotations

import html
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa

from perfrules.config.models import ConfigEntry
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, sign_in, starting_state
from .test_round_trip import PASSWORD, seed_in_draft  # noqa: F401  (the starting state this one builds on)

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
            "message": "paid on the records of a dataset, a component pays one of: a percentage of the base, a percentage by a field's value, tiered percentages",
        }
    ]


def test_a_manager_reaches_no_plan(app):
    lead = signed_in(app, "lead")
    assert lead.get("/designer/plans").status_code == 403
    assert lead.get("/designer/plans/sales_rep_pay").status_code == 403
    assert post(lead, "/designer/plans/new", PLAN).status_code == 403
    assert post(lead, "/designer/check/plans", PLAN).status_code == 403
    assert "/designer/plans" not in lead.get("/designer/templates").get_data(as_text=True)
