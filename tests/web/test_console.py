"""The administration console (/admin/): the organisation, configuration documents, schedules,
versions, runs and the audit log, each change through the services the CLI uses; and who may do
what, checked on every URL the console registers (generated from the app's URL map).

The company is the scenario's (tests/engine/scenario.py): HQ > SALES > EAST (L1, R1, R2) and
WEST (R3, R4); R1 and R2 report to L1, R4 to R3; version 1 published; deals for 2026-09/10/11.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from markupsafe import escape

from perfrules.audit import AuditEntry
from perfrules.config.models import ConfigEntry, ConfigVersion
from perfrules.data.models import Record
from perfrules.engine.models import EvaluationRun
from perfrules.org.models import Department, Employee, Role, User
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write

pytestmark = pytest.mark.database

PASSWORD = "s3cret-pass"
#: login: (role, employee)
USERS = {
    "admin": ("admin", None),
    "hr": ("hr", None),
    "audit": ("auditor", None),
    "boss": ("manager", "L1"),
    "rep": ("employee", "R1"),
}
#: who may read and who may change, per view: stated here, not read from the code under test
READERS = {"admin", "hr", "audit"}
WRITERS = {"admin", "hr"}
VIEW_WRITERS = {"org_users": {"admin"}, "audit": set()}
#: console endpoints (after the blueprint) that change something or show the form that would
WRITE_ENDPOINTS = {
    "create_view",
    "edit_view",
    "delete_view",
    "action_view",
    "ajax_update",
    "new",
    "edit",
    "clone",
    "delete",
    "enable",
    "disable",
    "run_now",
    "publish_draft",
    "rollback",
    "start",
}


def _create_users(folder: Path) -> None:
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_create_users, parent="company")
def console_users(company):
    """The scenario company with USERS, each with PASSWORD; the test's folder."""
    return company


@pytest.fixture
def app(console_users, cli_env, tmp_path):
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    yield app
    app.extensions["perfrules.run_executor"].shutdown(wait=True)


def signed_in(app, login: str, password: str = PASSWORD):
    """A client signed in through the real form, reading English."""
    client = app.test_client()
    assert sign_in(client, login, password).status_code == 302
    client.csrf = csrf_token(client.get("/").get_data(as_text=True))  # signing in starts a new session
    assert post(client, "/language", {"language": "en", "next": "/"}).status_code == 302
    return client


def token(client) -> str:
    """The CSRF token of the client's session (the sign-in page's, for anonymous visitors)."""
    if getattr(client, "csrf", None) is None:
        client.csrf = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.csrf


