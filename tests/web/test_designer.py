"""The template designer: the inline editor (weights checked again by the server, problems at
their paths, nothing saved while one remains), the KPI editor, cloning for a department, who may
touch which template, and a manager's submission published by HR and used by the next run —
on the hand-checked scenario (tests/engine/scenario.py)."""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.config.models import ConfigEntry, ConfigVersion
from perfrules.config.submissions import TemplateSubmission
from perfrules.web import create_app

from ..engine.scenario import items, scorecards
from ..helpers import add_users, run_cli, starting_state

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
USERS = {  # login: (role, employee)
    "admin": ("admin", None),
    "hr": ("hr", None),
    "lead_east": ("manager", "L1"),
    "lead_west": ("manager", "R3"),
    "rep1": ("employee", "R1"),
}


def _create_users(folder: Path) -> None:
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_create_users, parent="company")
def designer_users(company):
    """The scenario company with USERS, each with PASSWORD; the test's folder."""
    return company


@pytest.fixture
def app(designer_users, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def signed_in(app, login: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the texts below are the English ones
    token = csrf(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"{login} could not sign in"
    client.csrf = csrf(client.get("/").get_data(as_text=True))
    return client


def draft(session, kind: str = "templates") -> dict:
    session.rollback()
    return dict(
        session.execute(sa.select(ConfigEntry.slug, ConfigEntry.document).where(ConfigEntry.kind == kind)).all()
    )


def audit(session, action: str) -> list[AuditEntry]:
    session.rollback()
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def form_data(template: dict, token: str) -> dict:
    """The editor's fields for a template document, as the page posts them."""
    applies = template.get("applies_to", {})
    data = {
        "csrf_token": token,
        "label_zh": template["label"]["zh"],
        "label_en": template["label"]["en"],
        "weights": template.get("weights", "strict"),
        "approval_flow": template.get("approval_flow", ""),
        "departments": applies.get("departments", []),
        "roles": applies.get("roles", []),
        "cycles": template.get("cycles") or [],
    }
    for s, section in enumerate(template["sections"]):
        data.update(
            {
                f"s-{s}-name": section["name"],
                f"s-{s}-label_zh": section["label"]["zh"],
                f"s-{s}-label_en": section["label"]["en"],
                f"s-{s}-weight": str(section["weight"]),
            }
        )
        for i, item in enumerate(section["items"]):
            at = f"s-{s}-it-{i}-"
            data.update(
                {
                    at + "kind": "manual" if "manual" in item else "kpi",
                    at + "kpi": item.get("kpi", ""),
                    at + "manual": item.get("manual", ""),
                    at + "weight": str(item["weight"]),
                    at + "label_zh": (item.get("label") or {}).get("zh", ""),
                    at + "label_en": (item.get("label") or {}).get("en", ""),
                    at + "form": item.get("form", ""),
                    at + "missing": item.get("missing", ""),
                }
            )
    for k, grade in enumerate(template["grades"]):
        data.update(
            {
                f"g-{k}-grade": grade["grade"],
                f"g-{k}-min": str(grade["min"]),
                f"g-{k}-label_zh": grade["label"]["zh"],
                f"g-{k}-label_en": grade["label"]["en"],
            }
        )
    return data


def save(client, slug: str, template: dict):
    page = client.get(f"/designer/templates/{slug}")
    assert page.status_code == 200
    return client.post(f"/designer/templates/{slug}", data=form_data(template, csrf(page.get_data(as_text=True))))


def clone(client, source: str, slug: str, departments=(), roles=(), **labels):
    return client.post(
        f"/designer/templates/{source}/clone",
        data={
            "csrf_token": client.csrf,
            "new_slug": slug,
            "departments": list(departments),
            "roles": list(roles),
            **labels,
        },
    )


# --- the list and the editor -------------------------------------------------------------------


def test_the_list_shows_the_drafts_templates(app):
    admin = signed_in(app, "admin")
    page = admin.get("/designer/templates").get_data(as_text=True)
    assert '<tr data-slug="rep">' in page and '<tr data-slug="lead">' in page
    assert 'href="/designer/templates/rep"' in page and "Compared with published version 1." in page
    assert page.count("Unchanged") == 2
    assert '<meta name="csrf-token"' in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "nonce=" in tag, tag
    assert not re.search(r"\son[a-z]+=", page)  # no inline handlers (the CSP would block them)

    east = signed_in(app, "lead_east")
    page = east.get("/designer/templates").get_data(as_text=True)
    assert '<tr data-slug="rep">' in page  # company-wide: theirs to clone, not to edit
    assert 'href="/designer/templates/rep"' not in page
    assert east.get("/designer/templates/rep").status_code == 403
    assert signed_in(app, "rep1").get("/designer/templates").status_code == 403
    assert app.test_client().get("/designer/templates").status_code == 302


def test_bad_weights_are_refused_with_their_paths_and_nothing_is_saved(app, session):
    admin = signed_in(app, "admin")
    before, audited = draft(session), len(audit(session, "config.save"))
    rep = copy.deepcopy(before["rep"])
    rep["sections"][0]["items"][0]["weight"] = 50  # 50 + 40 = 90
    response = save(admin, "rep", rep)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "1 problem; nothing was saved." in page
    assert (
        '<code>sections[0].items</code>: <span class="problem-message">the items\' (section results) weights add up to 90, not 100 (or set weights: normalise)</span>'
        in page
    )
    # next to the fields, and what was typed is kept
    assert re.search(
        r'Σ <span class="sum-value">90</span></span>\s*<div class="invalid-feedback d-block field-error">the items\' \(section results\) weights add up to 90',
        page,
    )
    assert 'name="s-0-it-0-weight" data-field="weight" value="50"' in page

    rep = copy.deepcopy(before["rep"])
    rep["sections"][0]["weight"] = 60  # 60 + 30
    page = html.unescape(save(admin, "rep", rep).get_data(as_text=True))
    assert (
        '<code>sections</code>: <span class="problem-message">section weights add up to 90, not 100 (or set weights: normalise)</span>'
        in page
    )
    rep["weights"] = "normalise"  # then any positive weights do
    rep["grades"][0]["min"] = 50  # S below A
    page = html.unescape(save(admin, "rep", rep).get_data(as_text=True))
    assert "1 problem; nothing was saved." in page
    assert (
        '<code>grades</code>: <span class="problem-message">grades must be ordered from the highest min to the lowest</span>'
        in page
    )

    rep["sections"][1]["weight"] = "abc"  # a field that is wrong is reported first
    page = html.unescape(save(admin, "rep", rep).get_data(as_text=True))
    assert '<code>sections[1].weight</code>: <span class="problem-message">Not a valid number.</span>' in page
    assert re.search(
        r'name="s-1-weight" data-field="weight" value="abc"></label>\s*'
        r'<div class="invalid-feedback d-block field-error">Not a valid number.</div>',
        page,
    )
    assert draft(session) == before and len(audit(session, "config.save")) == audited

    unnamed = copy.deepcopy(before["rep"])
    unnamed["sections"][1]["items"].append({"manual": "", "label": {"zh": "主动性", "en": "Initiative"}, "weight": 10})
    unnamed["sections"][0]["items"].append({"weight": 10})  # a KPI item with no KPI chosen
    page = html.unescape(save(admin, "rep", unnamed).get_data(as_text=True))
    assert (
        '<code>sections[1].items[2].manual</code>: <span class="problem-message">give the rated item a code: lowercase letters, digits and _</span>'
        in page
    )
    assert '<code>sections[0].items[2].kpi</code>: <span class="problem-message">choose a KPI</span>' in page
    assert re.search(
        r'<tr class="item-row" data-row="item" data-kind="manual">\s*<td class="item-kind">\s*<select class="form-control form-control-sm" name="s-1-it-2-kind"',
        page,
    )

    unknown = copy.deepcopy(before["rep"])
    unknown["sections"][0]["items"][1]["kpi"] = "win_rat"
    page = html.unescape(save(admin, "rep", unknown).get_data(as_text=True))
    assert "<code>sections[0].items[1].kpi</code>: <span class=\"problem-message\">unknown KPI 'win_rat'</span>" in page
    assert draft(session) == before


def test_a_good_save_changes_the_draft_and_is_audited(app, session):
    admin = signed_in(app, "admin")
    rep = copy.deepcopy(draft(session)["rep"])
    results = rep["sections"][0]
    results["items"] = [results["items"][1] | {"weight": 30}, results["items"][0] | {"weight": 70}]  # reordered
    rep["sections"].append(
        {
            "name": "extra",
            "label": {"zh": "附加", "en": "Extra"},
            "weight": 10,
            "items": [
                {
                    "manual": "initiative",
                    "label": {"zh": "主动性", "en": "Initiative"},
                    "weight": 100,
                    "missing": "zero",
                }
            ],
        }
    )
    rep["sections"][0]["weight"] = 60
    rep["label"]["en"] = "<script>alert(1)</script>"
    response = save(admin, "rep", rep)
    assert response.status_code == 302 and response.headers["Location"] == "/designer/templates/rep"
    saved = draft(session)["rep"]
    assert [(i["kpi"], i["weight"]) for i in saved["sections"][0]["items"]] == [
        ("win_rate", 30.0),
        ("attainment", 70.0),
    ]
    assert saved["sections"][2] == {
        "name": "extra",
        "label": {"zh": "附加", "en": "Extra"},
        "weight": 10.0,
        "items": [
            {"manual": "initiative", "label": {"zh": "主动性", "en": "Initiative"}, "missing": "zero", "weight": 100.0}
        ],
    }
    entry = audit(session, "config.save")[-1]
    assert (entry.actor, entry.kind, entry.key) == ("admin", "templates", "rep")
    assert entry.before["sections"][0]["weight"] == 70 and entry.after["sections"][0]["weight"] == 60
    page = admin.get("/designer/templates/rep").get_data(as_text=True)
    assert "Saved into the draft." in page and "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Changed since version 1." in page
    listing = admin.get("/designer/templates").get_data(as_text=True)
    assert re.search(r'<tr data-slug="rep">.*?badge-info">Changed<', listing, re.S)


def test_forms_need_their_csrf_token(app, session):
    admin = signed_in(app, "admin")
    before = draft(session)
    data = form_data(before["rep"], "wrong")
    assert admin.post("/designer/templates/rep", data=data).status_code == 400
    assert clone(admin, "rep", "rep_x").status_code == 302
    admin.csrf = "forged"
    assert clone(admin, "rep", "rep_y").status_code == 400
    assert "rep_y" not in draft(session)


def test_the_kpi_editor_checks_formulas_again_and_saves(app, session):
    admin = signed_in(app, "admin")
    page = admin.get("/designer/kpis/attainment")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'class="formula-editor" data-context="kpi" data-kpi="attainment"' in text
    # the preview searches people (nobody's list is sent with the page) and starts with last month
    assert '<option value="R1">' not in text and 'data-kind="kpi" data-form="kpi-form"' in text
    assert re.search(r'id="kpi-preview-period" value="(last-month|\d{4}-\d{2})"', text)
    form = {
        "csrf_token": csrf(text),
        "label_zh": "完成率",
        "label_en": "Attainment",
        "formula": "sale / target.sales",
        "direction": "higher",
        "missing": "zero",
        "scoring_type": "linear",
        "value_from": "0",
        "value_to": "1.2",
        "points_from": "0",
        "points_to": "120",
        "floor": "0",
        "cap": "120",
    }
    response = admin.post("/designer/kpis/attainment", data=form)
    assert response.status_code == 422
    problem = html.unescape(response.get_data(as_text=True))
    assert "unknown name 'sale' — did you mean 'sales'?\n    sale / target.sales\n    ^^^^" in problem
    assert draft(session, "kpis")["attainment"]["formula"] == "sales / target.sales"
    response = admin.post(
        "/designer/kpis/attainment",
        data=form
        | {
            "formula": "sales / target.sales",
            "scoring_type": "bands",
            "b-0-min": "1",
            "b-0-points": "100",
            "b-1-min": "0.5",
            "b-1-points": "60",
            "otherwise": "0",
        },
    )
    assert response.status_code == 302
    assert draft(session, "kpis")["attainment"]["scoring"] == {
        "type": "bands",
        "bands": [{"min": 1.0, "points": 100.0}, {"min": 0.5, "points": 60.0}],
        "otherwise": 0.0,
    }
    assert audit(session, "config.save")[-1].key == "attainment"
    for login in ("lead_east", "rep1"):
        assert signed_in(app, login).get("/designer/kpis/attainment").status_code == 403
    assert signed_in(app, "hr").get("/designer/kpis").status_code == 200


# --- cloning and who may touch what -------------------------------------------------------------


def test_a_manager_clones_for_their_own_subtree_only(app, session):
    east = signed_in(app, "lead_east")
    before = draft(session)
    response = clone(east, "rep", "rep_east", departments=["EAST"])
    assert response.status_code == 302 and response.headers["Location"] == "/designer/templates/rep_east"
    rep_east = draft(session)["rep_east"]
    assert rep_east["applies_to"] == {"departments": ["EAST"], "roles": ["rep"]}
    assert rep_east["sections"] == before["rep"]["sections"] and rep_east["grades"] == before["rep"]["grades"]
    assert rep_east["label"] == {"zh": "销售考核(华东)", "en": "Rep (East)"}
    clone_entry = audit(session, "template.clone")[-1]
    assert (clone_entry.actor, clone_entry.key, clone_entry.after["source"]) == ("lead_east", "rep_east", "rep")

    for departments in (["WEST"], ["EAST", "WEST"], ["SALES"], []):
        assert clone(east, "rep", "rep_elsewhere", departments=departments).status_code == 403, departments
    assert clone(signed_in(app, "lead_west"), "rep", "rep_w", departments=["EAST"]).status_code == 403
    assert clone(signed_in(app, "rep1"), "rep", "rep_r", departments=["EAST"]).status_code == 403
    assert {"rep_elsewhere", "rep_w", "rep_r"}.isdisjoint(draft(session))
    # an existing code or a bad one is a problem with its path, and nothing is added
    page = east.get(clone(east, "rep", "rep_east", departments=["EAST"]).headers["Location"]).get_data(as_text=True)
    assert "template &#39;rep_east&#39; already exists" in page
    clone(east, "rep", "Rep East!", departments=["EAST"])
    assert "Rep East!" not in draft(session)

    hr = signed_in(app, "hr")
    assert (
        clone(hr, "lead", "lead_all", roles=["lead", "rep"], label_zh="全员主管", label_en="All leads").status_code
        == 302
    )
    assert draft(session)["lead_all"]["applies_to"] == {"departments": [], "roles": ["lead", "rep"]}
    assert draft(session)["lead_all"]["label"] == {"zh": "全员主管", "en": "All leads"}


def test_a_manager_cannot_touch_other_departments_templates(app, session):
    hr = signed_in(app, "hr")
    assert clone(hr, "rep", "rep_west", departments=["WEST"]).status_code == 302
    east = signed_in(app, "lead_east")
    assert clone(east, "rep", "rep_east", departments=["EAST"]).status_code == 302
    before = draft(session)

    assert east.get("/designer/templates/rep_west").status_code == 403
    west_form = form_data(before["rep_west"], east.csrf)
    assert east.post("/designer/templates/rep_west", data=west_form).status_code == 403
    assert east.post("/designer/templates/rep", data=form_data(before["rep"], east.csrf)).status_code == 403
    assert east.post("/designer/templates/rep_west/submit", data={"csrf_token": east.csrf}).status_code == 403
    assert clone(east, "rep_west", "rep_west_copy", departments=["EAST"]).status_code == 403
    for url in ("/designer/templates/rep_west/review", "/designer/templates/rep_east/review"):
        assert east.get(url).status_code == 403
    assert east.post("/designer/templates/rep_east/publish", data={"csrf_token": east.csrf}).status_code == 403
    assert (
        east.post("/designer/templates/rep_east/return", data={"csrf_token": east.csrf, "comment": "x"}).status_code
        == 403
    )
    listing = east.get("/designer/templates").get_data(as_text=True)
    assert "rep_west" not in listing and 'href="/designer/templates/rep_east"' in listing

    # their own template, yes; moved out of their subtree, no
    assert east.get("/designer/templates/rep_east").status_code == 200
    moved = copy.deepcopy(before["rep_east"])
    moved["applies_to"]["departments"] = ["WEST"]
    response = save(east, "rep_east", moved)
    assert response.status_code == 422
    assert "choose departments of your own part of the organisation" in response.get_data(as_text=True)
    everyone = copy.deepcopy(before["rep_east"])
    everyone["applies_to"]["departments"] = []
    assert save(east, "rep_east", everyone).status_code == 422
    page = east.get("/designer/templates/rep_east").get_data(as_text=True)
    assert 'value="EAST"' in page and 'value="WEST"' not in page  # only their departments are offered
    assert draft(session) == before

    west = signed_in(app, "lead_west")
    assert west.get("/designer/templates/rep_east").status_code == 403
    assert west.get("/designer/templates/rep_west").status_code == 200
    assert west.get("/designer/templates/nope").status_code == 404


# --- submit, publish, return --------------------------------------------------------------------


def test_submitted_published_and_used_by_the_next_run(app, session):
    east = signed_in(app, "lead_east")
    assert (
        clone(east, "rep", "rep_east", departments=["EAST"], label_en="Rep, East", label_zh="华东销售").status_code
        == 302
    )
    rep_east = copy.deepcopy(draft(session)["rep_east"])
    rep_east["sections"][0]["items"][0]["weight"] = 80  # attainment
    rep_east["sections"][0]["items"][1]["weight"] = 20  # win rate
    assert save(east, "rep_east", rep_east).status_code == 302
    response = east.post(
        "/designer/templates/rep_east/submit", data={"csrf_token": east.csrf, "comment": "more on sales"}
    )
    assert response.status_code == 302
    assert "Submitted for approval" in east.get("/designer/templates/rep_east").get_data(as_text=True)
    session.rollback()
    row = session.scalar(sa.select(TemplateSubmission).where(TemplateSubmission.slug == "rep_east"))
    assert (row.state, row.submitted_by, row.comment) == ("submitted", "lead_east", "more on sales")
    assert east.post("/designer/templates/rep_east/submit", data={"csrf_token": east.csrf}).status_code == 302
    assert len(audit(session, "template.submit")) == 1  # already submitted: said so, not submitted twice

    hr = signed_in(app, "hr")
    listing = hr.get("/designer/templates").get_data(as_text=True)
    assert 'id="waiting"' in listing and "submitted by lead_east" in listing
    review = html.unescape(hr.get("/designer/templates/rep_east/review").get_data(as_text=True))
    assert "+ templates.rep_east" in review and "version 1 → the draft" in review
    assert "Compared with rep, the template it was cloned from" in review
    assert (
        "sections[0].items[0].weight: 60.0 → 80.0" in review and 'applies_to.departments[0]: (none) → "EAST"' in review
    )
    assert "Template rep_east (Rep, East) submitted by lead_east" in review
    response = hr.post(
        "/designer/templates/rep_east/publish", data={"csrf_token": csrf(review), "note": "East weights"}
    )
    assert response.status_code == 302
    session.rollback()
    version = session.scalar(sa.select(ConfigVersion).order_by(ConfigVersion.number.desc()).limit(1))
    assert version.number == 2 and version.created_by == "hr"
    assert version.message == "Template rep_east (Rep, East) submitted by lead_east: East weights"
    assert version.snapshot["templates"]["rep_east"]["sections"][0]["items"][0]["weight"] == 80
    row = session.scalar(sa.select(TemplateSubmission).where(TemplateSubmission.slug == "rep_east"))
    assert (row.state, row.decided_by, row.version_number) == ("published", "hr", 2)
    assert [e.action for e in audit(session, "template.publish")] == ["template.publish"]
    assert audit(session, "config.publish")[-1].key == "2"

    assert run_cli("run", "2026-10").exit_code == 0
    cards = scorecards()
    # R1 on rep_east: results 70 × (attainment 80 %, win rate 20 %), process 30 × (growth, rating) 50/50:
    # 120 × 0.56 + 100 × 0.14 + 100 × 0.15 + 80 × 0.15 = 67.2 + 14 + 15 + 12 = 108.2 (105.4 on rep)
    assert cards["R1"]["template"] == "rep_east" and cards["R1"]["total"] == pytest.approx(108.2, abs=1e-9)
    assert items(cards["R1"])["attainment"]["weight"] == pytest.approx(56)
    # R2: growth and rating left out, so results carry everything: 60 × 0.8 + 60 × 0.2 = 60
    assert cards["R2"]["template"] == "rep_east" and cards["R2"]["total"] == pytest.approx(60)
    assert items(cards["R2"])["attainment"]["weight"] == pytest.approx(80)
    # the West stays on rep
    assert (cards["R3"]["template"], cards["R3"]["total"]) == ("rep", pytest.approx(13.5))
    assert (cards["R4"]["template"], cards["R4"]["total"]) == ("rep", pytest.approx(103.9))

    # edited again after publishing: a draft once more
    rep_east = draft(session)["rep_east"]
    rep_east["grades"][0]["label"]["en"] = "Star"
    assert save(east, "rep_east", rep_east).status_code == 302
    session.rollback()
    assert session.scalar(sa.select(TemplateSubmission.state).where(TemplateSubmission.slug == "rep_east")) == "draft"


def test_hr_returns_a_submission_with_a_comment(app, session):
    east = signed_in(app, "lead_east")
    clone(east, "rep", "rep_east", departments=["EAST"])
    assert east.post("/designer/templates/rep_east/submit", data={"csrf_token": east.csrf}).status_code == 302
    hr = signed_in(app, "hr")
    assert (
        hr.post("/designer/templates/rep_east/return", data={"csrf_token": hr.csrf, "comment": " "}).status_code == 302
    )
    session.rollback()
    assert (
        session.scalar(sa.select(TemplateSubmission.state).where(TemplateSubmission.slug == "rep_east")) == "submitted"
    )
    response = hr.post(
        "/designer/templates/rep_east/return", data={"csrf_token": hr.csrf, "comment": "keep win rate at 40"}
    )
    assert response.status_code == 302
    session.rollback()
    row = session.scalar(sa.select(TemplateSubmission).where(TemplateSubmission.slug == "rep_east"))
    assert (row.state, row.decided_by, row.comment) == ("returned", "hr", "keep win rate at 40")
    entry = audit(session, "template.return")[-1]
    assert entry.before["state"] == "submitted" and entry.after["comment"] == "keep win rate at 40"
    page = east.get("/designer/templates/rep_east").get_data(as_text=True)
    assert 'id="returned"' in page and "keep win rate at 40" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfigVersion)) == 1  # nothing published
    assert east.post("/designer/templates/rep_east/submit", data={"csrf_token": east.csrf}).status_code == 302
    session.rollback()
    assert (
        session.scalar(sa.select(TemplateSubmission.state).where(TemplateSubmission.slug == "rep_east")) == "submitted"
    )


def test_publishing_an_unchanged_draft_is_refused(app, session):
    hr = signed_in(app, "hr")
    review = hr.get("/designer/templates/rep/review").get_data(as_text=True)
    assert "there is nothing to publish" in review
    response = hr.post("/designer/templates/rep/publish", data={"csrf_token": csrf(review)})
    assert response.status_code == 302
    assert "nothing to publish: these templates and what they use are as published" in html.unescape(
        hr.get(response.headers["Location"]).get_data(as_text=True)
    )
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfigVersion)) == 1


