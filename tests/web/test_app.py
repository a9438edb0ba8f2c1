"""The web app: who may see what, the overview page, the records API, and a live server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.data.models import Record
from perfrules.web import create_app

from ..helpers import SEED_CONFIG, SEED_ORG, add_users, csrf_token, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"


def _seed(folder: Path) -> None:
    assert run_cli("config", "load", SEED_CONFIG).exit_code == 0
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    add_users([("admin", "admin", None), ("hr", "hr", None), ("zhang", "employee", "E0003")], PASSWORD)


@pytest.fixture
@starting_state(_seed)
def seeded(cli_env, tmp_path):
    """The seed configuration (a draft, nothing published) and organisation, with users admin,
    hr and zhang (E0003); the test's folder."""
    return tmp_path


@pytest.fixture
def app(seeded, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def token(login: str) -> dict:
    result = run_cli("token", "create", login, "--name", "tests")
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}


def test_anonymous_visitors_get_the_sign_in_page_and_nothing_else(app):
    client = app.test_client()
    for path in ("/", "/admin/", "/admin/audit/", "/scorecards/mine", "/designer/templates"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path
    page = client.get("/sign-in")
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    assert "CRM" not in page.get_data(as_text=True)


def test_overview_page_says_what_is_there(app):
    client = app.test_client()
    assert sign_in(client, "hr", PASSWORD).status_code == 302
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<th>Employees</th><td class="num">9</td>' in page
    assert "Deals <code>deals</code></th>" in page
    assert "No version published yet" in page
    chinese = app.test_client()
    sign_in(chinese, "zhang", PASSWORD)
    assert "概览" in chinese.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self' 'nonce-")
    assert response.headers["X-Frame-Options"] == "DENY"


RECORDS = [
    {
        "external_id": "P1",
        "owner": "E0003",
        "received_on": "2026-10-08",
        "amount": 5000,
        "receivable": 6000,
        "on_time": True,
    },
    {"external_id": "P2", "owner": "E0004", "received_on": "2026-10-09", "amount": "3,000", "receivable": 3000},
]


def test_bulk_upsert_through_the_api(app, session):
    client = app.test_client()
    url = "/api/v1/datasets/payments/records"
    first = client.post(url, json={"records": RECORDS}, headers=token("hr"))
    assert first.status_code == 200, first.json
    assert {k: first.json[k] for k in ("read", "inserted", "updated", "unchanged", "rejected")} == {
        "read": 2,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    again = client.post(url, json={"records": RECORDS}, headers=token("admin"))
    assert again.json["unchanged"] == 2
    session.rollback()
    stored = session.scalar(sa.select(Record).where(Record.external_id == "P2"))
    assert stored.values["amount"] == 300000 and stored.dataset == "payments"  # "3,000" in minor units


def test_bad_records_are_refused_with_their_problems(app, session):
    bad = RECORDS + [{"external_id": "P3", "owner": "E0404", "received_on": "someday", "amount": 1, "receivable": 1}]
    response = app.test_client().post(
        "/api/v1/datasets/payments/records", json={"records": bad}, headers=token("admin")
    )
    assert response.status_code == 422
    assert response.json["message"] == "1 record(s) have problems; nothing was written"
    assert response.json["errors"] == [
        {"path": "json.records[2].owner", "value": "E0404", "message": "unknown employee code"},
        {"path": "json.records[2].received_on", "value": "someday", "message": "expected a date like 2026-10-31"},
    ]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Record)) == 0
    skipped = app.test_client().post(
        "/api/v1/datasets/payments/records", json={"records": bad, "skip_invalid": True}, headers=token("admin")
    )
    assert skipped.status_code == 200 and skipped.json["inserted"] == 2 and skipped.json["rejected"] == 1


@pytest.mark.parametrize(
    "login, method, url, body, status",
    [
        (None, "get", "/api/v1/datasets", None, 401),
        ("zhang", "get", "/api/v1/datasets", None, 403),
        ("hr", "get", "/api/v1/datasets", None, 200),
        (None, "post", "/api/v1/datasets/payments/records", {"records": []}, 401),
        ("zhang", "post", "/api/v1/datasets/payments/records", {"records": []}, 403),
        ("admin", "post", "/api/v1/datasets/nothing/records", {"records": []}, 404),
        ("admin", "post", "/api/v1/datasets/payments/records", {"rows": []}, 422),
        ("admin", "post", "/api/v1/datasets/payments/records", {"records": [{"owner": "E0003", "colour": 1}]}, 422),
    ],
)
def test_api_checks_who_is_asking(app, login, method, url, body, status):
    client = app.test_client()
    headers = token(login) if login else {}
    response = getattr(client, method)(url, json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)


def test_the_api_is_described_by_openapi(app):
    spec = app.test_client().get("/api/openapi.json", headers=token("hr")).json
    assert "/api/v1/datasets/{slug}/records" in spec["paths"]
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_perfrules_serve_answers_real_http(app, cli_env, tmp_path):
    import http.cookiejar
    import re

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "perfrules.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(100):
            try:
                page = opener.open(f"{base}/sign-in", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"login": "admin", "password": PASSWORD, "csrf_token": token}).encode()
        with opener.open(
            urllib.request.Request(f"{base}/sign-in", data=form, headers={"Accept-Language": "en"}), timeout=5
        ) as response:
            assert response.status == 200 and "Overview" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