def post(client, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": token(client)}, **kwargs)


def page(response) -> str:
    return response.get_data(as_text=True)


def audit(session, **where) -> list[AuditEntry]:
    session.rollback()
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return list(session.scalars(query))


def draft(session, kind: str, slug: str) -> dict | None:
    session.rollback()
    return session.scalar(sa.select(ConfigEntry.document).where(ConfigEntry.kind == kind, ConfigEntry.slug == slug))


def wait_for_run(session, run_id: int, seconds: float = 60) -> EvaluationRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.rollback()
        run = session.get(EvaluationRun, run_id)
        if run is not None and run.status != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {seconds} s")


# --- the organisation ----------------------------------------------------------------------------


def test_departments_are_a_tree_and_loops_are_refused(app, session):
    admin = signed_in(app, "admin")
    imported = len(audit(session, kind="departments"))  # the organisation's import wrote its own
    created = post(
        admin,
        "/admin/departments/new/",
        {"code": "NORTH", "label_zh": "华北", "label_en": "North", "parent": "SALES", "head": "L1"},
    )
    assert created.status_code == 302, page(created)
    listing = page(admin.get("/admin/departments/"))
    codes = re.findall(r'data-depth="(\d)">(?:&nbsp;|└|\s)*([A-Z]+)</span>', listing)
    assert codes == [("0", "HQ"), ("1", "SALES"), ("2", "EAST"), ("2", "NORTH"), ("2", "WEST")]
    [row] = audit(session, kind="departments", key="NORTH")
    assert (row.action, row.actor, row.before) == ("org.save", "admin", None)
    assert row.after == {"code": "NORTH", "label": {"zh": "华北", "en": "North"}, "parent": "SALES", "head": "L1"}

    sales = session.scalar(sa.select(Department).where(Department.code == "SALES"))
    looped = post(
        admin,
        f"/admin/departments/edit/?id={sales.id}",
        {"label_zh": "销售中心", "label_en": "Sales", "parent": "NORTH"},
    )
    assert looped.status_code == 200
    text = page(looped)
    assert "departments form a loop: NORTH → SALES → NORTH" in text or "SALES → NORTH → SALES" in text
    assert re.search(r'id="parent".*?invalid-feedback.*?departments form a loop', text, re.S)  # next to its field
    session.rollback()
    assert session.get(Department, sales.id).parent.code == "HQ"
    assert len(audit(session, kind="departments")) == imported + 1

    renamed = post(
        admin,
        f"/admin/departments/edit/?id={sales.id}",
        {"label_zh": "销售中心", "label_en": "Sales division", "parent": "HQ"},
    )
    assert renamed.status_code == 302
    change = audit(session, kind="departments", key="SALES")[-1]
    assert change.before == {"code": "SALES", "label": {"zh": "销售中心", "en": "Sales"}, "parent": "HQ", "head": None}
    assert change.after == {
        "code": "SALES",
        "label": {"zh": "销售中心", "en": "Sales division"},
        "parent": "HQ",
        "head": None,
    }

    east = session.scalar(sa.select(Department.id).where(Department.code == "EAST"))
    refused = post(
        admin, "/admin/departments/delete/", {"id": east, "url": "/admin/departments/"}, follow_redirects=True
    )
    assert "3 employee(s) belong to department &#39;EAST&#39;" in page(refused)
    north = session.scalar(sa.select(Department.id).where(Department.code == "NORTH"))
    assert post(admin, "/admin/departments/delete/", {"id": north, "url": "/admin/departments/"}).status_code == 302
    session.rollback()
    assert session.get(Department, north) is None and session.get(Department, east) is not None
    removed = audit(session, kind="departments", key="NORTH")[-1]
    assert removed.action == "org.remove" and removed.after is None
    assert (removed.before["parent"], removed.before["head"]) == ("SALES", "L1")


def test_a_department_head_is_chosen_by_searching_changed_cleared_and_audited(app, session):
    hr = signed_in(app, "hr")
    west = session.scalar(sa.select(Department.id).where(Department.code == "WEST"))
    edit = f"/admin/departments/edit/?id={west}"
    fields = {"label_zh": "华西", "label_en": "West", "parent": "SALES"}
    head = re.search(r'<input[^>]*id="head"[^>]*>', page(hr.get(edit))).group(0)
    assert 'data-role="select2-ajax"' in head and "/admin/departments/ajax/lookup/?name=head" in html.unescape(head)
    found = hr.get("/admin/departments/ajax/lookup/", query_string={"name": "head", "query": "r3"})
    assert found.get_json() == [["R3", "R3 · 销售三"]]

    imported = len(audit(session, kind="departments", key="WEST"))
    refused = post(hr, edit, {**fields, "head": "NOBODY"})
    assert re.search(r'id="head".*?invalid-feedback.*?unknown employee &#39;NOBODY&#39;', page(refused), re.S)
    with session.bind.begin() as connection:  # R4 leaves
        connection.execute(sa.update(Employee).where(Employee.code == "R4").values(active=False))
    left = post(hr, edit, {**fields, "head": "R4"})
    assert re.search(r"id=\"head\".*?invalid-feedback.*?&#39;R4&#39; has left \(inactive\)", page(left), re.S)
    assert len(audit(session, kind="departments", key="WEST")) == imported

    assert post(hr, edit, {**fields, "head": "R3"}).status_code == 302
    assert re.search(r"<td[^>]*>\s*R3 · 销售三\s*</td>", page(hr.get("/admin/departments/")))
    assert 'value="R3"' in re.search(r'<input[^>]*id="head"[^>]*>', page(hr.get(edit))).group(0)
    named = audit(session, kind="departments", key="WEST")[-1]
    assert (named.before["head"], named.after["head"], named.actor) == (None, "R3", "hr")

    r3 = session.scalar(sa.select(Employee.id).where(Employee.code == "R3"))
    kept = post(hr, "/admin/employees/delete/", {"id": r3, "url": "/admin/employees/"}, follow_redirects=True)
    assert "&#39;R3&#39; heads department(s) WEST: give them another head first" in page(kept)

    assert post(hr, edit, {**fields, "head": ""}).status_code == 302
    session.rollback()
    assert session.get(Department, west).head is None
    cleared = audit(session, kind="departments", key="WEST")[-1]
    assert (cleared.before["head"], cleared.after["head"]) == ("R3", None)


def test_employees_keep_their_manager_chain_free_of_loops(app, session):
    hr = signed_in(app, "hr")
    assert (
        post(hr, "/admin/roles/new/", {"code": "analyst", "label_zh": "分析师", "label_en": "Analyst"}).status_code
        == 302
    )
    created = post(
        hr,
        "/admin/employees/new/",
        {
            "code": "A1",
            "name": "分析一",
            "department": "WEST",
            "role": "analyst",
            "manager": "R3",
            "hire_date": "2025-03-01",
            "active": "y",
            "attributes": '{"level": "P4", "quota_weight": 2}',
        },
    )
    assert created.status_code == 302, page(created)
    session.rollback()
    a1 = session.scalar(sa.select(Employee).where(Employee.code == "A1"))
    assert (a1.manager.code, a1.role.code, a1.attributes) == ("R3", "analyst", {"level": "P4", "quota_weight": 2})
    [row] = audit(session, kind="employees", key="A1")
    assert (
        row.actor == "hr"
        and row.before is None
        and row.after["manager"] == "R3"
        and row.after["hire_date"] == "2025-03-01"
    )

    l1 = session.scalar(sa.select(Employee).where(Employee.code == "L1"))
    imported = len(audit(session, kind="employees", key="L1"))
    looped = post(
        hr,
        f"/admin/employees/edit/?id={l1.id}",
        {"name": l1.name, "department": "EAST", "role": "lead", "manager": "R1", "active": "y", "attributes": "{}"},
    )
    assert looped.status_code == 200
    assert re.search(
        r'id="manager".*?invalid-feedback.*?managers form a loop: (L1 → R1 → L1|R1 → L1 → R1)', page(looped), re.S
    )
    bad_json = post(
        hr,
        f"/admin/employees/edit/?id={l1.id}",
        {
            "name": l1.name,
            "department": "EAST",
            "role": "lead",
            "manager": "",
            "active": "y",
            "attributes": "{level: 1",
        },
    )
    assert "not valid JSON" in page(bad_json)
    session.rollback()
    assert session.get(Employee, l1.id).manager_id is None
    assert len(audit(session, kind="employees", key="L1")) == imported

    moved = post(
        hr,
        f"/admin/employees/edit/?id={a1.id}",
        {
            "name": "分析一",
            "department": "EAST",
            "role": "analyst",
            "manager": "L1",
            "active": "y",
            "attributes": '{"level": "P5"}',
        },
    )
    assert moved.status_code == 302
    change = audit(session, kind="employees", key="A1")[-1]
    assert change.before["department"] == "WEST" and change.after["department"] == "EAST"
    assert change.before["attributes"] == {"level": "P4", "quota_weight": 2} and change.after["attributes"] == {
        "level": "P5"
    }

    r1 = session.scalar(sa.select(Employee.id).where(Employee.code == "R1"))
    refused = post(hr, "/admin/employees/delete/", {"id": r1, "url": "/admin/employees/"}, follow_redirects=True)
    assert "set them inactive instead" in page(refused)
    analyst = session.scalar(sa.select(Role.id).where(Role.code == "analyst"))
    in_use = post(hr, "/admin/roles/delete/", {"id": analyst, "url": "/admin/roles/"}, follow_redirects=True)
    assert "1 employee(s) hold role &#39;analyst&#39;" in page(in_use)


def test_managers_departments_and_employees_are_found_by_searching(app, session):
    """No form lists every employee or department: the choice is a search (Flask-Admin's ajax
    lookup), answered by code or name, posted as the code."""
    hr = signed_in(app, "hr")
    r4 = session.scalar(sa.select(Employee.id).where(Employee.code == "R4"))
    form = page(hr.get(f"/admin/employees/edit/?id={r4}"))
    assert "<option" not in re.search(r'<select[^>]*id="role".*?</select>(.*)', form, re.S).group(1)
    manager = re.search(r'<input[^>]*id="manager"[^>]*>', form).group(0)
    assert 'data-role="select2-ajax"' in manager and 'value="R3"' in manager
    assert json.loads(html.unescape(re.search(r'data-json="([^"]+)"', manager).group(1))) == ["R3", "R3 · 销售三"]
    url = html.unescape(re.search(r'data-url="([^"]+)"', manager).group(1))
    assert url == "/admin/employees/ajax/lookup/?name=manager"

    def lookup(client, view, name, query):
        response = client.get(f"/admin/{view}/ajax/lookup/", query_string={"name": name, "query": query})
        return response.status_code, response.get_json(silent=True)

    assert lookup(hr, "employees", "manager", "销售") == (
        200,
        [["R1", "R1 · 销售一"], ["R2", "R2 · 销售二"], ["R3", "R3 · 销售三"], ["R4", "R4 · 销售四"]],
    )
    assert lookup(hr, "employees", "manager", "l1") == (200, [["L1", "L1 · 主管一"]])
    assert lookup(hr, "employees", "manager", "%") == (200, [])  # a wildcard is a character like any other
    assert lookup(hr, "employees", "department", "west") == (200, [["WEST", "WEST · West"]])
    assert lookup(hr, "departments", "parent", "华东") == (200, [["EAST", "EAST · East"]])
    assert lookup(hr, "users", "employee", "R2") == (200, [["R2", "R2 · 销售二"]])
    assert lookup(signed_in(app, "audit"), "employees", "manager", "R1")[0] == 200
    assert lookup(signed_in(app, "boss"), "employees", "manager", "R1")[0] == 403
    assert lookup(app.test_client(), "employees", "manager", "R1")[0] == 302  # to the sign-in page

    # a code nobody has is refused by the service, next to the field, and nothing changes
    refused = post(
        hr,
        f"/admin/employees/edit/?id={r4}",
        {"name": "销售四", "department": "WEST", "role": "rep", "manager": "NOBODY", "active": "y", "attributes": "{}"},
    )
    assert re.search(r'id="manager".*?invalid-feedback.*?NOBODY', page(refused), re.S)
    session.rollback()
    assert session.get(Employee, r4).manager.code == "R3"


def test_users_roles_passwords_and_nobody_demotes_themselves(app, session):
    admin = signed_in(app, "admin")
    created = post(
        admin,
        "/admin/users/new/",
        {"login": "newbie", "roles": ["hr", "auditor"], "employee": "R2", "active": "y", "password": "brand-new-pass"},
    )
    assert created.status_code == 302, page(created)
    newbie = signed_in(app, "newbie", "brand-new-pass")
    assert newbie.get("/admin/departments/").status_code == 200
    session.rollback()
    user = session.scalar(sa.select(User).where(User.login == "newbie"))
    assert user.roles == ["auditor", "hr"] and user.employee.code == "R2"
    assert "brand-new-pass" not in user.password_hash
    [row] = audit(session, kind="users", key="newbie", action="user.create")
    assert row.actor == "admin" and "password" not in json.dumps(row.after)

    for url in ("/admin/users/", f"/admin/users/details/?id={user.id}", f"/admin/users/edit/?id={user.id}"):
        text = page(admin.get(url))
        assert user.password_hash not in text and user.password_hash.split("$")[-1] not in text, url
        assert "password_hash" not in text

    changed = post(
        admin,
        f"/admin/users/edit/?id={user.id}",
        {"roles": ["hr"], "employee": "R2", "active": "y", "password": "another-pass-1"},
    )
    assert changed.status_code == 302
    assert newbie.get("/admin/departments/").status_code == 302  # the new password ended the old session
    assert sign_in(app.test_client(), "newbie", "another-pass-1").status_code == 302
    change = audit(session, kind="users", key="newbie", action="user.save")[-1]
    assert change.before["roles"] == ["auditor", "hr"] and change.after == {
        "login": "newbie",
        "roles": ["hr"],
        "employee": "R2",
        "active": True,
        "password": "changed",
    }
    short = post(admin, f"/admin/users/edit/?id={user.id}", {"roles": ["hr"], "active": "y", "password": "short"})
    assert re.search(r'id="password".*?invalid-feedback.*?a password needs at least 8 characters', page(short), re.S)

    me = session.scalar(sa.select(User.id).where(User.login == "admin"))
    demoted = post(admin, f"/admin/users/edit/?id={me}", {"roles": ["hr"], "active": "y", "password": ""})
    assert re.search(r'id="roles".*?invalid-feedback.*?you cannot remove your own admin role', page(demoted), re.S)
    session.rollback()
    assert session.get(User, me).roles == ["admin"]
    gone = post(admin, "/admin/users/delete/", {"id": me, "url": "/admin/users/"}, follow_redirects=True)
    assert "you cannot delete yourself" in page(gone)

    hr = signed_in(app, "hr")
    assert hr.get("/admin/users/").status_code == 200
    assert (
        post(hr, "/admin/users/new/", {"login": "sneaky", "roles": ["admin"], "password": "whatever-1"}).status_code
        == 403
    )
    assert post(hr, f"/admin/users/edit/?id={me}", {"roles": ["admin"], "active": "y"}).status_code == 403
    session.rollback()
    assert session.scalar(sa.select(User.id).where(User.login == "sneaky")) is None


# --- configuration documents ---------------------------------------------------------------------


def edited(client, kind: str, slug: str, change) -> str:
    """The editor's YAML for a document, changed by `change(document)`."""
    text = page(client.get(f"/admin/config/{kind}/edit/{slug}"))
    original = re.search(r'<textarea[^>]*name="document"[^>]*>(.*?)</textarea>', text, re.S).group(1)
    document = yaml.safe_load(html.unescape(original))
    change(document)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def test_a_document_is_edited_as_yaml_and_problems_come_back_with_their_paths(app, session):
    hr = signed_in(app, "hr")
    listing = page(hr.get("/admin/config/kpis/"))
    assert 'data-slug="attainment"' in listing and "Attainment" in listing and 'data-state="published"' in listing

    def typo(document):
        document["formula"] = "salse / target.sales"
        document["scoring"]["value_to"] = "lots"

    before = len(audit(session))
    refused = post(hr, "/admin/config/kpis/edit/attainment", {"document": edited(hr, "kpis", "attainment", typo)})
    assert refused.status_code == 422
    text = page(refused)
    assert (
        '<code class="problem-path">kpis.attainment.scoring.value_to</code>' in text and "Not a valid number." in text
    )
    assert "salse" in text  # the edited text comes back as written
    assert draft(session, "kpis", "attainment")["formula"] == "sales / target.sales"
    assert len(audit(session)) == before

    def unknown_name(document):
        document["formula"] = "salse / target.sales"

    refused = post(
        hr, "/admin/config/kpis/edit/attainment", {"document": edited(hr, "kpis", "attainment", unknown_name)}
    )
    text = page(refused)
    assert refused.status_code == 422 and "kpis.attainment.formula" in text
    assert "unknown name &#39;salse&#39; — did you mean &#39;sales&#39;?" in text
    assert re.search(r"line \d+", text)

    broken_yaml = post(hr, "/admin/config/kpis/edit/attainment", {"document": "slug: attainment\nlabel: [unclosed\n"})
    assert broken_yaml.status_code == 422 and "not valid YAML" in page(broken_yaml)
    renamed = post(
        hr,
        "/admin/config/kpis/edit/attainment",
        {"document": edited(hr, "kpis", "attainment", lambda d: d.update(slug="other"))},
    )
    assert renamed.status_code == 422 and "the slug cannot change here" in page(renamed)

    def higher_cap(document):
        document["scoring"]["value_to"] = 1.5

    saved = post(hr, "/admin/config/kpis/edit/attainment", {"document": edited(hr, "kpis", "attainment", higher_cap)})
    assert saved.status_code == 302
    assert draft(session, "kpis", "attainment")["scoring"]["value_to"] == 1.5
    row = audit(session, kind="kpis", key="attainment")[-1]
    assert (row.action, row.actor) == ("config.save", "hr")
    assert row.before["scoring"]["value_to"] == 1.2 and row.after["scoring"]["value_to"] == 1.5
    assert 'data-state="changed"' in page(hr.get("/admin/config/kpis/"))


def test_documents_are_created_cloned_and_deleted_through_validation(app, session):
    admin = signed_in(app, "admin")
    assert "slug: new_metric" in page(admin.get("/admin/config/metrics/new"))
    metric = "slug: big_deals\nlabel: {zh: 大单数, en: Big deals}\ndataset: deals\naggregate: count\nfilter: amount >= 10000\n"
    assert post(admin, "/admin/config/metrics/new", {"document": metric}).status_code == 302
    assert draft(session, "metrics", "big_deals")["filter"] == "amount >= 10000"
    again = post(admin, "/admin/config/metrics/new", {"document": metric})
    assert again.status_code == 422 and "already exists" in page(again)

    cloned = post(
        admin,
        "/admin/config/kpis/clone/attainment",
        {"new_slug": "attainment_copy", "label_zh": "完成率副本", "label_en": "Attainment copy"},
    )
    assert cloned.status_code == 302
    assert draft(session, "kpis", "attainment_copy")["formula"] == "sales / target.sales"
    template = post(admin, "/admin/config/templates/clone/rep", {"new_slug": "rep_east", "departments": ["EAST"]})
    assert template.status_code == 302
    assert draft(session, "templates", "rep_east")["applies_to"] == {"departments": ["EAST"], "roles": ["rep"]}

    before = len(audit(session))
    used = post(admin, "/admin/config/kpis/delete/attainment")
    assert used.status_code == 422
    text = page(used)
    assert "templates.rep.sections[0].items[0].kpi" in text and "unknown KPI &#39;attainment&#39;" in text
    assert draft(session, "kpis", "attainment") is not None and len(audit(session)) == before

    assert post(admin, "/admin/config/kpis/delete/attainment_copy").status_code == 302
    assert draft(session, "kpis", "attainment_copy") is None
    row = audit(session, kind="kpis", key="attainment_copy")[-1]
    assert row.action == "config.remove" and row.before["slug"] == "attainment_copy" and row.after is None
    assert admin.get("/admin/config/kpis/edit/attainment_copy").status_code == 404


def test_a_field_added_to_a_dataset_in_the_console_is_usable_at_once(app, session, tmp_path):
    admin = signed_in(app, "admin")

    def add_channel(document):
        document["fields"].append(
            {
                "name": "channel",
                "label": {"zh": "渠道", "en": "Channel"},
                "type": "choice",
                "options": [
                    {"value": "web", "label": {"zh": "网站", "en": "Web"}},
                    {"value": "phone", "label": {"zh": "电话", "en": "Phone"}},
                ],
            }
        )

    assert (
        post(
            admin, "/admin/config/datasets/edit/deals", {"document": edited(admin, "datasets", "deals", add_channel)}
        ).status_code
        == 302
    )
    metric = "slug: web_sales\nlabel: {zh: 网站销售额, en: Web sales}\ndataset: deals\naggregate: sum\nfield: amount\nfilter: \"channel == 'web'\"\n"
    assert post(admin, "/admin/config/metrics/new", {"document": metric}).status_code == 302  # in a filter at once

    csv = write(
        tmp_path,
        "web_deals.csv",
        """
        external_id,owner,closed_on,customer,amount,status,channel
        W1,R2,2026-10-12,F,4000,won,web
        W2,R2,2026-10-13,F,500,won,电话
    """,
    )
    imported = run_cli("data", "import", "deals", csv)
    assert imported.exit_code == 0, imported.output
    session.rollback()
    values = dict(
        session.execute(sa.select(Record.external_id, Record.values).where(Record.external_id.in_(["W1", "W2"]))).all()
    )
    assert values["W1"]["channel"] == "web" and values["W2"]["channel"] == "phone"
    bad = write(
        tmp_path,
        "bad.csv",
        """
        external_id,owner,closed_on,customer,amount,status,channel
        W3,R2,2026-10-12,F,4000,won,fax
    """,
    )
    assert run_cli("data", "import", "deals", bad).exit_code != 0


# --- schedules -----------------------------------------------------------------------------------

SCHEDULE = """
slug: monthly
label: {zh: 月度评估, en: Monthly evaluation}
templates: [rep, lead]
cycle: monthly
cron: "0 2 3 * *"
timezone: Asia/Shanghai
evaluate: previous
"""


def test_schedules_are_enabled_disabled_and_run_now(app, session):
    hr = signed_in(app, "hr")
    assert post(hr, "/admin/config/schedules/new", {"document": SCHEDULE}).status_code == 302
    listing = page(hr.get("/admin/config/schedules/"))
    assert 'data-enabled="true"' in listing and 'name="run"' in listing
    not_published = post(hr, "/admin/config/schedules/run/monthly", follow_redirects=True)
    assert "is not in the latest published version" in page(not_published)

    assert post(hr, "/admin/config/schedules/disable/monthly").status_code == 302
    assert draft(session, "schedules", "monthly")["enabled"] is False
    assert 'data-enabled="false"' in page(hr.get("/admin/config/schedules/"))
    assert post(hr, "/admin/config/schedules/enable/monthly").status_code == 302
    assert draft(session, "schedules", "monthly")["enabled"] is True
    changes = audit(session, kind="schedules", key="monthly")
    assert [(r.before or {}).get("enabled") for r in changes] == [None, True, False]
    assert [r.after["enabled"] for r in changes] == [True, False, True]

    assert post(hr, "/admin/versions/publish", {"message": "monthly schedule"}).status_code == 302
    started = post(hr, "/admin/config/schedules/run/monthly")
    assert started.status_code == 302
    run_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    run = wait_for_run(session, run_id)
    assert run.status == "succeeded", run.message
    assert run.version_number == 2 and run.scope["templates"] == ["rep", "lead"] and run.scope["schedule"] == "monthly"
    assert run.actor == "console:hr" and run.counts["scorecards"] == 5
    detail = page(hr.get(f"/admin/runs/{run_id}"))
    assert 'data-status="succeeded"' in detail and "monthly" in detail


# --- versions ------------------------------------------------------------------------------------


def test_publish_diff_and_roll_back_round_trip(app, session):
    admin = signed_in(app, "admin")
    session.rollback()
    first = session.scalar(sa.select(ConfigVersion).where(ConfigVersion.number == 1))
    history = page(admin.get("/admin/versions/"))
    assert 'data-number="1"' in history and first.content_hash[:12] in history and "scenario" in history

    def higher_cap(document):
        document["scoring"]["value_to"] = 1.5

    assert (
        post(
            admin, "/admin/config/kpis/edit/attainment", {"document": edited(admin, "kpis", "attainment", higher_cap)}
        ).status_code
        == 302
    )
    preview = page(admin.get("/admin/versions/publish"))
    assert "kpis.attainment" in preview and "scoring.value_to: 1.2 → 1.5" in preview
    no_message = post(admin, "/admin/versions/publish", {"message": "  "})
    assert no_message.status_code == 422 and "a version needs a message" in page(no_message)
    assert post(admin, "/admin/versions/publish", {"message": "cap at 150 %"}).status_code == 302
    again = post(admin, "/admin/versions/publish", {"message": "twice"})
    assert again.status_code == 422 and "nothing to publish" in page(again)

    diff = page(admin.get("/admin/versions/diff?old=1&new=2"))
    assert "version 1 → version 2" in diff and "1 document(s) differ" in diff
    assert re.search(
        r'<td class="code old changed">\s*value_to: 1.2</td>.*?<td class="code new changed">\s*value_to: 1.5</td>',
        diff,
        re.S,
    )
    assert "formula: sales / target.sales" in diff  # unchanged lines shown on both sides
    assert "No differences." in page(admin.get("/admin/versions/diff?old=2&new=draft"))

    no_reason = post(admin, "/admin/versions/rollback/1", {"reason": ""})
    assert no_reason.status_code == 422 and "say why you roll back" in page(no_reason)
    rolled = post(admin, "/admin/versions/rollback/1", {"reason": "150 % was too generous"})
    assert rolled.status_code == 302
    session.rollback()
    versions = {v.number: v for v in session.scalars(sa.select(ConfigVersion))}
    assert sorted(versions) == [1, 2, 3]
    assert versions[3].message == "Roll back to version 1: 150 % was too generous"
    assert versions[3].snapshot == versions[1].snapshot and versions[3].content_hash == versions[1].content_hash
    assert draft(session, "kpis", "attainment")["scoring"]["value_to"] == 1.2
    restore = audit(session, kind="kpis", key="attainment")[-1]
    assert restore.action == "config.save" and restore.before["scoring"]["value_to"] == 1.5
    assert audit(session, action="config.publish")[-1].key == "3"
    assert "No differences." in page(admin.get("/admin/versions/diff?old=1&new=3"))


# --- runs ----------------------------------------------------------------------------------------


def test_a_run_started_in_the_console_completes_and_shows_everything(app, session):
    hr = signed_in(app, "hr")
    form = page(hr.get("/admin/runs/start"))
    assert 'name="period"' in form and '<option value="rep">' in form and '<option value="EAST">' in form
    bad = post(hr, "/admin/runs/start", {"period": "2026-13", "version": "latest"})
    assert bad.status_code == 422 and "invalid-feedback" in page(bad)
    unknown = post(hr, "/admin/runs/start", {"period": "2026-10", "version": "7"})
    assert unknown.status_code == 422 and "there is no version 7" in page(unknown)

    started = post(
        hr, "/admin/runs/start", {"period": "2026-10", "version": "1", "template": "rep", "department": "EAST"}
    )
    assert started.status_code == 302
    run_id = int(started.headers["Location"].rsplit("/", 1)[-1])
    run = wait_for_run(session, run_id)
    assert run.status == "succeeded" and run.scope == {"templates": ["rep"], "department": "EAST"}
    assert run.counts["scorecards"] == 2 and run.actor == "console:hr"

    everyone = post(hr, "/admin/runs/start", {"period": "2026-10", "version": "latest"})
    everything = wait_for_run(session, int(everyone.headers["Location"].rsplit("/", 1)[-1]))
    detail = page(hr.get(f"/admin/runs/{everything.id}"))
    assert 'data-status="succeeded"' in detail and re.search(
        r'<tr data-count="scorecards"><th[^>]*>Scorecards</th><td class="text-right">5</td>', detail
    )
    for error in everything.errors:
        assert str(escape(error["message"])) in detail
    listing = page(hr.get("/admin/runs/"))
    assert f'data-run="{run_id}"' in listing and f'data-run="{everything.id}"' in listing
    row = re.search(rf'<tr data-run="{everything.id}">(.*?)</tr>', listing, re.S).group(1)
    assert "2026-10" in row and ">5<" in row and "console:hr" in row


def test_progress_of_a_running_run_is_shown(app, session):
    admin = signed_in(app, "admin")
    session.rollback()
    run = EvaluationRun(
        period="2026-10",
        status="running",
        scope={"templates": [], "department": None},
        actor="console:admin",
        host="elsewhere",
        pid=1,
        started_at=dt.datetime.now(dt.UTC),
        counts={"progress": {"step": "score", "done": 3, "total": 5}},
        timings={},
        errors=[],
    )
    session.add(run)
    session.commit()
    detail = page(admin.get(f"/admin/runs/{run.id}"))
    assert 'data-done="3" data-total="5"' in detail and "60 %" in detail and 'http-equiv="refresh"' in detail


# --- the audit log -------------------------------------------------------------------------------


def test_audit_details_show_before_and_after_as_escaped_json(app, session):
    admin = signed_in(app, "admin")
    sales = session.scalar(sa.select(Department.id).where(Department.code == "SALES"))
    assert (
        post(
            admin,
            f"/admin/departments/edit/?id={sales}",
            {"label_zh": "<script>alert(1)</script>", "label_en": "Sales", "parent": "HQ"},
        ).status_code
        == 302
    )
    row = audit(session, kind="departments", key="SALES")[-1]
    text = page(admin.get(f"/admin/audit/details/?id={row.id}"))
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert re.search(r'<pre class="audit-json mb-0">\{\n  &#34;code&#34;: &#34;SALES&#34;', text)
    assert admin.get("/admin/audit/new/").status_code == 403


# --- who may do what ------------------------------------------------------------------------------


def console_rules(app):
    """Every URL rule of the console's blueprints (Flask-Admin registers one per view), with the
    view's endpoint; its static files excepted."""
    views = {view.endpoint for admin in app.extensions["admin"] for view in admin._views}
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in views and rule.endpoint != "admin.static"
    ]


