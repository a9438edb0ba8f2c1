"""The REST API: tokens, runs, scorecards with who-sees-what, configuration, errors, the docs page."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.engine.models import EvaluationRun
from perfrules.org.models import ApiToken, User
from perfrules.web import create_app

from ..helpers import add_users, issue_tokens, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database

USERS = {  # login: (role, employee)
    "admin": ("admin", None),
    "hr": ("hr", None),
    "audit": ("auditor", None),
    "lead_east": ("manager", "L1"),
    "lead_west": ("manager", "R3"),
    "rep1": ("employee", "R1"),
}


def issue(login: str, *extra) -> str:
    result = run_cli("token", "create", login, "--name", "tests", *extra)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def _create_users(folder: Path) -> None:
    add_users(((login, *spec) for login, spec in USERS.items()), "s3cret-pass")


@pytest.fixture
@starting_state(_create_users, parent="company")
def api_users(company):
    """The scenario company with USERS; the test's folder."""
    return company


@pytest.fixture
def api(api_users, cli_env, tmp_path):
    """A test client of the app, with a bearer token for each of USERS in `client.tokens`."""
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    client = app.test_client()
    client.tokens = {
        login: {"Authorization": f"Bearer {token}"} for login, token in issue_tokens(USERS, "tests").items()
    }
    return client


def wait_for(client, run_id: int, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}", headers=client.tokens["admin"]).json
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {seconds} s")


@pytest.fixture
def evaluated(api):
    started = api.post("/api/v1/runs", json={"period": "2026-10"}, headers=api.tokens["hr"])
    assert started.status_code == 202, started.json
    assert wait_for(api, started.json["id"])["status"] == "succeeded"
    return api


# --- tokens ------------------------------------------------------------------------------------


def test_no_token_a_bad_token_or_a_password_get_a_json_401(api):
    for headers in (
        {},
        {"Authorization": "Bearer prt_not-a-token"},
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic YWRtaW46czNjcmV0LXBhc3M="},
    ):  # admin's right password
        response = api.get("/api/v1/scorecards", headers=headers)
        assert response.status_code == 401
        assert response.json["message"].startswith("send a valid API token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="perfrules"'


def test_every_operation_authenticates_before_it_reads_the_request(api):
    """Every operation of the OpenAPI document, asked anonymously with a body that is not JSON
    and query arguments that do not parse, answers 401: nothing is read before the caller is
    known (a body or a query string could otherwise cost the server before anyone is asked who
    they are)."""
    document = api.get("/api/openapi.json", headers=api.tokens["admin"]).json
    asked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            examples = {  # a value each path parameter's route takes (the first of a list)
                parameter["name"]: (parameter.get("schema", {}).get("enum") or ["1"])[0]
                for parameter in operations.get("parameters", []) + operations[method].get("parameters", [])
                if parameter["in"] == "path"
            }
            url = re.sub(r"\{([^}]+)\}", lambda m, values=examples: str(values.get(m[1], "1")), path)
            url += "?page=not-a-number&period=%00&version=%%"
            response = api.open(url, method=method.upper(), data="{not json", content_type="application/json")
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code} {response.json}"
            asked += 1
    assert asked >= 40


def test_each_operation_reads_a_body_only_as_large_as_its_use(api):
    """256 KiB for an operation that states no more; the bulk upsert and whole documents up to
    16 MiB; a declared length over the limit is refused before a byte is read; an anonymous
    caller is told 401 whatever they send, and a page reads only a small form from them."""
    hr, large = api.tokens["hr"], "[" + "0," * 2**17 + "0]"  # 256 KiB and a little
    refused = api.post("/api/v1/formulas/check", data=large, content_type="application/json", headers=hr)
    assert refused.status_code == 413 and "256 KiB" in refused.json["message"]
    accepted = api.post("/api/v1/datasets/none/records", json={"records": [{"x": "y" * 2**19}]}, headers=hr)
    assert accepted.status_code == 404  # read, and then the dataset is not found
    huge = api.post(  # declared larger than it is: refused on the declaration, nothing read
        "/api/v1/datasets/deals/records",
        data=b"{",
        content_type="application/json",
        headers=hr,
        environ_overrides={"CONTENT_LENGTH": str(17 * 2**20)},
    )
    assert huge.status_code == 413 and "16 MiB" in huge.json["message"]
    assert api.post("/api/v1/datasets/deals/records", data=large, content_type="application/json").status_code == 401
    page = api.post("/sign-in", data={"login": "hr", "password": "x" * 2**15})
    assert page.status_code == 413 and "过大" in page.get_data(as_text=True)  # in words, Chinese by default


