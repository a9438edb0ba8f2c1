"""What-if estimates on the ledger company (see test_pay_ledger.py for its October by hand):
nothing is written, and each change is worked by hand.

- R1 collecting 50,000 more in October: commission 4,000.00 → 6,500.00, held −800.00 → −1,300.00:
  +2,000.00. R4 collecting 10,000 more: commission 500.00, so the draw tops 500.00 up to 1,000.00
  instead of 0.00; held −100.00: R4 is paid 100.00 less this month (and the 100.00 later).
- The open pipeline closing in October (proposal 50 %, qualified 20 %): R1's O1 100,000 × 50 % =
  50,000.00, as above; R4's O4 20,000 × 20 % = 4,000.00 → commission 200.00, held −40.00, draw
  1,000.00 → 800.00. O2 closes in November; O3 is won, not open.
- A draft paying 6 %: R1 4,800.00 (held −960.00), R2 15,000.00 (held −3,000.00), R3 999.99 × 6 % =
  59.9994 → 60.00 (held −12.00; the draw tops 60.00 up with 940.00 instead of 950.00).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ..helpers import run_cli, write
from .test_pay_ledger import LEDGER_CONFIG, ledger_company  # noqa: F401 - the fixture

pytestmark = pytest.mark.database


def estimate(*args: object) -> dict:
    result = run_cli("pay", "estimate", "2026-10", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def changes(found: dict) -> dict[tuple[str, str, str], tuple[str | None, str | None]]:
    return {(c["employee"], c["component"], c["kind"]): (c["before"], c["after"]) for c in found["changes"]}


def test_what_if_a_rep_collects_more(ledger_company, session):
    found = estimate("--add", "R1:collections=50000", "--add", "R4:collections=10,000.00")
    assert changes(found) == {
        ("R1", "commission", "earned"): ("4000.00", "6500.00"),
        ("R1", "commission", "hold"): ("-800.00", "-1300.00"),
        ("R4", "commission", "earned"): (None, "500.00"),
        ("R4", "commission", "hold"): (None, "-100.00"),
        ("R4", "", "draw"): ("1000.00", "500.00"),
    }
    assert found["by_employee"] == {"R1": "2000.00", "R4": "-100.00"}
    assert found["total"] == "1900.00"
    assert found["assumptions"] == ["R1: 50000 more in collections", "R4: 10,000.00 more in collections"]
    session.rollback()
    assert session.scalar(sa.text("SELECT count(*) FROM pay_lines")) == 0  # nothing written
    text = run_cli("pay", "estimate", "2026-10", "--add", "R1:collections=50000")
    assert "R1\treps.commission\t4,000.00 → 6,500.00\t(+2,500.00)\t" in text.stdout
    assert "in all +2,000.00" in text.stdout


def test_a_forecast_from_the_open_pipeline_goes_through_the_real_rules(ledger_company):
    found = estimate(
        "--pipeline",
        "opportunities",
        "--probability",
        "qualified=20",
        "--probability",
        "proposal=50",
        "--probability",
        "negotiation=80",
        "--into",
        "collections",
        "--closes",
        "expected_close",
    )
    assert found["assumptions"] == [
        "R1: 50,000.00 expected from 1 open opportunities",
        "R4: 4,000.00 expected from 1 open opportunities",
    ]
    assert changes(found) == {
        ("R1", "commission", "earned"): ("4000.00", "6500.00"),
        ("R1", "commission", "hold"): ("-800.00", "-1300.00"),
        ("R4", "commission", "earned"): (None, "200.00"),
        ("R4", "commission", "hold"): (None, "-40.00"),
        ("R4", "", "draw"): ("1000.00", "800.00"),
    }


def test_a_draft_plan_replayed_beside_the_published_one(ledger_company, tmp_path):
    draft = LEDGER_CONFIG.replace("rule: {kind: flat, percent: 5}", "rule: {kind: flat, percent: 6}")
    assert run_cli("config", "load", write(tmp_path, "draft.yaml", draft)).exit_code == 0
    found = estimate("--version", "draft", "--against", "latest", "--plan", "reps")
    assert changes(found) == {
        ("R1", "commission", "earned"): ("4000.00", "4800.00"),
        ("R1", "commission", "hold"): ("-800.00", "-960.00"),
        ("R2", "commission", "earned"): ("12500.00", "15000.00"),
        ("R2", "commission", "hold"): ("-2500.00", "-3000.00"),
        ("R3", "commission", "earned"): ("50.00", "60.00"),
        ("R3", "commission", "hold"): ("-10.00", "-12.00"),
        ("R3", "", "draw"): ("950.00", "940.00"),
    }
    assert found["by_employee"] == {"R1": "640.00", "R2": "2000.00", "R3": "-2.00"}
    assert (found["before"], found["after"]) == ("version 2", "draft")
    refused = run_cli("pay", "run", "2026-10", "--version", "draft")
    assert refused.exit_code != 0 and "estimate with the draft instead" in refused.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--add", "R1=50000"), "is not EMPLOYEE:DATASET=AMOUNT"),
        (("--add", "R1:colections=5"), "no plan pays on 'colections' (the ones that do: collections)"),
        (("--add", "NOBODY:collections=5"), "there is no employee 'NOBODY'"),
        (("--add", "R1:collections=1.005"), "a cent cannot be split"),
        (("--pipeline", "opportunities"), "give each open stage's probability"),
        (("--pipeline", "opportunities", "--probability", "proposal=150"), "is not STAGE=PERCENT"),
    ],
)
def test_an_estimate_that_cannot_be_made_says_why(ledger_company, arguments, message):
    result = run_cli("pay", "estimate", "2026-10", *arguments)
    assert result.exit_code != 0
    assert message in result.output
