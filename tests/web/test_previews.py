"""Previews of a metric and a template as they are edited, for one employee and period on the
draft — numbers from the hand-checked scenario (tests/engine/scenario.py), equal to a run's,
nothing written — and, for someone without data, people who have. Also: a filter's choice value
is checked as it is typed."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
import yaml
from flask import render_template_string

from perfrules.engine.models import Scorecard

from ..engine import scenario
from ..helpers import run_cli
from .test_formula_api import Browser, admin, app, formula_api_users  # noqa: F401  (fixtures)

pytestmark = pytest.mark.database

DOCUMENTS = yaml.safe_load(scenario.CONFIG)
METRICS = {metric["slug"]: metric for metric in DOCUMENTS["metrics"]}
REP = next(template for template in DOCUMENTS["templates"] if template["slug"] == "rep")


def preview(browser, kind: str, document: dict, employee: str, period: str = "2026-10"):
    return browser.post(
        f"/api/v1/formulas/preview-{kind}", {"document": document, "employee": employee, "period": period}
    )


def test_a_metric_preview_gives_its_value_the_records_it_counted_and_what_it_counted(admin):
    sales = preview(admin, "metric", METRICS["sales"], "R1")
    assert sales.status_code == 200, sales.json
    assert sales.json == {
        "metric": "sales",
        "employee": "R1",
        "name": "销售一",
        "department": "EAST",
        "period": "2026-10",
        "description": "sum(deals.amount) where status == 'won'",
        "counted": "the sum of amount over the 2 deals records of R1 dated 2026-10-01 to 2026-10-31 "
        "where status == 'won'",
        "value": 24000.0,
        "records": 2,
        "start": "2026-10-01",
        "end": "2026-10-31",
        "scope": "self",
        "no_data": None,
        "suggestions": [],
    }
    team = preview(admin, "metric", METRICS["team_sales"], "L1").json
    assert (team["value"], team["records"]) == (30000.0, 3)
    assert team["counted"].startswith("the sum of amount over the 3 deals records of L1 and everyone reporting")
    # a new metric, edited: no slug or label yet, another window
    lost = {"dataset": "deals", "aggregate": "count", "filter": "status == 'lost'", "window": "trailing", "months": 2}
    answer = preview(admin, "metric", lost, "R2").json
    assert (answer["metric"], answer["value"], answer["records"], answer["start"]) == ("preview", 3.0, 3, "2026-09-01")


def test_a_template_preview_scores_as_a_run_and_writes_nothing(admin, session):
    def scorecards_stored():
        session.rollback()
        return session.scalar(sa.select(sa.func.count()).select_from(Scorecard))

    before = scorecards_stored()
    previews = {code: preview(admin, "template", REP, code).json for code in ("R1", "R2", "R4")}
    assert scorecards_stored() == before
    assert run_cli("run", "2026-10").exit_code == 0
    cards = scenario.scorecards()
    for code, shown in previews.items():
        card = cards[code]
        assert (shown["total"], shown["grade"], shown["error"]) == (
            pytest.approx(card["total"]),
            card["grade"],
            card["error"],
        )
        assert [(i["key"], i["points"], i["excluded"]) for i in shown["items"]] == [
            (i["key"], pytest.approx(i["points"]) if i["points"] is not None else None, i["excluded"])
            for i in card["items"]
        ]
        assert shown["applies"] is True and shown["no_data"] is None
    attainment = previews["R1"]["items"][0]
    assert (attainment["key"], attainment["inputs"], attainment["target"]) == (
        "attainment",
        {"sales": 24000.0, "target.sales": 20000.0},
        20000.0,
    )
    assert attainment["sentence"] and attainment["label"] == {"zh": "完成率", "en": "Attainment"}

    # edited: the process section gone; scored on someone it does not apply to
    edited = copy.deepcopy(REP)
    edited["sections"] = [dict(edited["sections"][0], weight=100)]
    lead = preview(admin, "template", edited, "L1").json
    assert [item["key"] for item in lead["items"]] == ["attainment", "win_rate"]
    assert (lead["applies"], lead["assigned"]) == (False, "lead")
    assert "L1 is assessed on template 'lead', not this one" in lead["notes"]


def test_someone_without_data_gets_people_with_data_they_may_see(admin, app):
    metric = preview(admin, "metric", METRICS["sales"], "R3").json
    assert (metric["value"], metric["records"]) == (0.0, 0)
    assert metric["no_data"] == "no records count for R3: deals 2026-10-01 – 2026-10-31"
    assert metric["suggestions"] == [
        {"employee": "R1", "name": "销售一", "department": "EAST", "records": 2},
        {"employee": "R2", "name": "销售二", "department": "EAST", "records": 1},
        {"employee": "R4", "name": "销售四", "department": "WEST", "records": 1},
    ]
    # the template reads won and lost deals: R2 has four, R1 three, R4 one
    template = preview(admin, "template", REP, "R3").json
    assert template["no_data"] and [s["employee"] for s in template["suggestions"]] == ["R2", "R1", "R4"]
    kpi = admin.post("/api/v1/formulas/preview", {"kpi": "attainment", "employee": "R3", "period": "2026-10"}).json
    assert kpi["no_data"] and [s["employee"] for s in kpi["suggestions"]] == ["R1", "R2", "R4"]
    has_data = admin.post("/api/v1/formulas/preview", {"kpi": "team_attainment", "employee": "L1", "period": "2026-10"})
    assert (has_data.json["no_data"], has_data.json["suggestions"]) == (None, [])

    west = Browser(app, "lead_west")  # R3, who manages the west: R4 only
    assert [s["employee"] for s in preview(west, "template", REP, "R3").json["suggestions"]] == ["R4"]


def test_who_may_preview_and_whom_they_find(app):
    east = Browser(app, "lead_east")
    assert preview(east, "template", REP, "R2").status_code == 200
    hidden = preview(east, "template", REP, "R3")
    assert hidden.status_code == 404 and hidden.json["message"] == "no employee R3 that you may see"
    # a metric's filter and scope reach anyone's records: only admin and HR preview one
    assert preview(east, "metric", METRICS["sales"], "R2").status_code == 403
    found = east.get("/api/v1/formulas/preview-employees?q=销售").json["employees"]
    assert [e["employee"] for e in found] == ["R1", "R2"]
    assert [e["employee"] for e in east.get("/api/v1/formulas/preview-employees").json["employees"]] == [
        "L1",
        "R1",
        "R2",
    ]
    assert Browser(app, "hr").get("/api/v1/formulas/preview-employees?q=r").json["employees"][-1]["employee"] == "R4"
    rep = Browser(app, "rep1")
    assert preview(rep, "metric", METRICS["sales"], "R1").status_code == 403
    assert rep.get("/api/v1/formulas/preview-employees").status_code == 403


def test_bad_documents_are_refused_with_their_paths(admin):
    misspelt = dict(METRICS["sales"], filter="status == 'wom'")
    response = preview(admin, "metric", misspelt, "R1")
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "path": "json.document.filter",
            "message": "status is never 'wom': its values are 'won', 'lost' — did you mean 'won'?\n"
            "    status == 'wom'\n"
            "               ^^^",
        }
    ]
    response = preview(admin, "metric", dict(METRICS["sales"], aggregate="total", colour="red"), "R1")
    assert sorted(error["path"] for error in response.json["errors"]) == [
        "json.document.aggregate",
        "json.document.colour",
    ]
    unknown = copy.deepcopy(REP)
    unknown["sections"][0]["items"][0]["kpi"] = "attainmant"
    response = preview(admin, "template", unknown, "R1")
    assert response.status_code == 422 and response.json["errors"] == [
        {"path": "json.document.sections[0].items[0].kpi", "message": "unknown KPI 'attainmant'"}
    ]
    assert preview(admin, "metric", METRICS["sales"], "R1", "2026-13").json["errors"][0]["path"] == "json.period"
    huge = dict(METRICS["sales"], label={"zh": "销" * 120_000, "en": "x"})
    response = preview(admin, "metric", huge, "R1")
    assert response.status_code == 422 and response.json["errors"][0]["path"] == "json.document"
    assert preview(admin, "metric", METRICS["sales"], "NOBODY").status_code == 404


def test_a_filter_is_checked_against_its_choice_values_while_typed(admin):
    answer = admin.post(
        "/api/v1/formulas/check", {"formula": "status in ('won', 'lots')", "context": "filter", "dataset": "deals"}
    ).json
    assert answer["ok"] is False
    error = answer["errors"][0]
    assert (error["start"], error["end"], error["suggestion"]) == (19, 23, "lost")
    assert error["message"] == "status is never 'lots': its values are 'won', 'lost' — did you mean 'lost'?"


def test_the_preview_piece_renders_for_a_page_to_include(app):
    page = (
        "{% from 'designer/_preview.html' import document_preview, document_preview_scripts %}"
        "{{ document_preview('metric', period='2026-10') }}"
        "{{ document_preview('template', document_url='/designer/document/templates/rep', form='template-form') }}"
        "{{ document_preview_scripts() }}"
    )
    with app.test_request_context("/"):
        html = render_template_string(page)
    assert 'data-preview-url="/api/v1/formulas/preview-metric"' in html
    assert 'data-preview-url="/api/v1/formulas/preview-template"' in html
    assert 'data-form="template-form"' in html and 'data-document-url="/designer/document/templates/rep"' in html
    for employee in ("metric-preview-employee", "template-preview-employee"):
        assert f'<label class="small mb-0" for="{employee}">' in html and f'id="{employee}" list="{employee}s"' in html
    assert 'value="2026-10"' in html and 'value="last-month"' in html
    assert "document-preview.js" in html and 'id="document-preview-strings"' in html