def test_publishing_one_template_never_publishes_anyone_elses_unsubmitted_edit(app, session):
    """A manager's edit that nobody approved stays in the draft when HR publishes another template."""
    east = signed_in(app, "lead_east")
    assert clone(east, "lead", "lead_east", departments=["EAST"]).status_code == 302
    lenient = copy.deepcopy(draft(session)["lead_east"])
    lenient["grades"] = [{"grade": "S", "min": 0, "label": {"zh": "卓越", "en": "Outstanding"}}]
    assert save(east, "lead_east", lenient).status_code == 302  # never submitted

    hr = signed_in(app, "hr")
    rep = copy.deepcopy(draft(session)["rep"])
    rep["label"]["en"] = "Rep (2027)"
    assert save(hr, "rep", rep).status_code == 302
    review = html.unescape(hr.get("/designer/templates/rep/review").get_data(as_text=True))
    assert "Other changes in the draft are not part of this and stay in the draft" in review
    assert "templates.lead_east" in review
    assert hr.post("/designer/templates/rep/publish", data={"csrf_token": csrf(review)}).status_code == 302
    session.rollback()
    version = session.scalar(sa.select(ConfigVersion).order_by(ConfigVersion.number.desc()).limit(1))
    assert version.snapshot["templates"]["rep"]["label"]["en"] == "Rep (2027)"
    assert "lead_east" not in version.snapshot["templates"]  # still only in the draft
    assert "lead_east" in draft(session)


def test_a_template_changed_after_it_was_submitted_must_be_submitted_again(app, session):
    east = signed_in(app, "lead_east")
    clone(east, "rep", "rep_east", departments=["EAST"])
    assert east.post("/designer/templates/rep_east/submit", data={"csrf_token": east.csrf}).status_code == 302
    changed = copy.deepcopy(draft(session)["rep_east"])
    changed["grades"][0]["label"]["en"] = "Star"
    assert save(east, "rep_east", changed).status_code == 302
    session.rollback()
    assert session.scalar(sa.select(TemplateSubmission.state).where(TemplateSubmission.slug == "rep_east")) == "draft"
    # and if the state were still "submitted", publishing would refuse a template that is not the one submitted
    with session.bind.begin() as connection:
        connection.execute(
            sa.update(TemplateSubmission).where(TemplateSubmission.slug == "rep_east").values(state="submitted")
        )
    hr = signed_in(app, "hr")
    review = hr.get("/designer/templates/rep_east/review").get_data(as_text=True)
    refused = hr.post("/designer/templates/rep_east/publish", data={"csrf_token": csrf(review)}, follow_redirects=True)
    assert "changed after it was submitted" in refused.get_data(as_text=True)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfigVersion)) == 1