def sample_urls(app, session):
    """(endpoint, method, url) for every console rule and method, its arguments filled: real
    records for reading, ones that do not exist for writing (so an allowed write changes nothing)."""
    session.rollback()
    existing = {
        "org_departments": session.scalar(sa.select(Department.id).limit(1)),
        "org_roles": session.scalar(sa.select(Role.id).limit(1)),
        "org_employees": session.scalar(sa.select(Employee.id).limit(1)),
        "org_users": session.scalar(sa.select(User.id).limit(1)),
        "audit": session.scalar(sa.select(AuditEntry.id).limit(1)),
    }
    slugs = dict(
        session.execute(sa.select(ConfigEntry.kind, sa.func.min(ConfigEntry.slug)).group_by(ConfigEntry.kind)).all()
    )
    run_id = session.scalar(sa.select(sa.func.max(EvaluationRun.id))) or 1
    samples = []
    for rule in console_rules(app):
        view, name = rule.endpoint.split(".")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            reading = method == "GET"
            values = {}
            for argument in rule.arguments:
                if argument == "slug":
                    values["slug"] = slugs.get(view.removeprefix("config_"), "nothing") if reading else "no_such_doc"
                elif argument == "number":
                    values["number"] = 1 if reading else 999
                elif argument == "run_id":
                    values["run_id"] = run_id if reading else 999999
                elif argument == "export_type":
                    values["export_type"] = "csv"
                else:
                    raise AssertionError(f"{rule.rule}: no sample value for <{argument}>")
            url = rule.build(values, append_unknown=False)[1]
            if name in ("details_view", "edit_view"):
                url += f"?id={existing[view] if reading else 999999}"
            samples.append((view, name, method, url))
    return samples


