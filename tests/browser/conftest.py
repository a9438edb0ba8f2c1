"""Browser tests: Debian's Chromium driven by Playwright against `perfrules serve` on a demo
company, as a person would use it. Screenshots of the key pages are kept as test artifacts in
PERFRULES_TEST_ARTIFACTS (default build/test-artifacts).

Chromium must be at /usr/bin/chromium (.ci/run installs it); without it the browser tests are
skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ..helpers import ROOT, SEED_CONFIG, run_cli

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "perfrules-demo"
ARTIFACTS = Path(os.environ.get("PERFRULES_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(environment: dict, *args: str) -> str:
    """`perfrules *args` in this process (the CLI itself, without starting Python again) in
    `environment`; its output."""
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(environment):
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        result = run_cli(*args)
    assert result.exit_code == 0, f"perfrules {' '.join(args)}: {result.output}"
    return result.stdout


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """`perfrules serve` over a fresh demo company (SQLite), evaluated for last month."""
    folder = tmp_path_factory.mktemp("browser")
    environment = {
        **os.environ,
        "PERFRULES_DATABASE_URL": f"sqlite:///{folder}/perfrules.db",
        "PERFRULES_INSTANCE_PATH": str(folder / "instance"),
        "PERFRULES_ACTOR": "browser-tests",
    }
    _cli(environment, "db", "upgrade")
    _cli(environment, "config", "load", str(SEED_CONFIG))
    _cli(environment, "config", "publish", "-m", "Seed configuration")
    _cli(environment, "data", "demo", "--employees", "40", "--months", "4", "--seed", "1", "--password", PASSWORD)
    _cli(environment, "run", "last-month")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "perfrules.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/sign-in", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("perfrules serve did not start")
        yield {"url": base, "environment": environment, "cli": lambda *args: _cli(environment, *args)}
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(browser, demo_server):
    """open_as(login) → a signed-in page (its own browser context, so sessions never mix)."""
    contexts = []

    def sign_in(login: str, language: str = "en"):
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale=language)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{demo_server['url']}/sign-in")
        page.fill("#login", login)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url(lambda url: "/sign-in" not in url)
        page.base = demo_server["url"]
        return page

    yield sign_in
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
