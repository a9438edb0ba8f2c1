"""Every kind created from nothing in the designer, with forms: a metric, a form, a schedule and
an employee attribute drawn from their descriptions; a KPI and a template through their own
editors' "New"; problems shown at their fields, as you type and on saving; removal refused while
something uses a document; and nobody but admin and HR (a manager: templates of their
departments) reaches any of it."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from perfrules.config.models import ConfigEntry

from .test_designer import app, csrf, designer_users, signed_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.database


def stored(session, section: str, slug: str) -> dict | None:
    session.rollback()
    return session.scalar(sa.select(ConfigEntry.document).where(ConfigEntry.kind == section, ConfigEntry.slug == slug))


def post(client, url: str, fields: dict) -> object:
    return client.post(url, data={"csrf_token": client.csrf, **fields})


def kpi_fields(**fields: str) -> dict:
    """The KPI editor's fields for a linear rule from 0 (0 points) to 1 (100 points), with `fields`."""
    return {
        "direction": "higher",
        "missing": "zero",
        "scoring_type": "linear",
        "value_from": "0",
        "value_to": "1",
        "points_from": "0",
        "points_to": "100",
        **fields,
    }


METRIC = {
    "slug": "big_wins",
    "label-zh": "大单数",
    "label-en": "Big wins",
    "dataset": "deals",
    "aggregate": "count",
    "filter": "status == 'won' and amount >= 10000",
    "window": "trailing",
    "months": "3",
    "scope": "self",
}


def test_a_metric_is_created_from_nothing_and_its_problems_show_at_their_fields(app, session):
    admin = signed_in(app, "admin")
    page = admin.get("/designer/metrics/new").get_data(as_text=True)
    assert 'id="document-form"' in page and 'name="dataset"' in page and 'data-group="deals"' in page

    # a choice value nobody can hold is refused with a suggestion, at the filter
    wrong = post(admin, "/designer/metrics/new", {**METRIC, "filter": "status == 'wonn'"})
    assert wrong.status_code == 422
    assert "did you mean 'won'" in html.unescape(wrong.get_data(as_text=True))
    assert stored(session, "metrics", "big_wins") is None
    # the same problem while typing, with the path of the field it is about
    live = post(admin, "/designer/check/metrics", {**METRIC, "filter": "status == 'wonn'", "months": "x"})
    paths = {problem["path"] for problem in live.get_json()["problems"]}
    assert "months" in paths
    assert post(admin, "/designer/check/metrics", METRIC).get_json() == {"problems": []}

    saved = post(admin, "/designer/metrics/new", METRIC)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/designer/metrics/big_wins")
    assert stored(session, "metrics", "big_wins") == {
        "slug": "big_wins",
        "label": {"zh": "大单数", "en": "Big wins"},
        "dataset": "deals",
        "aggregate": "count",
        "filter": "status == 'won' and amount >= 10000",
        "window": "trailing",
        "months": 3,
        "scope": "self",
    }
    listed = admin.get("/designer/metrics").get_data(as_text=True)
    assert 'data-slug="big_wins"' in listed and "Big wins" in listed
    again = post(admin, "/designer/metrics/new", METRIC)
    assert again.status_code == 422 and "A metric with this code exists already." in again.get_data(as_text=True)
    # a field only a trailing window takes is not read once the window changes
    post(admin, "/designer/metrics/big_wins", {**METRIC, "window": "period"})
    assert "months" not in stored(session, "metrics", "big_wins")


def test_a_form_with_questions_options_and_a_scale_is_built_in_rows(app, session):
    admin = signed_in(app, "admin")
    fields = {
        "slug": "self_check",
        "label-zh": "自评",
        "label-en": "Self-check",
        "filled_by": "employee",
        "fields-0-_row": "1",
        "fields-0-name": "effort",
        "fields-0-label-zh": "投入",
        "fields-0-label-en": "Effort",
        "fields-0-type": "rating",
        "fields-0-required": "on",
        "fields-0-min": "1",
        "fields-0-max": "5",
        "fields-0-scale_labels-0-_row": "1",
        "fields-0-scale_labels-0-key": "1",
        "fields-0-scale_labels-0-label-zh": "很少",
        "fields-0-scale_labels-0-label-en": "Rarely",
        "fields-1-_row": "1",
        "fields-1-name": "focus",
        "fields-1-label-zh": "重点",
        "fields-1-label-en": "Focus",
        "fields-1-type": "choice",
        "fields-1-options-0-_row": "1",
        "fields-1-options-0-value": "new",
        "fields-1-options-0-label-zh": "新客户",
        "fields-1-options-0-label-en": "New customers",
        "fields-1-min": "3",  # not a number question: not read
    }
    assert post(admin, "/designer/forms/new", fields).status_code == 302
    form = stored(session, "forms", "self_check")
    assert form["fields"][0]["scale_labels"] == {"1": {"zh": "很少", "en": "Rarely"}}
    assert form["fields"][1]["options"] == [{"value": "new", "label": {"zh": "新客户", "en": "New customers"}}]
    assert "min" not in form["fields"][1] and form["fields"][1]["required"] is False
    # a rating without its range: said at the row's field
    broken = post(admin, "/designer/forms/self_check", {**fields, "fields-0-max": ""})
    assert broken.status_code == 422
    assert 'data-path="fields[0].max"' in broken.get_data(
        as_text=True
    ) and "a rating needs min and max" in html.unescape(broken.get_data(as_text=True))


