"""Awards and estimates through the REST API, on the ledger company (test_pay_ledger.py): a
manager asks for an award for a report, HR approves it (not their own), the run pays it; a rep
estimates what more collections would pay them, and sees only their own lines."""

from __future__ import annotations

import pytest

from perfrules.web import create_app

from ..helpers import add_users, issue_tokens, run_cli
from .test_pay_ledger import ledger_company  # noqa: F401  (the fixture)

pytestmark = pytest.mark.database
USERS = {
    "hr1": ("hr", None),
    "hr3": ("hr", "R3"),
    "hr2": ("hr", None),
    "lead": ("manager", "L1"),
    "rep1": ("employee", "R1"),
    "rep4": ("employee", "R4"),
}
AWARD = {"plan": "extras", "component": "special", "period": "2026-11", "amount": "1200.50", "reason": "Acme saved"}


@pytest.fixture
def api(ledger_company, cli_env, tmp_path):
    add_users(((login, *spec) for login, spec in USERS.items()), "s3cret-pass")
    client = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "i"), "TESTING": True}).test_client()
    client.tokens = {login: {"Authorization": f"Bearer {t}"} for login, t in issue_tokens(USERS, "tests").items()}
    return client


def test_a_manager_asks_hr_approves_and_the_run_pays(api):
    asked = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R1"}, headers=api.tokens["lead"])
    assert asked.status_code == 201, asked.json
    assert (asked.json["employee"], asked.json["amount"], asked.json["status"]) == ("R1", "1200.50", "requested")
    number = asked.json["id"]
    # a manager may not ask for someone who is not below them, nor decide
    elsewhere = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R4"}, headers=api.tokens["lead"])
    assert elsewhere.status_code == 422 and "there is no employee 'R4' you may see" in elsewhere.json["message"]
    decide = f"/api/v1/pay/awards/{number}/decision"
    assert api.post(decide, json={"approve": True}, headers=api.tokens["lead"]).status_code == 403
    approved = api.post(decide, json={"approve": True, "note": "yes"}, headers=api.tokens["hr1"])
    assert approved.status_code == 200 and approved.json["decided_by"] == "api:hr1"
    again = api.post(decide, json={"approve": False}, headers=api.tokens["hr2"])
    assert again.status_code == 422 and "already approved" in again.json["message"]
    # HR may not approve what they asked for
    own = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R4"}, headers=api.tokens["hr2"]).json["id"]
    refused = api.post(f"/api/v1/pay/awards/{own}/decision", json={"approve": True}, headers=api.tokens["hr2"])
    assert refused.status_code == 422 and "someone other than the person who asked" in refused.json["message"]
    assert (
        api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R1"}, headers=api.tokens["rep1"]).status_code == 403
    )
    # each sees the awards of the people they may see
    assert [a["employee"] for a in api.get("/api/v1/pay/awards", headers=api.tokens["lead"]).json] == ["R1"]
    assert len(api.get("/api/v1/pay/awards", headers=api.tokens["hr1"]).json) == 2
    assert api.get("/api/v1/pay/awards?status=approved", headers=api.tokens["hr1"]).json[0]["id"] == number
    for month in ("2026-10", "2026-11"):
        assert run_cli("pay", "run", month).exit_code == 0
    lines = api.get("/api/v1/pay/lines?period=2026-11&plan=extras", headers=api.tokens["rep1"]).json
    award = next(line for line in lines if line["kind"] == "award")
    assert award["amount"] == "1200.50" and "Acme saved" in award["explanation"]["en"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "9000"}, "more than the most an award of special may be"),
        ({"amount": "12.345"}, "a cent cannot be split"),
        ({"component": "pool"}, "has no component 'pool' for awards"),
        ({"period": "2026-Q4"}, "pay is run for a month"),
    ],
)
def test_an_award_that_cannot_be_asked_for_says_why(api, change, message):
    refused = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R1", **change}, headers=api.tokens["hr1"])
    assert refused.status_code == 422
    assert message in str(refused.json)


def test_a_rep_estimates_more_collections_and_sees_only_their_own_lines(api):
    mine = api.post(
        "/api/v1/pay/estimates",
        json={"period": "2026-10", "add": [{"employee": "R1", "dataset": "collections", "amount": "50000"}]},
        headers=api.tokens["rep1"],
    )
    assert mine.status_code == 200, mine.json
    assert {(c["component"], c["kind"], c["before"], c["after"]) for c in mine.json["changes"]} == {
        ("commission", "earned", "4000.00", "6500.00"),
        ("commission", "hold", "-800.00", "-1300.00"),
    }
    assert mine.json["total"] == "2000.00"
    other = api.post(
        "/api/v1/pay/estimates",
        json={"period": "2026-10", "add": [{"employee": "R4", "dataset": "collections", "amount": "1"}]},
        headers=api.tokens["rep1"],
    )
    assert other.status_code == 422 and "there is no employee 'R4' you may see" in other.json["message"]
    draft = api.post(
        "/api/v1/pay/estimates", json={"period": "2026-10", "version": "draft"}, headers=api.tokens["rep1"]
    )
    assert draft.status_code == 403
    assert api.get("/api/v1/pay/lines?period=2026-10", headers=api.tokens["hr1"]).json == []  # nothing written


def test_nobody_gives_themselves_an_award_and_a_paid_month_takes_none(api):
    own = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R3"}, headers=api.tokens["hr3"])
    assert own.status_code == 422 and "nobody asks for an award to themselves" in own.json["message"]
    asked = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R3"}, headers=api.tokens["hr1"]).json["id"]
    decided = api.post(f"/api/v1/pay/awards/{asked}/decision", json={"approve": True}, headers=api.tokens["hr3"])
    assert decided.status_code == 422 and "nobody approves or rejects an award to themselves" in decided.json["message"]
    for month in ("2026-10", "2026-11", "2026-12"):
        assert run_cli("pay", "run", month).exit_code == 0
    late = api.post(f"/api/v1/pay/awards/{asked}/decision", json={"approve": True}, headers=api.tokens["hr2"])
    assert late.status_code == 422 and "2026-11 can no longer be paid (2026-12 is already paid)" in late.json["message"]
    closed = api.post("/api/v1/pay/awards", json={**AWARD, "employee": "R1"}, headers=api.tokens["hr1"])
    assert closed.status_code == 422 and "give the award in an open month" in closed.json["message"]
