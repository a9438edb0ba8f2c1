"""Helpers shared by tests: run the CLI against the test's database, write small files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from perfrules.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED_CONFIG = ROOT / "seed_configs" / "config"
SEED_ORG = ROOT / "seed_configs" / "org" / "organisation.yaml"


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding=encoding)
    return path


def csrf_token(page: str) -> str:
    """The CSRF token a page's forms carry."""
    import re

    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client, login: str, password: str):
    """Sign in through the real form; the response to the POST."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"login": login, "password": password, "csrf_token": token})
