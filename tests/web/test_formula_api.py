"""The formula API: checking while typing (errors at their character offsets, with suggestions),
the names and functions of each context, and the preview of a KPI for one employee — numbers
from the hand-checked scenario (tests/engine/scenario.py), computed on the draft, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.config.models import ConfigEntry
from perfrules.engine.models import Scorecard
from perfrules.web import create_app

from ..helpers import add_users, run_cli, starting_state, write

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
USERS = {  # login: (role, employee)
    "admin": ("admin", None),
    "hr": ("hr", None),
    "audit": ("auditor", None),
    "lead_east": ("manager", "L1"),
    "lead_west": ("manager", "R3"),
    "rep1": ("employee", "R1"),
}


def _create_users(folder: Path) -> None:
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_create_users, parent="company")
def formula_api_users(company):
    """The scenario company with USERS, each with PASSWORD; the test's folder."""
    return company


@pytest.fixture
def app(formula_api_users, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


class Browser:
    """A signed-in browser: the session cookie, and the CSRF token its pages carry."""

    def __init__(self, app, login: str):
        self.client = app.test_client()
        page = self.client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        response = self.client.post("/sign-in", data={"login": login, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"{login} could not sign in"
        home = self.client.get("/").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', home).group(1)

    def post(self, url: str, body: dict):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.csrf})

    def get(self, url: str):
        return self.client.get(url)


@pytest.fixture
def admin(app):
    return Browser(app, "admin")


def check(browser, formula: str, context: str = "kpi", **extra):
    response = browser.post("/api/v1/formulas/check", {"formula": formula, "context": context, **extra})
    assert response.status_code == 200, response.json
    return response.json


def only_error(result) -> dict:
    assert result["ok"] is False and len(result["errors"]) == 1, result
    return result["errors"][0]


# --- check -------------------------------------------------------------------------------------


def test_a_good_formula_says_what_it_gives_and_uses(admin):
    assert check(admin, "sales / target.sales") == {
        "ok": True,
        "type": "number",
        "names": ["sales", "target.sales"],
        "functions": [],
        "errors": [],
    }
    assert check(admin, "ROUND(sales / 1000, 1) + GROWTH(sales, prev.sales)")["functions"] == ["ROUND", "GROWTH"]
    assert check(admin, "status == 'won' and amount > 0", "filter", dataset="deals")["type"] == "boolean"
    assert check(admin, "clamp(value * 250, 0, 100)", "scoring")["ok"]
    assert check(admin, "total >= 90 and employee.tenure_months >= 6", "condition")["ok"]


def test_errors_have_character_offsets_and_suggestions(admin):
    error = only_error(check(admin, "sale / target.sales"))
    assert (error["start"], error["end"], error["suggestion"]) == (0, 4, "sales")
    assert error["message"] == "unknown name 'sale' — did you mean 'sales'?"
    assert error["excerpt"] == "sale / target.sales\n^^^^"

    error = only_error(check(admin, "sales / target.sals"))
    assert (error["start"], error["end"], error["suggestion"]) == (8, 19, "target.sales")
    assert (error["line"], error["column"]) == (1, 9)

    # offsets count characters, not bytes: 销售 is two characters (six bytes in UTF-8)
    error = only_error(check(admin, "sales + 销售 + deals_wn"))
    assert (error["start"], error["end"]) == (8, 10) and error["message"].startswith("unknown name '销售'")
    error = only_error(check(admin, "销售额 if True else deals_wn", kpi="attainment"))
    assert error["message"].startswith("unknown name '销售额'") and (error["start"], error["end"]) == (0, 3)

    error = only_error(check(admin, "（sales）/ 2"))
    assert (error["start"], error["end"], error["suggestion"]) == (0, 1, "(")

    error = only_error(check(admin, "if(sales > 0, 1, 0)"))
    assert (error["start"], error["end"], error["suggestion"]) == (0, 2, "IF")

    error = only_error(check(admin, "status = 'won'", "filter", dataset="deals"))
    assert (error["start"], error["end"], error["suggestion"]) == (7, 8, "==")

    error = only_error(check(admin, "valu * 2", "scoring"))
    assert (error["start"], error["end"], error["suggestion"]) == (0, 4, "value")

    error = only_error(check(admin, "total + 1", "condition"))
    assert error["message"] == "this must give a true/false condition, but it gives a number"
    assert (error["start"], error["end"], error["suggestion"]) == (0, 9, None)

    error = only_error(check(admin, "ROUND(sales, 1, 2)"))
    assert error["message"] == "ROUND takes 1 or 2 arguments, got 3" and error["suggestion"] is None


def test_a_kpi_cannot_use_itself_or_close_a_cycle(admin, tmp_path):
    error = only_error(check(admin, "kpi.attainment * 2", kpi="attainment"))
    assert error["message"] == "a KPI cannot use its own value (kpi.attainment)"
    assert check(admin, "kpi.attainment * 2", kpi="win_rate")["ok"]

    bonus = """
    kpis:
      - slug: bonus_base
        label: {zh: 奖金基数, en: Bonus base}
        formula: kpi.attainment * 100
        scoring: {type: formula, formula: value}
    """
    assert run_cli("config", "load", write(tmp_path, "bonus.yaml", bonus)).exit_code == 0
    error = only_error(check(admin, "sales / target.sales + kpi.bonus_base", kpi="attainment"))
    assert error["message"] == "KPIs depend on each other in a cycle: kpi.attainment → kpi.bonus_base → kpi.attainment"
    assert (error["start"], error["end"]) == (23, 37)


def test_a_filter_needs_a_dataset_and_the_context_must_exist(admin):
    response = admin.post("/api/v1/formulas/check", {"formula": "status == 'won'", "context": "filter"})
    assert response.status_code == 422 and response.json["errors"] == [
        {"path": "json.dataset", "message": "a filter needs the dataset it filters"}
    ]
    response = admin.post("/api/v1/formulas/check", {"formula": "x", "context": "filter", "dataset": "nope"})
    assert response.status_code == 422 and response.json["errors"][0]["message"] == "unknown dataset 'nope'"
    response = admin.post("/api/v1/formulas/check", {"formula": "x", "context": "sql"})
    assert response.status_code == 422 and response.json["errors"][0]["path"] == "json.context"


# --- catalogue ---------------------------------------------------------------------------------


def test_the_catalogue_of_a_kpi_formula(admin):
    response = admin.get("/api/v1/formulas/catalogue?context=kpi&kpi=attainment")
    assert response.status_code == 200
    names = {entry["name"]: entry for entry in response.json["names"]}
    assert names["sales"]["kind"] == "metric" and names["sales"]["type"] == "number"
    assert names["sales"]["label"] == {"zh": "销售额", "en": "Sales"}
    assert names["sales"]["description"] == "sum(deals.amount) where status == 'won'"
    assert names["target.sales"]["kind"] == "target" and names["target.sales"]["label"]["en"] == "Target: Sales"
    assert names["prev.team_sales"]["kind"] == "prev" and names["prev.team_sales"]["label"]["zh"] == "上期:团队销售额"
    assert (
        names["kpi.win_rate"]["kind"] == "kpi"
        and names["kpi.win_rate"]["description"] == "deals_won / (deals_won + deals_lost)"
    )
    assert "kpi.attainment" not in names and "target.attainment" in names
    assert names["employee.tenure_months"]["kind"] == "employee"
    assert {e["kind"] for e in response.json["names"]} == {"metric", "target", "prev", "kpi", "employee"}
    assert len(names) == 4 + 2 * 8 + 3 + 1  # metrics, target. and prev. of metrics and KPIs, the other kpi., tenure

    functions = {entry["name"]: entry for entry in response.json["functions"]}
    assert functions["IF"] == {
        "name": "IF",
        "kind": "form",
        "signature": "IF(condition, then, otherwise)",
        "summary": functions["IF"]["summary"],
        "text": functions["IF"]["text"],
        "min_args": 3,
        "max_args": 3,
    }
    assert functions["ROUND"]["signature"] == "ROUND(x, digits)" and functions["ROUND"]["kind"] == "function"
    assert functions["GROWTH"]["summary"]["en"].startswith("change against a previous value")  # from the plugin
    assert {"IF", "AND", "OR", "NOT", "COALESCE", "MIN", "MAX", "ABS", "CLAMP", "DIVIDE"} <= set(functions)


def test_the_catalogues_of_filters_scoring_and_conditions(admin):
    names = {e["name"]: e for e in admin.get("/api/v1/formulas/catalogue?context=filter&dataset=deals").json["names"]}
    assert set(names) == {"owner", "customer", "amount", "status"}  # the date is compared through windows
    assert names["status"]["options"] == ["won", "lost"] and names["status"]["type"] == "text"
    assert names["amount"] == {
        "name": "amount",
        "type": "number",
        "kind": "field",
        "description": None,
        "label": {"zh": "金额", "en": "Amount"},
        "text": "金额",
    }
    scoring = admin.get("/api/v1/formulas/catalogue?context=scoring").json["names"]
    assert [e["name"] for e in scoring] == ["target", "value"]
    condition = {e["name"] for e in admin.get("/api/v1/formulas/catalogue?context=condition").json["names"]}
    assert condition == {"total", "grade", "company_rank", "department_rank", "employee.tenure_months"}
    assert admin.get("/api/v1/formulas/catalogue?context=filter").status_code == 422


# --- preview -----------------------------------------------------------------------------------


def preview(browser, **body):
    return browser.post("/api/v1/formulas/preview", {"period": "2026-10", **body})


def test_the_preview_gives_the_scenarios_numbers(admin):
    r1 = preview(admin, kpi="attainment", employee="R1")
    assert r1.status_code == 200, r1.json
    assert (r1.json["value"], r1.json["score"], r1.json["target"]) == (1.2, 120.0, 20000.0)
    assert r1.json["inputs"] == {"sales": 24000.0, "target.sales": 20000.0}
    assert r1.json["metrics"] == {"sales": "sum(deals.amount) where status == 'won'"}
    assert r1.json["target_source"] == "employee target, t2026: 2026-10"
    assert r1.json["scoring"] == "linear: 0→0, 1.2→120, floor 0, cap 120"
    assert (r1.json["name"], r1.json["department"], r1.json["error"], r1.json["notes"]) == ("销售一", "EAST", None, [])

    r2 = preview(admin, kpi="attainment", employee="R2").json
    assert r2["value"] == 0.6 and r2["score"] == pytest.approx(60)
    assert r2["target_source"] == "role rep default, t2026: 2026 120,000 → 2026-10 10,000 (in proportion to months)"
    growth = preview(admin, kpi="growth", employee="R2").json
    assert growth["value"] is None and growth["score"] is None and growth["excluded"] is True
    assert growth["notes"] == ["division by zero: sales / prev.sales → excluded by policy, weights re-normalised"]
    assert growth["inputs"] == {"sales": 6000.0, "prev.sales": 0.0}
    assert preview(admin, kpi="growth", employee="R1").json["score"] == 100.0
    lead = preview(admin, kpi="team_attainment", employee="L1").json
    assert (lead["value"], lead["score"], lead["inputs"]) == (
        0.6,
        pytest.approx(60),
        {"team_sales": 30000.0, "target.team_sales": 50000.0},
    )
    assert preview(admin, kpi="win_rate", employee="R3").json["notes"] == [
        "division by zero: deals_won / (deals_won + deals_lost) → excluded by policy, weights re-normalised"
    ]


def test_the_preview_uses_the_edited_formula_and_scoring_and_writes_nothing(admin, session):
    def state():
        session.rollback()
        return (
            session.scalar(
                sa.select(ConfigEntry.document).where(ConfigEntry.kind == "kpis", ConfigEntry.slug == "attainment")
            ),
            session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
            session.scalar(sa.select(sa.func.count()).select_from(Scorecard)),
        )

    before = state()
    halved = preview(admin, kpi="attainment", employee="R1", formula="sales / target.sales / 2").json
    assert (halved["value"], halved["score"], halved["formula"]) == (0.6, pytest.approx(60), "sales / target.sales / 2")
    banded = preview(
        admin,
        kpi="attainment",
        employee="R2",
        scoring={"type": "bands", "bands": [{"min": 1, "points": 100}, {"min": 0.5, "points": 70}], "otherwise": 10},
    ).json
    assert banded["score"] == 70 and banded["scoring"] == "bands: ≥1→100, ≥0.5→70, otherwise 10"
    failing = preview(admin, kpi="growth", employee="R2", missing="fail").json
    assert (
        failing["error"] == "division by zero: sales / prev.sales (missing-data policy: fail)"
        and failing["score"] is None
    )
    zero = preview(admin, kpi="growth", employee="R2", missing="zero").json
    assert zero["score"] == 0 and zero["notes"] == ["division by zero: sales / prev.sales → 0 by policy"]
    new = preview(
        admin, formula="deals_won * 10", scoring={"type": "formula", "formula": "min(value, 100)"}, employee="R1"
    ).json
    assert (new["value"], new["score"], new["kpi"]) == (20.0, 20.0, "preview")
    assert state() == before


def test_preview_problems_have_their_paths(admin):
    response = preview(admin, kpi="attainment", employee="R1", formula="sales / target.sale")
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "path": "json.formula",
            "message": "unknown name 'target.sale' — did you mean 'target.sales'?",
            "start": 8,
            "end": 19,
            "line": 1,
            "column": 9,
            "suggestion": "target.sales",
            "excerpt": "sales / target.sale\n        ^^^^^^^^^^^",
        }
    ]
    response = preview(admin, kpi="attainment", employee="R1", scoring={"type": "linear", "value_from": 0})
    assert response.status_code == 422
    assert response.json["errors"] == [{"path": "json.scoring.value_to", "message": "required for linear scoring"}]
    response = preview(admin, kpi="attainment", employee="R1", scoring={"type": "formula", "formula": "valu"})
    assert response.json["errors"][0]["path"] == "json.scoring.formula"
    assert response.json["errors"][0]["suggestion"] == "value"
    response = admin.post("/api/v1/formulas/preview", {"kpi": "attainment", "employee": "R1", "period": "2026-13"})
    assert response.status_code == 422 and response.json["errors"][0]["path"] == "json.period"
    assert preview(admin, kpi="nope", employee="R1").status_code == 404
    assert preview(admin, formula="sales", employee="R1").json["errors"] == [
        {"path": "json.scoring", "message": "a new KPI needs a scoring rule to be scored"}
    ]
    assert preview(admin, kpi="attainment", employee="NOBODY").status_code == 404