def test_a_schedule_and_an_employee_attribute_are_created_and_removed(app, session):
    admin = signed_in(app, "admin")
    schedule = {
        "slug": "monthly_rep",
        "label-zh": "每月",
        "label-en": "Monthly",
        "templates": ["rep"],
        "cycle": "monthly",
        "cron": "0 6 1 * *",
        "timezone": "Asia/Shanghai",
        "evaluate": "previous",
        "enabled": "on",
    }
    bad = post(admin, "/designer/schedules/new", {**schedule, "cron": "every monday", "timezone": "Mars/Base"})
    assert bad.status_code == 422
    text = html.unescape(bad.get_data(as_text=True))
    assert "not a cron expression" in text and "unknown time zone 'Mars/Base'" in text
    assert post(admin, "/designer/schedules/new", schedule).status_code == 302
    assert stored(session, "schedules", "monthly_rep")["templates"] == ["rep"]

    attribute = {"slug": "quota_weight", "label-zh": "配额权重", "label-en": "Quota weight", "type": "number"}
    assert post(admin, "/designer/attributes/new", attribute).status_code == 302
    assert stored(session, "employee_attributes", "quota_weight")["type"] == "number"
    removed = post(admin, "/designer/attributes/quota_weight/remove", {})
    assert removed.status_code == 302 and stored(session, "employee_attributes", "quota_weight") is None

    # a metric that KPIs use cannot go
    refused = post(admin, "/designer/metrics/sales/remove", {})
    assert refused.status_code == 302 and stored(session, "metrics", "sales") is not None
    assert "sales" in html.unescape(admin.get(refused.headers["Location"]).get_data(as_text=True))


def test_a_kpi_and_a_template_are_created_from_nothing(app, session):
    admin = signed_in(app, "admin")
    assert 'id="new-kpi"' in admin.get("/designer/kpis").get_data(as_text=True)
    kpi = kpi_fields(
        slug="big_deal_share",
        label_zh="大单占比",
        label_en="Big deal share",
        formula="deals_won / (deals_won + deals_lost)",
        unit_zh="单",
        unit_en="deals",
    )
    assert post(admin, "/designer/kpis/new", kpi).status_code == 302
    document = stored(session, "kpis", "big_deal_share")
    assert document["unit"] == {"zh": "单", "en": "deals"} and document["scoring"]["points_to"] == 100.0
    post(admin, "/designer/kpis/big_deal_share", {**kpi, "unit_en": "单"})
    assert stored(session, "kpis", "big_deal_share")["unit"] == "单"  # one text when both are the same

    page = admin.get("/designer/templates/new").get_data(as_text=True)
    assert 'name="slug"' in page and 'name="g-0-share"' in page
    template = {
        "slug": "closer",
        "label_zh": "成交考核",
        "label_en": "Closer",
        "weights": "strict",
        "roles": ["rep"],
        "s-0-name": "results",
        "s-0-label_zh": "业绩",
        "s-0-label_en": "Results",
        "s-0-weight": "100",
        "s-0-it-0-kind": "kpi",
        "s-0-it-0-kpi": "big_deal_share",
        "s-0-it-0-weight": "60",
        "s-0-it-1-kind": "kpi",
        "s-0-it-1-kpi": "attainment",
        "s-0-it-1-weight": "40",
        **{
            f"g-{k}-{key}": value
            for k, row in enumerate([("A", "80", "60"), ("B", "0", "40")])
            for key, value in zip(("grade", "min", "share"), row)
        },
        **{f"g-{k}-label_{lang}": name for k in range(2) for lang, name in (("zh", "档"), ("en", "Band"))},
    }
    assert post(admin, "/designer/templates/new", template).status_code == 302
    closer = stored(session, "templates", "closer")
    assert closer["calibration"] == {"A": 60.0, "B": 40.0}
    assert [item["kpi"] for item in closer["sections"][0]["items"]] == ["big_deal_share", "attainment"]
    # the review lists the new KPI: it goes into the version with the template
    review = admin.get("/designer/templates/closer/review").get_data(as_text=True)
    assert 'data-section="kpis" data-slug="big_deal_share"' in review and 'id="publish"' in review


