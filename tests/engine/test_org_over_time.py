"""The engine sees the organisation as it was: who is scored in a period, where, and whose
records count towards which team and department on each day, from the spans of employment.

The company is the scenario's (tests/engine/scenario.py): L1 leads R1 and R2 in EAST, R3 leads R4
in WEST. Every number below is worked out by hand from its deals.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from perfrules.config.versions import resolve
from perfrules.engine.metrics import MetricStats, compute_metrics, metric_specs
from perfrules.engine.people import People
from perfrules.engine.periods import Period
from perfrules.formula import builtin_functions
from perfrules.pay.members import members_of

from ..helpers import run_cli, write

pytestmark = pytest.mark.database

WON = "status == 'won'"
METRICS = {
    "own_sales": {"aggregate": "sum", "field": "amount", "filter": WON},
    "own_customers": {"aggregate": "count_distinct", "field": "customer"},
    "team_sales": {"aggregate": "sum", "field": "amount", "filter": WON, "scope": "team"},
    "team_won": {"aggregate": "count", "filter": WON, "scope": "team"},
    "team_avg": {"aggregate": "avg", "field": "amount", "filter": WON, "scope": "team"},
    "team_min": {"aggregate": "min", "field": "amount", "filter": WON, "scope": "team"},
    "team_max": {"aggregate": "max", "field": "amount", "filter": WON, "scope": "team"},
    "team_customers": {"aggregate": "count_distinct", "field": "customer", "scope": "team"},
    "dept_sales": {"aggregate": "sum", "field": "amount", "filter": WON, "scope": "department"},
    "team_sales_prev": {"aggregate": "sum", "field": "amount", "filter": WON, "scope": "team", "window": "previous"},
}
#: R2 moves from L1's team in EAST to R3's in WEST on 16 October
R2_MOVES = "employees:\n  - {code: R2, name: 销售二, department: WEST, role: rep, manager: R3, hire_date: 2022-01-01}\n"
#: R2 sells 24,000 before the move (30,000 in all with the 6,000 of D5) and 20,000 after, to E, a
#: customer R4, in R3's team since before the move, also sold to
R2_DEALS = """
external_id,owner,closed_on,customer,amount,status
D20,R2,2026-10-10,F,24000,won
D21,R2,2026-10-20,E,20000,won
"""


def compute(session, period: str = "2026-10") -> tuple[dict[str, dict[str, float]], MetricStats]:
    session.rollback()
    config = resolve(session, "latest").config
    metrics = {
        slug: {"slug": slug, "label": {"zh": slug, "en": slug}, "dataset": "deals", **spec}
        for slug, spec in METRICS.items()
    }
    config = {**config, "metrics": metrics}
    people = People.load(session, Period.parse(period))
    specs = metric_specs(config, builtin_functions())
    stats = MetricStats()
    values = compute_metrics(session, config, specs, sorted(specs), people, Period.parse(period), stats)
    return {slug: dict(zip(people.codes, column.tolist())) for slug, column in values.items()}, stats


def move_r2(folder) -> None:
    moved = run_cli("org", "import", write(folder, "move.yaml", R2_MOVES), "--effective", "2026-10-16")
    assert moved.exit_code == 0, moved.output
    dealt = run_cli("data", "import", "deals", write(folder, "more_deals.csv", R2_DEALS))
    assert dealt.exit_code == 0, dealt.output


def test_without_a_change_in_the_window_team_metrics_cost_what_they_did(company, session):
    values, stats = compute(session)
    assert values["team_sales"] == {"L1": 30000, "R1": 24000, "R2": 6000, "R3": 30000, "R4": 30000}
    assert values["team_customers"]["L1"] == 3  # A, B, C
    # one query per window, and one for the team count_distinct, as before there was a history
    assert stats.queries == 3


def test_a_move_mid_month_credits_the_old_team_until_the_move_and_the_new_one_after(company, session):
    move_r2(company)
    values, stats = compute(session)
    # L1: R1's 15,000 + 9,000 and R2's 6,000 + 24,000 before the 16th; R3: R4's 30,000 and R2's 20,000
    assert values["team_sales"] == {"L1": 54000, "R1": 24000, "R2": 50000, "R3": 50000, "R4": 30000}
    assert (values["team_won"]["L1"], values["team_won"]["R3"]) == (4, 2)
    assert (values["team_avg"]["L1"], values["team_avg"]["R3"]) == (13500, 25000)  # 54,000 / 4, 50,000 / 2
    assert (values["team_min"]["L1"], values["team_max"]["L1"]) == (6000, 24000)
    assert (values["team_min"]["R3"], values["team_max"]["R3"]) == (20000, 30000)
    # L1: A, B (R1's and R2's), C and F; R3: E (R4's before the move, R2's after: once) and C (R2's
    # lost deal of the 31st)
    assert (values["team_customers"]["L1"], values["team_customers"]["R3"]) == (4, 2)
    # a department's value counts each day's records towards the department of that day: EAST
    # has 45,000 before the move and 9,000 after; WEST 30,000 before and 50,000 in all; R2 holds
    # EAST's 45,000 while in it and WEST's 20,000 after
    assert values["dept_sales"] == {"L1": 54000, "R1": 54000, "R2": 65000, "R3": 50000, "R4": 50000}
    # own metrics are the owner's whatever their team: R2 has B, C, E and F
    assert (values["own_sales"]["R2"], values["own_customers"]["R2"]) == (50000, 4)
    # September's team sales with September's organisation: R2 had none; R1 12,000 for L1
    assert values["team_sales_prev"] == {"L1": 12000, "R1": 12000, "R2": 0, "R3": 17000, "R4": 10000}
    # the team metrics of October, where the organisation changed, come from one more query
    assert stats.queries == 4


def test_a_leaver_is_scored_for_the_period_they_worked_in_and_their_records_still_count(company, session):
    leaves = "employees:\n  - {code: R1, name: 销售一, department: EAST, role: rep, manager: L1, active: false}\n"
    assert run_cli("org", "import", write(company, "leave.yaml", leaves), "--effective", "2026-10-21").exit_code == 0
    values, _ = compute(session)
    assert values["team_sales"]["L1"] == 30000  # R1's 24,000 of the 3rd and the 20th, R2's 6,000
    assert values["own_sales"]["R1"] == 24000
    november = People.load(session, Period.parse("2026-11"))
    assert "R1" not in november.codes and "R1" in People.load(session, Period.parse("2026-10")).codes
    result = run_cli("run", "2026-10")
    assert "5 scorecards, 0 failed" in result.stdout


def scorecards_json(period: str) -> list[dict]:
    result = run_cli("scorecards", period, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_past_period_rerun_after_moves_and_departures_reproduces_its_scorecards(company, session):
    assert run_cli("run", "2026-10").exit_code == 0
    before = scorecards_json("2026-10")
    later = """
    employees:
      - {code: R2, name: 销售二, department: WEST, role: rep, manager: R3, hire_date: 2022-01-01}
      - {code: R4, name: 销售四, department: WEST, role: rep, manager: R3, hire_date: 2024-01-01, active: false}
      - {code: R1, name: 销售一, department: WEST, role: lead, hire_date: 2021-01-01}
    """
    assert run_cli("org", "import", write(company, "later.yaml", later), "--effective", "2026-11-16").exit_code == 0
    rerun = run_cli("run", "2026-10")
    assert rerun.exit_code == 0, rerun.output
    assert "5 scorecards, 0 failed, 0 without a template, 0 ambiguous" in rerun.stdout
    after = scorecards_json("2026-10")
    assert [card["run"] for card in after] != [card["run"] for card in before]
    assert json.dumps([{**c, "run": None} for c in after], sort_keys=True) == json.dumps(
        [{**c, "run": None} for c in before], sort_keys=True
    )
    # November is scored with November's organisation: R4 left on the 20th, still one of its people
    november = People.load(session, Period.parse("2026-11"))
    r1, r2 = november.position_of("R1"), november.position_of("R2")
    assert r1 is not None and r2 is not None and "R4" in november.codes
    assert november.role_codes[r1] == "lead" and november.department_code(int(november.department_ids[r2])) == "WEST"


def test_pay_members_follow_the_spans_of_the_period_with_the_days_employed(company, session):
    move_r2(company)
    leaves = "employees:\n  - {code: R1, name: 销售一, department: EAST, role: rep, manager: L1, active: false}\n"
    assert run_cli("org", "import", write(company, "leave.yaml", leaves), "--effective", "2026-10-21").exit_code == 0
    october = Period.parse("2026-10")
    people = People.load(session, october)
    east = {"slug": "east", "assign": [{"departments": ["EAST"], "roles": ["rep"]}]}
    west = {"slug": "west", "assign": [{"departments": ["WEST"], "roles": ["rep"]}]}
    days = {m.code: (m.employed_from, m.employed_until) for m in members_of(east, people, october)}
    # R2 was an EAST rep until the move; R1 worked until the 20th
    assert days == {
        "R1": (dt.date(2026, 10, 1), dt.date(2026, 10, 20)),
        "R2": (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    }
    assert [m.code for m in members_of(west, people, october)] == ["R2", "R3", "R4"]
    # an assignment that ends before the move does not take R2 into WEST
    early_west = {"slug": "w", "assign": [{"departments": ["WEST"], "roles": ["rep"], "ends_on": "2026-10-15"}]}
    assert [m.code for m in members_of(early_west, people, october)] == ["R3", "R4"]
    quarter = Period.parse("2026-Q4")
    members = members_of(east, People.load(session, quarter), quarter)
    assert [(m.code, m.employed_from, m.employed_until) for m in members] == [
        ("R1", dt.date(2026, 10, 1), dt.date(2026, 10, 20)),
        ("R2", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ]
