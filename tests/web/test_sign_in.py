"""Signing in and out: hashed passwords, slowed guessing, sessions that really end, CSRF on every
form, a content security policy whose scripts need the response's nonce, two languages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.org.models import SignInFailures, User
from perfrules.web import create_app

from ..helpers import SEED_ORG, add_users, csrf_token, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"


def _seed_org(folder: Path) -> None:
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    # signing in is what is tested here: passwords hashed as the app hashes them
    add_users([("admin", "admin", None), ("zhang", "employee", "E0003")], PASSWORD, full_cost=True)


@pytest.fixture
@starting_state(_seed_org)
def seeded_org(cli_env, tmp_path):
    """The seed organisation with users admin and zhang (E0003); the test's folder."""
    return tmp_path


@pytest.fixture
def app(seeded_org, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def test_signing_in_lands_on_the_page_asked_for_and_never_elsewhere(app):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    landed = client.post("/sign-in?next=/admin/", data={"login": "admin", "password": PASSWORD, "csrf_token": token})
    assert landed.status_code == 302 and landed.headers["Location"] == "/admin/"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/%5Cevil.example"):
        other = app.test_client()
        token = csrf_token(other.get("/sign-in").get_data(as_text=True))
        response = other.post(
            f"/sign-in?next={elsewhere}", data={"login": "admin", "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == "/", elsewhere


def _session_cookie(app) -> str:
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    signed_in = client.post("/sign-in", data={"login": "admin", "password": PASSWORD, "csrf_token": token})
    return next(value for value in signed_in.headers.getlist("Set-Cookie") if value.startswith("session="))


def test_the_session_cookie_is_samesite_lax_httponly_and_secure_over_https(app, cli_env, tmp_path):
    cookie = _session_cookie(app)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    served_over_https = create_app(
        {
            "database_url": cli_env,
            "instance_path": str(tmp_path / "instance"),
            "base_url": "https://perf.example.com",
            "TESTING": True,
        }
    )
    assert "; Secure" in _session_cookie(served_over_https)


def test_wrong_passwords_are_refused_and_then_slowed_down(app, session):
    client = app.test_client()
    for _ in range(5):
        refused = sign_in(client, "zhang", "wrong-password")
        assert refused.status_code == 401 and "账号或密码错误" in refused.get_data(as_text=True)  # Chinese by default
    # the sixth attempt comes too soon: refused even with the right password, and it says how long to wait
    slowed = sign_in(client, "zhang", PASSWORD)
    assert slowed.status_code == 429 and "请在 1 秒后重试" in slowed.get_data(as_text=True)
    with session.bind.begin() as connection:  # the wait passes
        connection.execute(sa.update(SignInFailures).values(last_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)))
    assert sign_in(client, "zhang", PASSWORD).status_code == 302
    session.rollback()
    assert session.get(SignInFailures, "login+place:zhang@127.0.0.1") is None  # a success clears the count
    assert sign_in(app.test_client(), "nobody", "whatever").status_code == 401
    session.rollback()
    assert session.get(SignInFailures, "login+place:nobody@127.0.0.1").count == 1


def test_failures_are_counted_at_the_clients_address_which_proxies_report_only_when_trusted(
    app, cli_env, tmp_path, session
):
    forged = {"X-Forwarded-For": "203.0.113.5"}
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"login": "zhang", "password": "x", "csrf_token": token}, headers=forged)
    behind_a_proxy = create_app(
        {"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "proxies": 1, "TESTING": True}
    ).test_client()
    token = csrf_token(behind_a_proxy.get("/sign-in").get_data(as_text=True))
    behind_a_proxy.post("/sign-in", data={"login": "zhang", "password": "x", "csrf_token": token}, headers=forged)
    session.rollback()
    assert set(session.scalars(sa.select(SignInFailures.key).where(SignInFailures.key.like("login+place:%")))) == {
        "login+place:zhang@127.0.0.1",  # the header ignored: anyone could send it
        "login+place:zhang@203.0.113.5",  # believed from the one proxy configured
    }


def test_signing_out_ends_every_copy_of_the_session(app):
    client = app.test_client()
    sign_in(client, "zhang", PASSWORD)
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/").status_code == 200  # the copied cookie works while the session lives
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302
    assert stolen.get("/").status_code == 302  # and not after signing out


def test_a_burst_of_guesses_is_counted_one_by_one(app, session):
    """Concurrent attempts on one login queue on its failure row: none goes uncounted."""
    from concurrent.futures import ThreadPoolExecutor

    def guess(number: int) -> int:
        return sign_in(app.test_client(), "zhang", f"wrong-{number}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(16)))
    session.rollback()
    checked = statuses.count(401)
    assert set(statuses) <= {401, 429} and checked >= 5
    assert session.get(SignInFailures, "login+place:zhang@127.0.0.1").count == checked  # each one counted


def test_an_inactive_user_cannot_sign_in_and_their_sessions_end(app, session):
    client = app.test_client()
    sign_in(client, "zhang", PASSWORD)
    with session.bind.begin() as connection:
        connection.execute(sa.update(User).where(User.login == "zhang").values(active=False))
    assert client.get("/").status_code == 302
    assert sign_in(app.test_client(), "zhang", PASSWORD).status_code == 401


def test_every_form_needs_its_csrf_token(app):
    client = app.test_client()
    assert client.post("/sign-in", data={"login": "zhang", "password": PASSWORD}).status_code == 400
    sign_in(client, "zhang", PASSWORD)
    assert client.post("/sign-out").status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 400
    # an API token's header does not excuse a page from CSRF, whatever it holds
    assert client.post("/sign-out", headers={"Authorization": "Bearer x"}).status_code == 400
    assert client.get("/").status_code == 200  # still signed in: the forged sign-out did nothing


@pytest.mark.parametrize("path", ["/sign-in", "/", "/admin/", "/api/"])
def test_scripts_run_only_with_the_responses_nonce(app, path):
    client = app.test_client()
    if path != "/sign-in":
        sign_in(client, "admin", PASSWORD)
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    page = response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert 'src="/' in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"\son[a-z]+=\"", page), "no inline event handlers"
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing from another site"


def test_the_language_is_chosen_per_user_and_kept(app):
    client = app.test_client()
    sign_in(client, "zhang", PASSWORD)
    assert "概览" in client.get("/").get_data(as_text=True)  # Chinese unless told otherwise
    token = csrf_token(client.get("/").get_data(as_text=True))
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    assert "Overview" in client.get("/").get_data(as_text=True)
    again = app.test_client()  # another browser: the user's choice follows them
    sign_in(again, "zhang", PASSWORD)
    assert "Overview" in again.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in again.get("/").get_data(as_text=True)