# --- who may ------------------------------------------------------------------------------------


def test_managers_preview_only_their_subtree_and_employees_not_at_all(app):
    east = Browser(app, "lead_east")
    assert preview(east, kpi="attainment", employee="R1").json["score"] == 120.0
    assert preview(east, kpi="team_attainment", employee="L1").status_code == 200
    hidden = preview(east, kpi="attainment", employee="R3")
    assert hidden.status_code == 404 and hidden.json["message"] == "no employee R3 that you may see"
    west = Browser(app, "lead_west")
    assert preview(west, kpi="attainment", employee="R4").status_code == 200
    assert preview(west, kpi="attainment", employee="R1").status_code == 404
    assert check(east, "sales")["ok"] and east.get("/api/v1/formulas/catalogue?context=kpi").status_code == 200
    for login in ("rep1", "audit"):
        browser = Browser(app, login)
        assert browser.post("/api/v1/formulas/check", {"formula": "sales", "context": "kpi"}).status_code == 403
        assert browser.get("/api/v1/formulas/catalogue?context=kpi").status_code == 403
        assert preview(browser, kpi="attainment", employee="R1").status_code == 403
    hr = Browser(app, "hr")
    assert preview(hr, kpi="attainment", employee="R3").status_code == 200


def test_browser_writes_need_the_csrf_token_and_programs_a_token(app, admin):
    body = {"formula": "sales", "context": "kpi"}
    assert admin.client.post("/api/v1/formulas/check", json=body).status_code == 400  # no X-CSRFToken
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/formulas/catalogue?context=kpi").status_code == 401
    issued = run_cli("token", "create", "hr", "--name", "tests")
    headers = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    assert anonymous.post("/api/v1/formulas/check", json=body, headers=headers).json["ok"] is True
    assert "/api/v1/formulas/preview" in anonymous.get("/api/openapi.json", headers=headers).json["paths"]