def test_only_admin_and_hr_reach_these_editors(app):
    manager, employee = signed_in(app, "lead_east"), signed_in(app, "rep1")
    for client in (manager, employee):
        assert client.get("/designer/metrics").status_code == 403
        assert client.get("/designer/forms/new").status_code == 403
        assert post(client, "/designer/metrics/new", METRIC).status_code == 403
        assert post(client, "/designer/check/metrics", METRIC).status_code == 403
    assert post(employee, "/designer/check/templates", {"slug": "x"}).status_code == 403
    # a manager checks a template of their own, but one for someone else's departments is a problem
    problems = post(manager, "/designer/check/templates", {"slug": "x", "departments": ["WEST"]}).get_json()
    assert "applies_to.departments" in {problem["path"] for problem in problems["problems"]}


def test_saving_unchanged_keeps_what_the_lists_do_not_offer_and_formulas_as_typed(app, session):
    """A template scoped to codes the organisation no longer has stays scoped (never widened to
    everyone); a formula posted with a browser's CRLF line ends is stored as it was."""
    admin = signed_in(app, "admin")
    template = {
        "slug": "north",
        "label_zh": "北区",
        "label_en": "North",
        "weights": "strict",
        "departments": ["NORTH"],
        "roles": ["intern"],
        "s-0-name": "results",
        "s-0-label_zh": "业绩",
        "s-0-label_en": "Results",
        "s-0-weight": "100",
        "s-0-it-0-kind": "kpi",
        "s-0-it-0-kpi": "attainment",
        "s-0-it-0-weight": "100",
        "g-0-grade": "A",
        "g-0-min": "0",
        "g-0-label_zh": "档",
        "g-0-label_en": "Band",
    }
    assert post(admin, "/designer/templates/new", template).status_code == 302
    page = admin.get("/designer/templates/north").get_data(as_text=True)
    assert '<option value="NORTH" selected>' in page and '<option value="intern" selected>' in page
    assert stored(session, "templates", "north")["applies_to"] == {"departments": ["NORTH"], "roles": ["intern"]}

    kpi = kpi_fields(
        label_zh="完成率",
        label_en="Attainment",
        formula="sales\r\n/ target.sales",
        value_to="1.2",
        points_to="120",
        floor="0",
        cap="120",
    )
    assert post(admin, "/designer/kpis/attainment", kpi).status_code == 302
    assert stored(session, "kpis", "attainment")["formula"] == "sales\n/ target.sales"


def test_a_managers_malformed_scope_is_a_problem_not_a_crash(app, session):
    """A document posted to the API may hold anything: its scope is judged without crashing."""
    from perfrules.config import drafts
    from perfrules.config.permissions import reach_of
    from perfrules.org.models import User
    from perfrules.plugins import load_plugins

    manager = session.scalar(sa.select(User).where(User.login == "lead_east"))
    reach = reach_of(session, manager)
    for scope in ("EAST", None, [["EAST"]], {"departments": "EAST"}):
        document = {"label": {"zh": "x", "en": "x"}, "applies_to": scope}
        problems = drafts.check_document(session, reach, "templates", "x", document, load_plugins().functions, new=True)
        assert "applies_to.departments" in {problem.path for problem in problems}, scope


def test_publishing_a_template_takes_what_its_target_sets_name(app, session):
    """A target set goes whole into a version: a new KPI one of its entries names goes with it,
    rather than blocking the template that only needed the set's other entries."""
    admin = signed_in(app, "admin")
    kpi = kpi_fields(slug="k_new", label_zh="新", label_en="New", formula="sales")
    assert post(admin, "/designer/kpis/new", kpi).status_code == 302
    targets = admin.get("/designer/targets/t2026")
    assert targets.status_code == 200
    from perfrules.config import drafts
    from perfrules.config.permissions import reach_of
    from perfrules.config.store import working_config
    from perfrules.org.models import User
    from perfrules.plugins import load_plugins

    session.rollback()
    target_set = working_config(session)["targets"]["t2026"]
    target_set["entries"].append({"name": "k_new", "period": "2026-10", "role": "rep", "value": 1.0})
    user = session.scalar(sa.select(User).where(User.login == "admin"))
    functions = load_plugins().functions
    drafts.save_document(session, reach_of(session, user), "admin", "targets", "t2026", target_set, functions)
    session.commit()
    planned = drafts.release(session, ["rep"], functions)
    assert ("kpis", "k_new", "new") in planned.documents and ("targets", "t2026", "changed") in planned.documents
    version, _release = drafts.publish_templates(session, reach_of(session, user), "admin", ["rep"], "rep", functions)
    assert "k_new" in version.snapshot["kpis"]