def allowed(login: str | None, view: str, name: str, method: str) -> bool:
    if login not in READERS:
        return False
    writing = name in WRITE_ENDPOINTS and not (name == "edit" and method == "GET")
    return not writing or login in VIEW_WRITERS.get(view, WRITERS)


def fingerprint(session) -> str:
    """Everything the console could change, as one digest."""
    session.rollback()
    parts = []
    for model in (Department, Role, Employee, User, ConfigEntry, ConfigVersion, EvaluationRun, AuditEntry, Record):
        rows = session.execute(sa.select(model.__table__)).all()
        parts.append(f"{model.__tablename__}:{sorted(map(repr, rows))}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_every_console_url_answers_each_role_as_it_should(app, session):
    assert run_cli("run", "2026-10").exit_code == 0
    samples = sample_urls(app, session)
    names = {(view, name) for view, name, _, _ in samples}
    assert {
        ("org_departments", "delete_view"),
        ("config_schedules", "run_now"),
        ("config_versions", "rollback"),
        ("console_runs", "start"),
        ("audit", "details_view"),
        ("admin", "index"),
    } <= names
    assert len(samples) > 100
    clients = {login: signed_in(app, login) for login in USERS}
    clients[None] = app.test_client()
    before = fingerprint(session)
    for login, client in clients.items():
        for view, name, method, url in samples:
            response = client.open(url, method=method, data={"csrf_token": token(client)} if method == "POST" else None)
            where = f"{login} {method} {url}"
            if login is None:
                assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), where
            elif allowed(login, view, name, method):
                assert response.status_code not in (401, 403), where
                assert not response.headers.get("Location", "").startswith("/sign-in"), where
                assert response.status_code < 500, where
            else:
                assert response.status_code == 403, where
    # GET never changes anything, and refused (or nonexistent) writes changed nothing either
    assert fingerprint(session) == before


