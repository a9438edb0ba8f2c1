"""A run names everyone in its scope it gave no scorecard, and why: no template applies to their
department and role, or two apply equally. The run records them; `perfrules run` and `perfrules
runs` say it, the run's page in the console names them with links, and the REST API returns them.

The company is the scenario's (tests/engine/scenario.py), with three more people: N1 in WEST
without a role, M1 in EAST with a role no template names, and Q1, who left (inactive, so no run
expects a scorecard of them); and `lead_copy`, a clone of `lead` that ties with it for L1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.engine.models import EvaluationRun
from perfrules.org.models import Employee
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, issue_tokens, run_cli, sign_in, starting_state, write

pytestmark = pytest.mark.database

PASSWORD = "s3cret-pass"
USERS = {"hr": ("hr", None), "audit": ("auditor", None)}
NEWCOMERS = """
roles:
  - {code: analyst, label: {zh: 分析师, en: Analyst}}
employees:
  - {code: N1, name: 新人一, department: WEST}
  - {code: M1, name: 分析一, department: EAST, role: analyst}
  - {code: Q1, name: 离职一, department: WEST, active: false}
"""
TIE = "templates 'lead' and 'lead_copy' apply equally to this employee: make one more specific"


def _newcomers_and_a_tie(folder: Path) -> None:
    assert run_cli("org", "import", write(folder, "newcomers.yaml", NEWCOMERS)).exit_code == 0
    cloned = run_cli("config", "clone-template", "lead", "lead_copy", "--label-en", "Lead (copy)")
    assert cloned.exit_code == 0, cloned.output
    assert run_cli("config", "publish", "-m", "a tie").exit_code == 0
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_newcomers_and_a_tie, parent="company")
def left_out_company(company):
    """The scenario company with N1, M1, Q1, the tying `lead_copy` (version 2) and USERS."""
    return company


def last_run(session) -> EvaluationRun:
    session.rollback()
    return session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(1)).one()


def test_a_run_names_who_it_left_out_and_why(left_out_company, cli_env, session, tmp_path):
    ids = dict(session.execute(sa.select(Employee.code, Employee.id)).all())
    result = run_cli("run", "2026-10")
    assert result.exit_code == 0, result.output
    assert "4 scorecards, 0 failed, 2 without a template, 1 ambiguous" in result.stdout
    assert f"  L1 (主管一): {TIE}" in result.stderr
    assert "  N1 (新人一): no template applies to department 'WEST' with no role" in result.stderr
    assert "  M1 (分析一): no template applies to department 'EAST' with role 'analyst'" in result.stderr
    assert "Q1" not in result.stderr

    run = last_run(session)
    assert run.errors == []  # a tie is not an error of the run: it is said once, with who is left out
    assert run.left_out == [
        {
            "employee": "L1",
            "employee_id": ids["L1"],
            "name": "主管一",
            "department": "EAST",
            "role": "lead",
            "reason": "ambiguous",
            "templates": ["lead", "lead_copy"],
        },
        {
            "employee": "N1",
            "employee_id": ids["N1"],
            "name": "新人一",
            "department": "WEST",
            "role": None,
            "reason": "no_template",
            "templates": [],
        },
        {
            "employee": "M1",
            "employee_id": ids["M1"],
            "name": "分析一",
            "department": "EAST",
            "role": "analyst",
            "reason": "no_template",
            "templates": [],
        },
    ]
    shown = run_cli("runs", str(run.id))
    assert "left out (3):" in shown.stdout and f"  L1 (主管一): {TIE}" in shown.stdout

    # a run of part of the company names only the people of that part
    assert run_cli("run", "2026-10", "--department", "WEST").exit_code == 0
    assert [entry["employee"] for entry in last_run(session).left_out] == ["N1"]
    assert run_cli("run", "2026-10", "--template", "rep").exit_code == 0
    assert last_run(session).left_out == []  # nobody is left out of a template they do not have
    only_lead = run_cli("run", "2026-10", "--template", "lead")
    assert "0 without a template, 1 ambiguous" in only_lead.stdout
    assert [entry["employee"] for entry in last_run(session).left_out] == ["L1"]

    # a dry run says it too, and writes nothing
    dry = run_cli("run", "2026-10", "--dry-run")
    assert f"  L1 (主管一): {TIE}" in dry.stderr and last_run(session).scope["templates"] == ["lead"]


def test_the_run_page_and_the_api_name_them_with_links(left_out_company, cli_env, session, tmp_path):
    assert run_cli("run", "2026-10").exit_code == 0
    run = last_run(session)
    ids = dict(session.execute(sa.select(Employee.code, Employee.id)).all())
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    try:
        hr = app.test_client()
        assert sign_in(hr, "hr", PASSWORD).status_code == 302
        token = csrf_token(hr.get("/").get_data(as_text=True))
        hr.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
        page = hr.get(f"/admin/runs/{run.id}").get_data(as_text=True)
        section = re.search(r'<section id="left-out".*?</section>', page, re.S).group(0)
        rows = dict(re.findall(r'<li class="mb-2" data-employee="(\w+)" data-reason="(\w+)">', section))
        assert rows == {"L1": "ambiguous", "N1": "no_template", "M1": "no_template"}
        for code in rows:  # each links to the employee's page in the console
            assert f'href="/admin/employees/details/?id={ids[code]}"' in section
        assert "No template applies to their department (West); they have no role." in section
        assert "No template applies to their department (East) and role (Analyst)." in section
        assert (
            '<a href="/designer/templates/lead">Lead</a>, <a href="/designer/templates/lead_copy">Lead (copy)</a>'
            in (section)
        )
        assert "These templates apply to them equally, so none was chosen" in section
        assert hr.get(f"/admin/employees/details/?id={ids['N1']}").status_code == 200

        audit = app.test_client()
        assert sign_in(audit, "audit", PASSWORD).status_code == 302
        seen = audit.get(f"/admin/runs/{run.id}").get_data(as_text=True)
        assert "<strong>新人一</strong>" in seen and "/admin/employees/details/" not in seen  # not theirs to open

        api = app.test_client()
        headers = {"Authorization": f"Bearer {issue_tokens(['audit'], 'tests')['audit']}"}
        body = api.get(f"/api/v1/runs/{run.id}", headers=headers).json
        assert [(e["employee"], e["reason"], e["templates"]) for e in body["left_out"]] == [
            ("L1", "ambiguous", ["lead", "lead_copy"]),
            ("N1", "no_template", []),
            ("M1", "no_template", []),
        ]
        assert body["left_out"][0]["message"] == TIE and body["left_out"][1]["department"] == "WEST"
    finally:
        app.extensions["perfrules.run_executor"].shutdown(wait=True)
