"""Low-code all the way, in a real browser: the administrator builds a new role's appraisal from
nothing — a dataset field, a metric (whose misspelt filter value is caught while typing), a KPI
with its scoring rule, an approval flow and a template with two sections — publishes it with
what it depends on, runs the period from the page that follows, and opens the director's
scorecard, where the new KPI shows with its trace. No YAML anywhere. Once in English (a monthly
template), once in Chinese (a quarterly one, so the two never compete for the same period)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from .conftest import screenshot

pytestmark = pytest.mark.browser

JOURNEYS = {
    "en": {
        "field": ("channel", "渠道", "Channel"),
        "metric": ("team_visits", "团队拜访数", "Team visits"),
        "kpi": ("team_visit_level", "团队拜访水平", "Team visit level"),
        "flow": "director_review",
        "template": ("director_monthly", "销售总监月度考核", "Sales director (monthly)"),
        "cycle": "monthly",
    },
    "zh": {
        "field": ("region_note", "区域备注", "Region note"),
        "metric": ("team_meetings", "团队会议数", "Team meetings"),
        "kpi": ("team_meeting_level", "团队会议水平", "Team meeting level"),
        "flow": "director_quarterly_review",
        "template": ("director_quarterly", "销售总监季度考核", "Sales director (quarterly)"),
        "cycle": "quarterly",
    },
}


def _director(demo_server) -> str:
    engine = sa.create_engine(demo_server["environment"]["PERFRULES_DATABASE_URL"])
    with engine.connect() as connection:
        code = connection.execute(
            sa.text(
                "SELECT e.code FROM employees e JOIN roles r ON r.id = e.role_id "
                "WHERE r.code = 'sales_director' ORDER BY e.code"
            )
        ).scalar_one()
    engine.dispose()
    return code


def _saved(page) -> None:
    page.wait_for_selector(".alert-success")
    assert page.locator(".problems").count() == 0


def _add_a_dataset_field(page, names) -> None:
    page.goto(f"{page.base}/designer/datasets/activities")
    page.click("[data-action=add-field]")
    row = page.locator("tbody[data-row=field]").last
    code, zh, en = names
    row.locator("[data-field=name]").fill(code)
    row.locator("[data-field=label_zh]").fill(zh)
    row.locator("[data-field=label_en]").fill(en)
    page.click("#save")
    _saved(page)
    assert page.locator(f"tbody[data-row=field][data-name={code}]").count() == 1


def _new_metric(page, names, activity_type: str, misspelt: str) -> None:
    page.goto(f"{page.base}/designer/metrics")
    page.click("#new-document")
    code, zh, en = names
    page.fill("#in-slug", code)
    page.fill("#in-label-zh", zh)
    page.fill("#in-label-en", en)
    page.select_option("#in-dataset", "activities")
    page.select_option("#in-aggregate", "count")
    page.select_option("#in-scope", "team")
    page.fill("textarea[name=filter]", f"type == '{misspelt}'")
    # checked while typing: the value is not one of the field's options, and the right one is named
    suggestion = page.locator(".formula-suggestion", has_text=activity_type)
    suggestion.wait_for()
    screenshot(page, f"build-metric-{names[0]}")
    suggestion.click()  # the suggestion puts itself in place of the misspelt value
    assert page.input_value("textarea[name=filter]") == f"type == '{activity_type}'"
    page.wait_for_function(
        "() => !document.querySelector('.live-error') && document.querySelector('.formula-message').hidden"
    )
    page.click("#save")
    _saved(page)


def _new_kpi(page, names, metric: str, director: str) -> None:
    page.goto(f"{page.base}/designer/kpis")
    page.click("#new-kpi")
    code, zh, en = names
    page.fill("#slug", code)
    page.fill("#label_zh", zh)
    page.fill("#label_en", en)
    page.fill("textarea[name=formula]", metric)
    page.fill("#unit_zh", "次")
    page.fill("#unit_en", "times")
    page.fill("input[name=value_from]", "0")
    page.fill("input[name=value_to]", "400")
    page.fill("input[name=points_from]", "0")
    page.fill("input[name=points_to]", "100")
    page.click("#save")
    _saved(page)
    # the KPI as saved, worked out for the director on the draft: their team's count, and its points
    preview = page.locator("#kpi-preview")
    preview.locator(".document-preview-employee").fill(director)
    preview.locator(".document-preview-run").click()
    preview.locator(".document-preview-result .preview-inputs").wait_for()
    assert metric in preview.locator(".document-preview-result").inner_text()


def _new_flow(page, code: str) -> None:
    page.goto(f"{page.base}/designer/flows/new")
    page.fill("#slug", code)
    page.fill("#label_zh", "总监审批")
    page.fill("#label_en", "Director review")
    page.click("#flow-form button[type=submit]")
    _saved(page)


def _preview_the_template(page, director: str, kpi_label: str) -> None:
    """The template as edited, scored for the director before anything is published."""
    preview = page.locator("#template-preview")
    preview.locator(".document-preview-employee").fill(director)
    preview.locator(".document-preview-run").click()
    page.wait_for_function(
        "label => document.querySelector('#template-preview .document-preview-result').innerText.includes(label)",
        arg=kpi_label,
    )


def _new_template(page, journey, director_kpi: str) -> None:
    page.goto(f"{page.base}/designer/templates")
    page.click("#new-template")
    code, zh, en = journey["template"]
    page.fill("#slug", code)
    page.fill("#label_zh", zh)
    page.fill("#label_en", en)
    page.select_option("#roles", "sales_director")
    page.check(f"#cycle-{journey['cycle']}")
    page.select_option("#approval_flow", journey["flow"])
    first = page.locator("[data-row=section]").nth(0)
    first.locator("[data-field=weight]").first.fill("60")
    first.locator("[data-action=add-item]").click()
    first.locator("[data-row=item] [data-field=kpi]").first.select_option(director_kpi)
    first.locator("[data-row=item] [data-field=weight]").first.fill("100")
    page.click("[data-action=add-section]")
    second = page.locator("[data-row=section]").nth(1)
    second.locator("[data-field=name]").first.fill("activity")
    second.locator("[data-field=label_zh]").first.fill("过程")
    second.locator("[data-field=label_en]").first.fill("Activity")
    second.locator("[data-row=item] [data-field=kpi]").first.select_option("visit_count")
    second.locator("[data-row=item] [data-field=weight]").first.fill("100")
    # checked while typing: section weights that do not add up to 100 are said before saving
    second.locator("[data-field=weight]").first.fill("50")
    page.wait_for_selector(".live-problems:not([hidden]) :text('add up to 110')")
    second.locator("[data-field=weight]").first.fill("40")
    page.wait_for_selector(".live-problems", state="hidden")
    screenshot(page, f"build-template-{code}")
    page.click("#save")
    _saved(page)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_administrator_builds_publishes_and_runs_a_new_roles_appraisal(open_as, demo_server, language):
    journey = JOURNEYS[language]
    director = _director(demo_server)
    page = open_as("admin", language)
    page.goto(f"{page.base}/designer/templates")
    assert page.locator("html").get_attribute("lang") == ("en" if language == "en" else "zh-CN")

    _add_a_dataset_field(page, journey["field"])
    if language == "en":
        _new_metric(page, journey["metric"], "visit", "vist")
    else:
        _new_metric(page, journey["metric"], "meeting", "meting")
    _new_kpi(page, journey["kpi"], journey["metric"][0], director)
    _new_flow(page, journey["flow"])
    _new_template(page, journey, journey["kpi"][0])
    template = journey["template"][0]
    _preview_the_template(page, director, journey["kpi"][1] if language == "zh" else journey["kpi"][2])

    page.click("#review-and-publish")
    going = page.locator("#release-documents li")
    listed = {(item.get_attribute("data-section"), item.get_attribute("data-slug")) for item in going.all()}
    assert {
        ("templates", template),
        ("kpis", journey["kpi"][0]),
        ("metrics", journey["metric"][0]),
        ("datasets", "activities"),
        ("approval_flows", journey["flow"]),
    } <= listed
    assert page.locator("#blocking").count() == 0
    screenshot(page, f"build-review-{language}")
    page.click("#publish")

    page.wait_for_selector("#run-now")
    screenshot(page, f"build-published-{language}")
    period = page.input_value("#period")
    assert re.fullmatch(r"\d{4}-\d{2}" if journey["cycle"] == "monthly" else r"\d{4}-Q[1-4]", period)
    page.click("#run-period")
    page.wait_for_url(re.compile(r"/admin/runs/\d+"))
    page.wait_for_selector(".run-status[data-status=succeeded]", timeout=60_000)

    page.goto(f"{page.base}/scorecards/{period}/{director}")
    card = page.locator("main")
    kpi_name = journey["kpi"][1] if language == "zh" else journey["kpi"][2]
    metric_name = journey["metric"][1] if language == "zh" else journey["metric"][2]
    assert kpi_name in card.inner_text()
    row = page.locator("tr", has_text=kpi_name).first
    assert metric_name in row.inner_text() or metric_name in card.inner_text()  # the trace names the metric
    screenshot(page, f"build-scorecard-{language}")