def test_posts_without_a_csrf_token_are_refused(app, session):
    samples = [sample for sample in sample_urls(app, session) if sample[2] == "POST"]
    assert len(samples) > 40
    clients = {login: signed_in(app, login) if login else app.test_client() for login in ("admin", "hr", "rep", None)}
    before = fingerprint(session)
    for login, client in clients.items():
        for view, name, method, url in samples:
            assert client.post(url, data={"document": "slug: x"}).status_code == 400, f"{login} POST {url}"
    assert fingerprint(session) == before


def test_exports_stay_off(app, session):
    admin = signed_in(app, "admin")
    for admin_app in app.extensions["admin"]:
        for view in admin_app._views:
            assert not getattr(view, "can_export", False), view.endpoint
    for view, name, method, url in sample_urls(app, session):
        if name == "export":
            response = admin.get(url)
            assert response.status_code == 302 and response.mimetype != "text/csv", url


def test_user_data_never_reaches_a_page_unescaped(app, session):
    """Flask-Admin renders field descriptions with |safe: ours are fixed texts, and whatever
    people type is shown escaped on every page of the console."""
    hostile = "<script>alert('x')</script>"
    admin = signed_in(app, "admin")
    sales = session.scalar(sa.select(Department.id).where(Department.code == "SALES"))
    r1 = session.scalar(sa.select(Employee).where(Employee.code == "R1"))
    assert (
        post(
            admin, f"/admin/departments/edit/?id={sales}", {"label_zh": hostile, "label_en": hostile, "parent": "HQ"}
        ).status_code
        == 302
    )
    assert (
        post(
            admin,
            f"/admin/employees/edit/?id={r1.id}",
            {
                "name": hostile,
                "department": "EAST",
                "role": "rep",
                "manager": "L1",
                "active": "y",
                "attributes": json.dumps({"note": hostile}),
            },
        ).status_code
        == 302
    )
    kpi = edited(
        admin, "kpis", "attainment", lambda d: d.update(description=hostile, label={"zh": hostile, "en": hostile})
    )
    assert post(admin, "/admin/config/kpis/edit/attainment", {"document": kpi}).status_code == 302
    assert post(admin, "/admin/versions/publish", {"message": hostile}).status_code == 302

    with app.test_request_context("/admin/"):
        for admin_app in app.extensions["admin"]:
            for view in admin_app._views:
                for form_class in (getattr(view, "_create_form_class", None), getattr(view, "_edit_form_class", None)):
                    if form_class is None:
                        continue
                    for field in form_class():
                        assert "<" not in str(field.description or ""), f"{view.endpoint}.{field.name}"
    for view, name, method, url in sample_urls(app, session):
        if method == "GET" and name != "export":
            text = page(admin.get(url))
            assert hostile not in text and "<script>alert" not in text, url
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page(admin.get("/admin/departments/"))
