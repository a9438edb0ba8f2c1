"""Pay through the REST API: HR runs a month; each person reads their own lines, a manager their
reports', HR everyone's (the scenario company of test_pay_runs.py, with its amounts)."""

from __future__ import annotations

import pytest

from perfrules.web import create_app

from ..helpers import add_users, issue_tokens
from .test_pay_runs import paid_company  # noqa: F401  (the fixture)

pytestmark = pytest.mark.database
USERS = {"hr": ("hr", None), "lead": ("manager", "L1"), "rep1": ("employee", "R1"), "rep3": ("employee", "R3")}


@pytest.fixture
def api(paid_company, cli_env, tmp_path):
    add_users(((login, *spec) for login, spec in USERS.items()), "s3cret-pass")
    client = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "i"), "TESTING": True}).test_client()
    client.tokens = {login: {"Authorization": f"Bearer {t}"} for login, t in issue_tokens(USERS, "tests").items()}
    return client


def test_hr_runs_a_month_and_everyone_reads_the_lines_they_may(api):
    hr = api.tokens["hr"]
    dry = api.post("/api/v1/pay/runs", json={"period": "2026-10", "dry_run": True}, headers=hr)
    assert dry.status_code == 201 and dry.json["status"] == "dry_run" and dry.json["id"] is None
    assert api.get("/api/v1/pay/lines?period=2026-10", headers=hr).json == []  # nothing written
    run = api.post("/api/v1/pay/runs", json={"period": "2026-10"}, headers=hr)
    assert run.status_code == 201, run.json
    assert run.json["status"] == "succeeded" and run.json["counts"]["totals"] == {"CNY": "69,811.75"}
    assert [r["id"] for r in api.get("/api/v1/pay/runs", headers=hr).json] == [run.json["id"]]

    mine = api.get("/api/v1/pay/lines?period=2026-10", headers=api.tokens["rep1"]).json
    assert {(line["employee"], line["component"], line["amount"]) for line in mine} == {
        ("R1", "commission", "2400.00"),
        ("R1", "floating", "4472.42"),
        ("R1", "grade_bonus", "1500.00"),
        ("R1", "attainment", "13000.00"),
    }
    assert mine[0]["explanation"]["zh"] and mine[0]["explanation"]["en"]
    lead = api.get("/api/v1/pay/lines?period=2026-10&page_size=100", headers=api.tokens["lead"]).json
    assert {line["employee"] for line in lead} == {"R1", "R2"}  # their reports, not R3 or R4
    everyone = api.get("/api/v1/pay/lines?period=2026-10&page_size=100", headers=hr).json
    assert len(everyone) == 15
    assert api.get("/api/v1/pay/lines?period=2026-10&employee=R3", headers=api.tokens["rep1"]).json == []


def test_who_may_run_and_what_is_refused(api):
    refused = api.post("/api/v1/pay/runs", json={"period": "2026-10"}, headers=api.tokens["rep3"])
    assert refused.status_code == 403
    quarter = api.post("/api/v1/pay/runs", json={"period": "2026-Q4"}, headers=api.tokens["hr"])
    assert quarter.status_code == 422 and quarter.json["errors"][0]["path"] == "json.period"
    unknown = api.post("/api/v1/pay/runs", json={"period": "2026-10", "plan": "nobody"}, headers=api.tokens["hr"])
    assert unknown.status_code == 422 and "there is no plan 'nobody'" in unknown.json["message"]
    assert api.get("/api/v1/pay/runs", headers=api.tokens["rep3"]).status_code == 403
    assert api.get("/api/v1/pay/lines?period=2026-10").status_code == 401
