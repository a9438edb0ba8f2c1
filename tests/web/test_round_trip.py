"""Saving never loses what the form does not show: every document of the seed configuration,
opened in its editor and saved unchanged — the form's fields posted as a browser posts them —
leaves the exported configuration byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from perfrules.config.store import export_yaml, working_config
from perfrules.web import create_app

from ..helpers import ROOT, SEED_CONFIG, add_users, run_cli, starting_state

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"

#: where each section's documents are edited
EDITORS = {
    "datasets": "/designer/datasets/{slug}",
    "employee_attributes": "/designer/attributes/{slug}",
    "forms": "/designer/forms/{slug}",
    "metrics": "/designer/metrics/{slug}",
    "kpis": "/designer/kpis/{slug}",
    "targets": "/designer/targets/{slug}",
    "approval_flows": "/designer/flows/{slug}",
    "templates": "/designer/templates/{slug}",
    "schedules": "/designer/schedules/{slug}",
    "plans": "/designer/plans/{slug}",
}


def _seed(folder: Path) -> None:
    assert run_cli("org", "import", str(ROOT / "seed_configs" / "org" / "organisation.yaml")).exit_code == 0
    loaded = run_cli("config", "load", str(SEED_CONFIG))
    assert loaded.exit_code == 0, loaded.output
    add_users([("admin", "admin", None)], PASSWORD)


@pytest.fixture
@starting_state(_seed)
def seed_in_draft(cli_env, tmp_path):
    """The seed organisation and configuration (in the draft), and an administrator."""
    return tmp_path


def browser_post(page: str, url: str) -> dict[str, list[str]]:
    """What a browser posts when the page's editor form is submitted untouched: the form without
    an action (the others post elsewhere), rows kept in <template> elements left out."""
    document = lxml.html.fromstring(page)
    for template in document.iter("template"):
        template.drop_tree()
    forms = [form for form in document.forms if form.method.lower() == "post" and not form.get("action")]
    assert len(forms) == 1, f"{url}: expected one editor form, found {len(forms)}"
    posted: dict[str, list[str]] = {}
    for name, value in forms[0].form_values():
        posted.setdefault(name, []).append(value)
    return posted


def test_saving_every_seed_document_unchanged_leaves_the_configuration_byte_identical(seed_in_draft, cli_env, session):
    app = create_app({"database_url": cli_env, "instance_path": str(seed_in_draft / "instance"), "TESTING": True})
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in = lxml.html.fromstring(client.get("/sign-in").get_data(as_text=True))
    token = sign_in.forms[-1].fields["csrf_token"]
    response = client.post("/sign-in", data={"login": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302

    before = export_yaml(working_config(session))
    config = working_config(session)
    assert set(config) == set(EDITORS)
    saved = 0
    for section, documents in config.items():
        for slug in documents:
            url = EDITORS[section].format(slug=slug)
            page = client.get(url)
            assert page.status_code == 200, url
            answer = client.post(url, data=browser_post(page.get_data(as_text=True), url))
            assert answer.status_code == 302, f"{url}: {answer.status_code}\n{answer.get_data(as_text=True)[-3000:]}"
            saved += 1
    session.rollback()
    assert saved >= 30
    after = export_yaml(working_config(session))
    assert after == before
