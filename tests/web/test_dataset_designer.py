"""The dataset designer: a dataset's fields edited as rows (choice options nested), saved through
the configuration store — a new field is usable in metric filters and imports at once; problems
at their paths and nothing saved while one remains; a field a metric uses cannot be removed; only
HR and administrators; CSRF on every write. On the hand-checked scenario (its dataset `deals`)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import markupsafe
import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.config.models import ConfigEntry
from perfrules.data.models import Record
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
USERS = {"admin": ("admin", None), "hr": ("hr", None), "lead_east": ("manager", "L1"), "rep1": ("employee", "R1")}
CHANNEL = {
    "name": "channel",
    "label": {"zh": "渠道", "en": "Channel"},
    "type": "choice",
    "required": False,
    "unique": False,
    "options": [
        {"value": "online", "label": {"zh": "线上", "en": "Online"}},
        {"value": "offline", "label": {"zh": "线下", "en": "Offline"}},
    ],
}


def _create_users(folder: Path) -> None:
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_create_users, parent="company")
def dataset_designer_users(company):
    """The scenario company with USERS, each with PASSWORD; the test's folder."""
    return company


@pytest.fixture
def app(dataset_designer_users, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def signed_in(app, login: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the texts below are the English ones
    assert sign_in(client, login, PASSWORD).status_code == 302, f"{login} could not sign in"
    return client


def draft(session, kind: str = "datasets") -> dict:
    session.rollback()
    return dict(
        session.execute(sa.select(ConfigEntry.slug, ConfigEntry.document).where(ConfigEntry.kind == kind)).all()
    )


def form_data(dataset: dict, token: str) -> dict:
    """The editor's fields for a dataset document, as the page posts them."""
    data = {
        "csrf_token": token,
        "label_zh": dataset["label"]["zh"],
        "label_en": dataset["label"]["en"],
        "description": dataset.get("description", ""),
        "owner_field": dataset["owner_field"],
        "date_field": dataset["date_field"],
    }
    for f, field in enumerate(dataset["fields"]):
        at = f"f-{f}-"
        data.update(
            {
                at + "name": field["name"],
                at + "label_zh": field["label"]["zh"],
                at + "label_en": field["label"]["en"],
                at + "type": field["type"],
            }
        )
        for key in ("required", "unique"):
            if field.get(key):
                data[at + key] = "on"
        for k, option in enumerate(field.get("options") or []):
            data.update(
                {
                    f"{at}op-{k}-value": option["value"],
                    f"{at}op-{k}-label_zh": option["label"]["zh"],
                    f"{at}op-{k}-label_en": option["label"]["en"],
                }
            )
    return data


def save(client, dataset: dict, slug: str = "deals"):
    page = client.get(f"/designer/datasets/{slug}")
    assert page.status_code == 200
    return client.post(f"/designer/datasets/{slug}", data=form_data(dataset, csrf_token(page.get_data(as_text=True))))


def problems(response) -> list[str]:
    """The problems the page lists, as 'path: message'."""
    text = response.get_data(as_text=True)
    return [
        html.unescape(f"{path}: {message}")
        for path, message in re.findall(r'<li><code>([^<]*)</code>: <span class="problem-message">([^<]*)</span>', text)
    ]


def with_field(dataset: dict, field: dict) -> dict:
    return {**dataset, "fields": [*dataset["fields"], field]}


# --- the pages ----------------------------------------------------------------------------------


def test_the_list_and_the_editor_show_the_drafts_datasets(app):
    hr = signed_in(app, "hr")
    page = hr.get("/designer/datasets").get_data(as_text=True)
    assert '<tr data-slug="deals">' in page and 'href="/designer/datasets/deals"' in page
    row = re.search(r'<tr data-slug="deals">.*?</tr>', page, re.S).group(0)
    assert "<code>owner</code>" in row and "<code>closed_on</code>" in row and '<td class="num">5</td>' in row
    assert "Unchanged" in row
    assert 'href="/designer/templates"' in page and 'href="/designer/datasets/new"' in page

    templates = hr.get("/designer/templates").get_data(as_text=True)
    assert 'href="/designer/datasets"' in templates and 'href="/designer/kpis"' in templates

    console = hr.get("/admin/config/datasets/").get_data(as_text=True)
    assert 'href="/designer/datasets/deals"' in console

    editor = hr.get("/designer/datasets/deals").get_data(as_text=True)
    for name in ("owner", "closed_on", "customer", "amount", "status"):
        assert f'value="{name}"' in editor
    assert 'name="f-4-op-1-value"' in editor and 'value="lost"' in editor  # status's options as nested rows
    assert re.search(r'<select[^>]*id="owner_field"[^>]*>.*?<option value="owner" selected>', editor, re.S)
    assert "Used by sales, team_sales" in editor  # amount
    assert '<meta name="csrf-token"' in editor and "dataset-designer.js" in editor
    for tag in re.findall(r"<script[^>]*>", editor):
        assert "nonce=" in tag, tag
    assert not re.search(r"\son[a-z]+=", editor)  # no inline handlers (the CSP would block them)
    assert hr.get("/designer/datasets/nothing").status_code == 404
    assert signed_in(app, "admin").get("/designer/datasets/deals").status_code == 200


def test_a_new_choice_field_is_usable_in_filters_and_imports_at_once(app, session, tmp_path):
    hr = signed_in(app, "hr")
    before = draft(session)["deals"]
    response = save(hr, with_field(before, CHANNEL))
    assert response.status_code == 302, problems(response)
    assert response.headers["Location"].endswith("/designer/datasets/deals")
    assert "Saved into the draft." in hr.get("/designer/datasets/deals").get_data(as_text=True)
    stored = draft(session)["deals"]
    assert stored["fields"][:5] == before["fields"]
    assert stored["fields"][5] == CHANNEL
    session.rollback()
    entry = session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "config.save", AuditEntry.kind == "datasets", AuditEntry.key == "deals")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.actor == "hr" and entry.after == stored
    listing = hr.get("/designer/datasets").get_data(as_text=True)
    assert re.search(r'<tr data-slug="deals">.*?badge-info">Changed<', listing, re.S)

    metric = write(
        tmp_path,
        "online.yaml",
        """
        metrics:
          - {slug: online_deals, label: {zh: 线上成交, en: Online deals}, dataset: deals, aggregate: count, filter: "channel == 'online'"}
        """,
    )
    loaded = run_cli("config", "load", metric)
    assert loaded.exit_code == 0, loaded.output
    csv = write(
        tmp_path,
        "channels.csv",
        """
        external_id,owner,closed_on,customer,amount,status,channel
        C1,R1,2026-10-08,A,100,won,online
        C2,R1,2026-10-09,B,200,lost,线下
        """,
    )
    imported = run_cli("data", "import", "deals", csv)
    assert imported.exit_code == 0, imported.output
    session.rollback()
    values = dict(
        session.execute(sa.select(Record.external_id, Record.values).where(Record.external_id.in_(["C1", "C2"]))).all()
    )
    assert values["C1"]["channel"] == "online" and values["C2"]["channel"] == "offline"

    # and the editor shows the field again, with its options
    editor = hr.get("/designer/datasets/deals").get_data(as_text=True)
    assert 'name="f-5-op-1-value" data-field="value" value="offline"' in editor
    assert "Used by online_deals" in editor


@pytest.mark.parametrize("case", ["duplicate", "choice_without_options", "owner_not_employee"])
def test_bad_input_shows_problems_at_their_paths_and_saves_nothing(app, session, case):
    hr = signed_in(app, "hr")
    before = draft(session)
    deals = before["deals"]
    if case == "duplicate":
        edited = with_field(deals, {**CHANNEL, "name": "customer"})
        expected, at = "fields[5].name: 'customer' is defined twice", 'name="f-5-name"'
    elif case == "choice_without_options":
        edited = with_field(deals, {**CHANNEL, "options": []})
        expected, at = "fields[5].options: a choice field needs options", 'name="f-5-name"'
    else:
        edited = {**deals, "owner_field": "customer"}
        expected, at = "owner_field: must name a field of type employee", 'id="owner_field"'
    response = save(hr, edited)
    assert response.status_code == 422
    assert expected in problems(response)
    text = response.get_data(as_text=True)
    assert "nothing was saved" in text
    # the message is shown next to its field, too: the first one after it
    message = str(markupsafe.escape(expected.split(": ", 1)[1]))
    after_field = text[text.index(at) :]
    assert re.search(r'field-error">([^<]*)<', after_field).group(1) == message
    assert draft(session) == before


def test_removing_a_field_a_metric_uses_is_refused_naming_the_metric(app, session):
    hr = signed_in(app, "hr")
    before = draft(session)
    deals = before["deals"]
    without_amount = {**deals, "fields": [f for f in deals["fields"] if f["name"] != "amount"]}
    response = save(hr, without_amount)
    assert response.status_code == 422
    found = problems(response)
    assert any(
        p.startswith("fields: The field amount cannot be removed: metric sales, team_sales uses it") for p in found
    ), found
    assert "metrics.sales.field: dataset 'deals' has no field 'amount'" in found
    assert "metrics.team_sales.field: dataset 'deals' has no field 'amount'" in found
    assert draft(session) == before

    # renaming a field a filter uses is a removal too
    renamed = {**deals, "fields": [{**f, "name": "state"} if f["name"] == "status" else f for f in deals["fields"]]}
    response = save(hr, renamed)
    assert response.status_code == 422
    assert any(
        p.startswith("fields: The field status cannot be removed: metric deals_lost, deals_won, sales, team_sales")
        for p in problems(response)
    ), problems(response)
    assert draft(session) == before

    # a field no metric uses may go
    without_customer = {**deals, "fields": [f for f in deals["fields"] if f["name"] != "customer"]}
    assert save(hr, without_customer).status_code == 302
    assert [f["name"] for f in draft(session)["deals"]["fields"]] == ["owner", "closed_on", "amount", "status"]


def test_a_new_dataset_is_created_in_the_draft(app, session):
    admin = signed_in(app, "admin")
    page = admin.get("/designer/datasets/new")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    visits = {
        "label": {"zh": "拜访", "en": "Visits"},
        "owner_field": "owner",
        "date_field": "visited_on",
        "fields": [
            {"name": "owner", "label": {"zh": "负责人", "en": "Owner"}, "type": "employee", "required": True},
            {"name": "visited_on", "label": {"zh": "日期", "en": "Date"}, "type": "datetime"},
            {"name": "minutes", "label": {"zh": "时长", "en": "Minutes"}, "type": "integer"},
        ],
    }
    taken = admin.post("/designer/datasets/new", data={**form_data(visits, token), "slug": "deals"})
    assert taken.status_code == 422 and "slug: A dataset with this code exists already." in problems(taken)
    bad_slug = admin.post("/designer/datasets/new", data={**form_data(visits, token), "slug": "Visits!"})
    assert bad_slug.status_code == 422 and any(p.startswith("slug: must be lowercase") for p in problems(bad_slug))
    assert set(draft(session)) == {"deals"}
    created = admin.post("/designer/datasets/new", data={**form_data(visits, token), "slug": "visits"})
    assert created.status_code == 302 and created.headers["Location"].endswith("/designer/datasets/visits")
    stored = draft(session)["visits"]
    assert [f["name"] for f in stored["fields"]] == ["owner", "visited_on", "minutes"]
    assert stored["date_field"] == "visited_on"
    listing = admin.get("/designer/datasets").get_data(as_text=True)
    assert re.search(r'<tr data-slug="visits">.*?badge-info">New<', listing, re.S)


def test_only_hr_and_administrators_may_design_datasets(app, session):
    before = draft(session)
    for login in ("lead_east", "rep1"):
        client = signed_in(app, login)
        token = csrf_token(client.get("/").get_data(as_text=True))
        for url in ("/designer/datasets", "/designer/datasets/deals", "/designer/datasets/new"):
            assert client.get(url).status_code == 403, (login, url)
        data = form_data(with_field(before["deals"], CHANNEL), token)
        assert client.post("/designer/datasets/deals", data=data).status_code == 403
        assert client.post("/designer/datasets/new", data={**data, "slug": "mine"}).status_code == 403
        assert 'href="/designer/datasets"' not in client.get("/designer/templates").get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get("/designer/datasets").status_code == 302
    assert anonymous.get("/designer/datasets/deals").status_code == 302
    assert draft(session) == before


def test_saving_needs_the_csrf_token(app, session):
    hr = signed_in(app, "hr")
    before = draft(session)
    edited = with_field(before["deals"], CHANNEL)
    assert hr.post("/designer/datasets/deals", data=form_data(edited, "forged")).status_code == 400
    data = form_data(edited, "")
    del data["csrf_token"]
    assert hr.post("/designer/datasets/deals", data=data).status_code == 400
    assert hr.post("/designer/datasets/new", data={**data, "slug": "x"}).status_code == 400
    assert draft(session) == before
