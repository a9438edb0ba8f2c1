"""Five employees, a dozen deals, two templates: every number of every scorecard, worked out by hand.

R1: sales 24,000 against their own target 20,000 → 1.2 → 120 points (cap); won 2 of 3 → 0.667 → band
    100; growth 24,000 / 12,000 − 1 = 1 → clamp(150) = 100; rating 80. Weights: results 70 (60/40)
    → 42 and 28; process 30 (50/50) → 15 and 15. Total 50.4 + 28 + 15 + 12 = 105.4 → S.
R2: 6,000 / 10,000 (the role's 120,000 a year ÷ 12) → 60; won 1 of 4 → 0.25 → 60; growth divides by
    zero (no sales in September) → excluded; no rating → excluded. The process section is empty,
    so results carries 100: 60 × 0.6 + 60 × 0.4 = 60 → C.
R3: no sales → 0 → 0 points; win rate 0/0 → excluded, so attainment carries all 70; growth
    0 / 7,000 − 1 = −1 → 0; rating 90. Total 0 + 0 + 13.5 = 13.5 → D.
R4: 30,000 / 10,000 = 3 → 120 (cap); 1 of 1 → 100; growth 2 → 100; rating 70. Total 103.9 → S.
    (D12 is in November and counts nowhere.)
L1: team sales = L1 + R1 + R2 = 30,000 against EAST's 50,000 → 0.6 → 60 → C. R3 leads R4 but
    R3 is on the rep template, which has no team KPI.
"""

from __future__ import annotations

import pytest

from ..helpers import run_cli, write
from . import scenario
from .scenario import items, scorecards

pytestmark = pytest.mark.database


def test_every_number_of_every_scorecard(company):
    result = run_cli("run", "2026-10")
    assert result.exit_code == 0, result.output
    assert "5 scorecards, 0 failed, 0 without a template, 0 ambiguous" in result.stdout
    cards = scorecards()
    assert set(cards) == {"L1", "R1", "R2", "R3", "R4"}

    expected_totals = {"R1": 105.4, "R2": 60.0, "R3": 13.5, "R4": 103.9, "L1": 60.0}
    for code, total in expected_totals.items():
        card = cards[code]
        assert card["total"] == pytest.approx(total, abs=1e-9), code
        assert card["total"] == pytest.approx(sum(i["points"] or 0 for i in card["items"]), abs=1e-12)
        assert card["period"] == "2026-10" and card["error"] is None
    assert {c: cards[c]["grade"] for c in cards} == {"R1": "S", "R2": "C", "R3": "D", "R4": "S", "L1": "C"}
    assert {c: cards[c]["template"] for c in cards} == {
        "R1": "rep",
        "R2": "rep",
        "R3": "rep",
        "R4": "rep",
        "L1": "lead",
    }
    assert {c: (cards[c]["rank_company"], cards[c]["rank_department"]) for c in cards} == {
        "R1": (1, 1),
        "R4": (2, 1),
        "R2": (3, 2),
        "R3": (4, 2),
        "L1": (1, 1),
    }

    r1 = items(cards["R1"])
    assert (r1["attainment"]["value"], r1["attainment"]["target"], r1["attainment"]["score"]) == (1.2, 20000, 120)
    assert r1["attainment"]["weight"] == pytest.approx(42) and r1["attainment"]["points"] == pytest.approx(50.4)
    assert r1["attainment"]["inputs"] == {"sales": 24000.0, "target.sales": 20000.0}
    assert r1["attainment"]["formula"] == "sales / target.sales"
    assert r1["attainment"]["target_source"] == "employee target, t2026: 2026-10"
    assert r1["win_rate"]["value"] == pytest.approx(2 / 3) and r1["win_rate"]["score"] == 100
    assert r1["win_rate"]["weight"] == pytest.approx(28) and r1["win_rate"]["points"] == pytest.approx(28)
    assert r1["growth"]["value"] == 1.0 and r1["growth"]["score"] == 100 and r1["growth"]["points"] == pytest.approx(15)
    assert r1["growth"]["inputs"] == {"sales": 24000.0, "prev.sales": 12000.0}
    assert (r1["rating"]["value"], r1["rating"]["score"], r1["rating"]["points"]) == (80, 80, pytest.approx(12))

    r2 = items(cards["R2"])
    assert r2["attainment"]["target"] == 10000 and r2["attainment"]["score"] == pytest.approx(60)
    assert (
        r2["attainment"]["target_source"]
        == "role rep default, t2026: 2026 120,000 → 2026-10 10,000 (in proportion to months)"
    )
    assert r2["attainment"]["weight"] == pytest.approx(60) and r2["win_rate"]["weight"] == pytest.approx(40)
    assert r2["win_rate"]["value"] == 0.25 and r2["win_rate"]["score"] == 60
    assert r2["growth"]["excluded"] and r2["growth"]["weight"] == 0 and r2["growth"]["points"] is None
    assert r2["growth"]["notes"] == ["division by zero: sales / prev.sales → excluded by policy, weights re-normalised"]
    assert r2["rating"]["excluded"] and r2["rating"]["notes"] == [
        "no rating yet → excluded by policy, weights re-normalised"
    ]

    r3 = items(cards["R3"])
    assert r3["attainment"]["value"] == 0 and r3["attainment"]["weight"] == pytest.approx(70)
    assert r3["win_rate"]["excluded"]
    assert r3["growth"]["value"] == -1 and r3["growth"]["score"] == 0
    assert r3["rating"]["points"] == pytest.approx(13.5)

    r4 = items(cards["R4"])
    assert r4["attainment"]["value"] == 3.0 and r4["attainment"]["score"] == 120

    l1 = items(cards["L1"])["team_attainment"]
    assert l1["inputs"] == {"team_sales": 30000.0, "target.team_sales": 50000.0}
    assert (l1["value"], l1["score"], l1["weight"], l1["points"]) == (0.6, pytest.approx(60), 100, pytest.approx(60))
    assert l1["target_source"] == "department EAST default, t2026: 2026-10"


def test_a_missing_target_under_policy_fail_fails_the_item_and_the_run_goes_on(company, tmp_path):
    config = scenario.CONFIG.replace(
        "      - {name: team_sales, period: 2026-10, department: EAST, value: 50000}\n", ""
    )
    assert run_cli("config", "load", write(tmp_path, "config.yaml", config)).exit_code == 0
    assert run_cli("config", "publish", "-m", "no team target").exit_code == 0
    result = run_cli("run", "2026-10")
    assert result.exit_code == 0
    assert "5 scorecards, 1 failed" in result.stdout
    assert "L1 / team_attainment: no value (missing-data policy: fail)" in result.stderr
    cards = scorecards()
    assert cards["L1"]["total"] is None and cards["L1"]["grade"] is None and cards["L1"]["rank_company"] is None
    assert cards["L1"]["error"] == "team_attainment: no value (missing-data policy: fail)"
    assert cards["R1"]["total"] == pytest.approx(105.4)