def test_revoked_and_expired_tokens_and_inactive_users_are_refused(api, session):
    token = issue("hr")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/runs", headers=headers).status_code == 200
    session.rollback()
    row = session.scalar(sa.select(ApiToken).order_by(ApiToken.id.desc()).limit(1))
    assert row.last_used_at is not None and token.startswith(row.prefix) and token not in (row.digest, row.prefix)
    assert run_cli("token", "revoke", str(row.id)).exit_code == 0
    assert api.get("/api/v1/runs", headers=headers).status_code == 401

    expiring = issue("hr", "--expires-days", "1")
    with session.bind.begin() as connection:
        connection.execute(
            sa.update(ApiToken)
            .where(ApiToken.prefix == expiring[:10])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert api.get("/api/v1/runs", headers={"Authorization": f"Bearer {expiring}"}).status_code == 401

    with session.bind.begin() as connection:
        connection.execute(sa.update(User).where(User.login == "audit").values(active=False))
    assert api.get("/api/v1/runs", headers=api.tokens["audit"]).status_code == 401
    listing = run_cli("token", "list")
    assert "tests" in listing.stdout and "prt_" in listing.stdout and token not in listing.stdout
    assert run_cli("token", "create", "nobody", "--name", "x").exit_code == 2
    assert run_cli("token", "create", "hr", "--name", " ").exit_code == 2


# --- runs --------------------------------------------------------------------------------------


def test_a_run_started_through_the_api_evaluates_in_the_background(api):
    started = api.post("/api/v1/runs", json={"period": "2026-10", "templates": ["rep"]}, headers=api.tokens["admin"])
    assert started.status_code == 202
    assert started.headers["Location"].endswith(f"/api/v1/runs/{started.json['id']}")
    assert started.json["status"] == "running" and started.json["actor"] == "api:admin"
    run = wait_for(api, started.json["id"])
    assert run["status"] == "succeeded" and run["version_number"] == 1 and run["scope"]["templates"] == ["rep"]
    assert run["counts"]["scorecards"] == 4 and set(run["timings"]) >= {"aggregate", "evaluate", "write", "total"}
    cards = api.get("/api/v1/scorecards?period=2026-10", headers=api.tokens["admin"]).json
    assert sorted(card["employee"] for card in cards) == ["R1", "R2", "R3", "R4"]

    listing = api.get("/api/v1/runs?status=succeeded", headers=api.tokens["audit"])
    assert listing.status_code == 200 and [r["id"] for r in listing.json] == [run["id"]]
    assert '"total": 1' in listing.headers["X-Pagination"]


def test_bad_run_requests_say_which_field_and_why(api):
    post = lambda body, who="hr": api.post("/api/v1/runs", json=body, headers=api.tokens[who])  # noqa: E731
    response = post({"period": "2026-13"})
    assert response.status_code == 422
    assert response.json["errors"][0]["path"] == "json.period" and "2026-13" in response.json["errors"][0]["message"]
    assert post({}).json["errors"] == [{"path": "json.period", "message": "Missing data for required field."}]
    assert post({"period": "2026-10", "templates": ["nope"]}).json["message"] == "unknown template 'nope'"
    assert post({"period": "2026-10", "department": "MARS"}).json["message"] == "unknown department 'MARS'"
    assert post({"period": "2026-10", "version": "7"}).json["errors"] == [
        {"path": "json.version", "message": "there is no version 7"}
    ]
    assert post({"period": "2026-10", "version": "draft"}).status_code == 422
    for who in ("rep1", "lead_east", "audit"):
        assert post({"period": "2026-10"}, who).status_code == 403
    assert api.get("/api/v1/runs/999", headers=api.tokens["hr"]).status_code == 404


def test_a_period_that_is_being_run_cannot_be_started_again(api, session):
    with session.bind.begin() as connection:
        connection.execute(
            sa.insert(EvaluationRun).values(
                period="2026-10",
                status="running",
                actor="tester",
                host=socket.gethostname(),
                pid=os.getpid(),
                started_at=dt.datetime.now(dt.UTC),
                scope={},
                counts={},
                timings={},
                errors=[],
            )
        )
    response = api.post("/api/v1/runs", json={"period": "2026-10"}, headers=api.tokens["hr"])
    assert response.status_code == 409 and "still running" in response.json["message"]


# --- scorecards and who sees them --------------------------------------------------------------

VISIBLE = {
    "admin": {"L1", "R1", "R2", "R3", "R4"},
    "hr": {"L1", "R1", "R2", "R3", "R4"},
    "audit": {"L1", "R1", "R2", "R3", "R4"},
    "lead_east": {"L1", "R1", "R2"},
    "lead_west": {"R3", "R4"},
    "rep1": {"R1"},
}


def test_everyone_sees_exactly_the_scorecards_they_may(evaluated):
    for login, expected in VISIBLE.items():
        listing = evaluated.get("/api/v1/scorecards?period=2026-10", headers=evaluated.tokens[login])
        assert {card["employee"] for card in listing.json} == expected, login
        for code in VISIBLE["admin"]:
            one = evaluated.get(f"/api/v1/scorecards/2026-10/{code}", headers=evaluated.tokens[login])
            assert one.status_code == (200 if code in expected else 404), (login, code)
    # asking for someone else by filter gives nothing, not an error that confirms they exist
    assert evaluated.get("/api/v1/scorecards?employee=R2", headers=evaluated.tokens["rep1"]).json == []


def test_one_scorecard_carries_its_trace_and_definitions(evaluated):
    card = evaluated.get("/api/v1/scorecards/2026-10/R1", headers=evaluated.tokens["rep1"]).json
    assert card["total"] == pytest.approx(105.4) and card["grade"] == "S" and card["template"] == "rep"
    assert card["total"] == pytest.approx(sum(item["points"] for item in card["items"]))
    attainment = next(item for item in card["items"] if item["key"] == "attainment")
    assert attainment["formula"] == "sales / target.sales" and attainment["target"] == 20000
    assert attainment["value"] == pytest.approx(1.2) and attainment["points"] == pytest.approx(50.4)
    assert attainment["inputs"]
    assert evaluated.get("/api/v1/scorecards/2026-13/R1", headers=evaluated.tokens["hr"]).status_code == 404


def test_scorecard_lists_filter_and_page(evaluated):
    get = lambda query: evaluated.get(f"/api/v1/scorecards?{query}", headers=evaluated.tokens["hr"])  # noqa: E731
    assert {c["employee"] for c in get("department=EAST").json} == {"L1", "R1", "R2"}
    assert {c["employee"] for c in get("department=SALES").json} == VISIBLE["admin"]
    assert {c["employee"] for c in get("grade=S").json} == {"R1", "R4"}
    assert {c["employee"] for c in get("template=lead").json} == {"L1"}
    assert get("period=2026-09").json == []
    first = get("period=2026-10&page_size=2&page=1")
    assert len(first.json) == 2 and '"total": 5' in first.headers["X-Pagination"]
    third = get("period=2026-10&page_size=2&page=3")
    assert len(third.json) == 1
    assert first.json[0]["items"] is None and get("items=true&page_size=1").json[0]["items"]
    bad = get("department=MARS")
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "query.department"
    assert get("period=soon").json["errors"][0]["path"] == "query.period"


# --- configuration -----------------------------------------------------------------------------


def test_configuration_exports_as_yaml_and_json(api):
    yaml_text = api.get("/api/v1/config", headers=api.tokens["audit"])
    assert yaml_text.status_code == 200 and yaml_text.mimetype == "application/yaml"
    assert (
        "templates:" in yaml_text.get_data(as_text=True)
        and yaml_text.headers["X-Perfrules-Configuration"] == "version 1"
    )
    as_json = api.get("/api/v1/config?format=json&version=1", headers=api.tokens["hr"]).json
    assert [t["slug"] for t in as_json["templates"]] == ["lead", "rep"]
    assert api.get("/api/v1/config?version=draft", headers=api.tokens["hr"]).status_code == 200
    assert api.get("/api/v1/config?version=9", headers=api.tokens["hr"]).status_code == 404
    assert api.get("/api/v1/config?format=xml", headers=api.tokens["hr"]).json["errors"][0]["path"] == "query.format"
    assert api.get("/api/v1/config", headers=api.tokens["rep1"]).status_code == 403
    versions = api.get("/api/v1/config/versions", headers=api.tokens["hr"]).json
    assert [(v["number"], v["message"]) for v in versions] == [(1, "scenario")]


def test_numbers_past_what_the_database_holds_name_nothing(api):
    """A version, an id or a page past any an integer column (or OFFSET) holds answers like one
    that is not there, never with the database's overflow error (a 500)."""
    hr, huge = api.tokens["hr"], "9" * 20
    for version in (huge, "3000000000"):
        assert api.get(f"/api/v1/config?version={version}", headers=hr).status_code == 404
        run = api.post("/api/v1/runs", json={"period": "2026-10", "version": version}, headers=hr)
        assert run.status_code == 422 and run.json["errors"][0]["path"] == "json.version"
    assert api.get("/api/v1/runs/3000000000", headers=hr).status_code == 404
    assert api.get(f"/api/v1/runs/{huge}", headers=hr).status_code == 404
    assert api.get(f"/api/v1/runs?page={huge}", headers=hr).json == []
    sign_in(api, "admin", "s3cret-pass")  # pages too: every route's ids are bounded alike
    for page in ("/admin/runs/3000000000", "/feedback/3000000000", "/admin/versions/3000000000"):
        assert api.get(page).status_code == 404, page


def test_a_target_set_saved_through_the_api_is_validated_with_paths(api):
    url = "/api/v1/config/targets/q4_push"
    body = {
        "label": {"zh": "四季度冲刺", "en": "Q4 push"},
        "entries": [{"name": "sales", "period": "2026-Q4", "department": "EAST", "value": 90000, "split": "equal"}],
    }
    saved = api.put(url, json=body, headers=api.tokens["hr"])
    assert saved.status_code == 200, saved.json
    assert saved.json["added"] == ["targets.q4_push"]
    assert api.put(url, json=body, headers=api.tokens["hr"]).json["unchanged"] == ["targets.q4_push"]
    draft = api.get("/api/v1/config?version=draft&format=json", headers=api.tokens["hr"]).json
    assert any(t["slug"] == "q4_push" for t in draft["targets"])

    bad = {**body, "entries": [{"name": "sales", "period": "Q4", "employee": "R1", "value": "lots"}]}
    refused = api.put(url, json=bad, headers=api.tokens["admin"])
    assert refused.status_code == 422
    paths = {problem["path"] for problem in refused.json["errors"]}
    assert {"targets[0].entries[0].period", "targets[0].entries[0].value"} <= paths, refused.json
    assert api.put(url, json=body, headers=api.tokens["lead_east"]).status_code == 403


# --- the documentation -------------------------------------------------------------------------


def test_the_openapi_document_and_its_interactive_page_are_served_from_the_package(api):
    assert api.get("/api/openapi.json").status_code == 401  # to signed-in users and token holders only
    assert api.get("/api/").status_code == 302
    spec = api.get("/api/openapi.json", headers=api.tokens["rep1"]).json
    assert {
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/scorecards",
        "/api/v1/scorecards/{period}/{employee}",
        "/api/v1/config",
        "/api/v1/config/targets/{slug}",
        "/api/v1/datasets/{slug}/records",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    sign_in(api, "admin", "s3cret-pass")
    page = api.get("/api/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http" not in html.split("<body>")[1]  # nothing loaded from elsewhere
    assert api.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_a_template_is_cloned_for_another_department_through_the_api(api, session):
    url = "/api/v1/config/templates/rep/clone"
    body = {"slug": "rep_west", "departments": ["WEST"], "label": {"zh": "华西销售", "en": "Reps, West"}}
    made = api.post(url, json=body, headers=api.tokens["hr"])
    assert made.status_code == 201 and made.json["applies_to"] == {"departments": ["WEST"], "roles": ["rep"]}
    draft = api.get("/api/v1/config?version=draft&format=json", headers=api.tokens["hr"]).json
    clone = next(t for t in draft["templates"] if t["slug"] == "rep_west")
    original = next(t for t in draft["templates"] if t["slug"] == "rep")
    assert clone["sections"] == original["sections"] and clone["grades"] == original["grades"]
    session.rollback()
    from perfrules.audit import AuditEntry

    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "template.clone"))
    assert entry.after == {"source": "rep", "departments": ["WEST"], "roles": None} and entry.actor == "hr"
    again = api.post(url, json=body, headers=api.tokens["hr"])
    assert again.status_code == 422 and "already exists" in again.json["errors"][0]["message"]
    unknown = api.post(url, json={**body, "slug": "rep_north", "departments": ["NORTH"]}, headers=api.tokens["hr"])
    assert unknown.json["errors"] == [{"path": "applies_to.departments", "message": "unknown department 'NORTH'"}]
    assert (
        api.post(url, json={**body, "slug": "Bad Slug"}, headers=api.tokens["hr"]).json["errors"][0]["path"]
        == "json.slug"
    )
    assert api.post(url, json=body, headers=api.tokens["lead_east"]).status_code == 403
