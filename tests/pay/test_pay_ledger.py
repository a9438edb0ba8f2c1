"""What a month owes beyond the rules, on the scenario company, every amount worked by hand:
holds and their release, clawbacks of refunded commission, recoverable draws, negative months
carried forward, contests, grade pools and manual awards.

Collections (yuan): R1 C1 60,000.00 on 5 Oct (software), C2 20,000.00 on 25 Oct (software),
C3 70,000.00 on 3 Nov (hardware); R2 C4 250,000.00 on 10 Oct (software); R3 C5 999.99 on 31 Oct
(consulting), C7 100,000.00 on 5 Dec; L1 (the lead) C6 5,000.00 on 2 Oct, C8 8,000.00 on 1 Dec.
Refunds: F1 40,000.00 of C4 on 20 Nov; F3 999.99 of C5 on 2 Nov; F5 5,000.00 of C6 on 15 Nov;
F2 10,000.00 of C1 on 10 Dec — 66 days after it, outside the 60-day window.

Plan `reps` (R1–R4): 5 % commission, 20 % of it held for a month, refunds clawed back; a
recoverable draw of 1,000.00 a month, measured against what a month earns (commission less
clawbacks: what holds keep back and releases pay out is the person's own money moved in time).
- October: commission R1 80,000 × 5 % = 4,000.00, R2 12,500.00, R3 999.99 × 5 % = 49.9995 →
  50.00; held R1 −800.00, R2 −2,500.00, R3 −10.00. Earned R3 50.00, R4 0.00: the draw tops R3 up
  by 950.00 and R4 by 1,000.00 (owed: R3 950.00, R4 1,000.00).
- November: R1 C3 3,500.00, held −700.00; October's holds released (R1 800.00, R2 2,500.00,
  R3 10.00); clawed back R2 40,000 × 12,500 ÷ 250,000 = −2,000.00, R3 999.99 × 50 ÷ 999.99 =
  −50.00. Earned R1 3,500.00, R2 −2,000.00, R3 −50.00, R4 0.00: draws R2 3,000.00, R3 1,050.00,
  R4 1,000.00 (owed: R2 3,000.00, R3 2,000.00, R4 2,000.00).
- December: R3 C7 5,000.00, held −1,000.00; November's hold released R1 700.00; F2 is outside
  the window. Earned R1 0.00, R2 0.00, R3 5,000.00, R4 0.00: R3 pays back the 2,000.00 owed
  (5,000 − 1,000 leaves room for 4,000); R1, R2 and R4 draw 1,000.00.

Plan `leads` (L1): 10 % commission, clawed back, no draw. October 500.00; November the whole of
C6 refunded: −500.00, a negative month carried out (+500.00); December C8 800.00 less the −500.00
carried in = 300.00.

Plan `extras` (R1–R4): a contest from 1 Oct to 15 Nov, 800.00 per software collection, at most
1,500.00 a person, a budget of 2,000.00: R1 2 × 800 = 1,600 → 1,500.00, R2 800.00; 2,300.00 over
2,000.00 → R1 1,500 × 2,000 ÷ 2,300 = 1,304.347…, R2 695.652… → 1,304.34 + 695.65 = 1,999.99, the
cent left to the larger remainder (R1): 1,304.35 and 695.65, paid in November. A grade pool of
10,000.00 a month by coefficient (October grades R1 S 1.5, R2 C 0.5, R3 D 0, R4 S 1.5: 3.5 in
all): R1 4,285.714… R4 4,285.714… R2 1,428.571…, R3 0 → 4,285.71 + 4,285.71 + 1,428.57 =
9,999.99, the cent to R1 (a tie with R4, broken by code). Awards, most 5,000.00 each. A sales
bonus by formula, MIN(sales × 0.035, 1,000) + 500 above the target: October R1 24,000 against
20,000 → 840.00 + 500 = 1,340.00; R2 6,000 against 10,000 → 210.00; R3 0.00; R4 30,000 against
10,000 → 1,000.00 + 500 = 1,500.00.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.pay.models import PayAward

from ..helpers import run_cli, starting_state, write

pytestmark = pytest.mark.database

LEDGER_CONFIG = """
datasets:
  - slug: collections
    label: {zh: 回款, en: Collections}
    owner_field: owner
    date_field: received_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: received_on, label: {zh: 回款日期, en: Received on}, type: date, required: true}
      - {name: amount, label: {zh: 回款金额, en: Amount collected}, type: money, currency: CNY, required: true}
      - {name: product, label: {zh: 产品, en: Product}, type: text}
  - slug: refunds
    label: {zh: 退款, en: Refunds}
    owner_field: owner
    date_field: refunded_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: refunded_on, label: {zh: 退款日期, en: Refunded on}, type: date, required: true}
      - {name: payment, label: {zh: 原回款, en: Payment refunded}, type: text, required: true}
      - {name: amount, label: {zh: 退款金额, en: Amount refunded}, type: money, currency: CNY, required: true}
  - slug: opportunities
    label: {zh: 销售机会, en: Opportunities}
    owner_field: owner
    date_field: created_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: created_on, label: {zh: 创建日期, en: Created on}, type: date, required: true}
      - name: stage
        label: {zh: 阶段, en: Stage}
        type: choice
        required: true
        options:
          - {value: qualified, label: {zh: 已确认需求, en: Qualified}}
          - {value: proposal, label: {zh: 方案报价, en: Proposal}}
          - {value: negotiation, label: {zh: 商务谈判, en: Negotiation}}
          - {value: won, label: {zh: 赢单, en: Won}}
      - {name: amount, label: {zh: 预计金额, en: Expected amount}, type: money, currency: CNY}
      - {name: expected_close, label: {zh: 预计成交日期, en: Expected close}, type: date}
plans:
  - slug: reps
    label: {zh: 销售激励, en: Rep pay}
    assign: [{departments: [SALES], roles: [rep]}]
    parameters: {draw: 1000}
    draw: {amount: draw, recoverable: true}
    components:
      - slug: commission
        label: {zh: 回款提成, en: Commission}
        frequency: monthly
        base: {records: collections, amount: amount}
        rule: {kind: flat, percent: 5}
        hold: {percent: 20, months: 1}
        clawback: {records: refunds, amount: amount, refers_to: payment, lookback_days: 60}
  - slug: quarterly
    label: {zh: 季度提成, en: Quarterly commission}
    assign: [{departments: [SALES], roles: [rep]}]
    components:
      - slug: commission
        label: {zh: 季度回款提成, en: Quarterly commission}
        frequency: quarterly
        base: {records: collections, amount: amount}
        rule: {kind: flat, percent: 5}
        clawback: {records: refunds, amount: amount, refers_to: payment, lookback_days: 60}
  - slug: leads
    label: {zh: 主管激励, en: Lead pay}
    assign: [{roles: [lead]}]
    components:
      - slug: commission
        label: {zh: 回款提成, en: Commission}
        frequency: monthly
        base: {records: collections, amount: amount}
        rule: {kind: flat, percent: 10}
        clawback: {records: refunds, amount: amount, refers_to: payment, lookback_days: 60}
  - slug: extras
    label: {zh: 额外奖励, en: Extras}
    assign: [{departments: [SALES], roles: [rep]}]
    parameters: {cap: 1000}
    components:
      - slug: sales_bonus
        label: {zh: 销售奖金, en: Sales bonus}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: formula, formula: "MIN(value * 0.035, cap) + IF(value > COALESCE(target, value), 500, 0)"}
      - slug: spiff
        label: {zh: 软件冲刺赛, en: Software sprint}
        base: {records: collections, amount: amount, filter: "product == 'software'"}
        rule: {kind: contest, starts_on: 2026-10-01, ends_on: 2026-11-15, per_record: 800, per_person: 1500,
               budget: 2000}
      - slug: pool
        label: {zh: 等级奖金池, en: Grade pool}
        frequency: monthly
        base: {scorecard: rep}
        rule: {kind: grade, pool: 10000, coefficients: {S: 1.5, A: 1.2, B: 1, C: 0.5, D: 0}}
      - slug: special
        label: {zh: 特别奖, en: Special award}
        frequency: monthly
        base: {manual: true}
        rule: {kind: award, most: 5000}
"""
COLLECTIONS = """
external_id,owner,received_on,amount,product
C1,R1,2026-10-05,60000,software
C2,R1,2026-10-25,20000,software
C3,R1,2026-11-03,70000,hardware
C4,R2,2026-10-10,250000,software
C5,R3,2026-10-31,999.99,consulting
C6,L1,2026-10-02,5000,software
C7,R3,2026-12-05,100000,hardware
C8,L1,2026-12-01,8000,hardware
"""
REFUNDS = """
external_id,owner,refunded_on,payment,amount
F1,R2,2026-11-20,C4,40000
F3,R3,2026-11-02,C5,999.99
F5,L1,2026-11-15,C6,5000
F2,R1,2026-12-10,C1,10000
"""
OPPORTUNITIES = """
external_id,owner,created_on,stage,amount,expected_close
O1,R1,2026-09-01,proposal,100000,2026-10-20
O2,R1,2026-09-02,negotiation,50000,2026-11-05
O3,R2,2026-09-03,won,80000,2026-10-01
O4,R4,2026-09-04,qualified,20000,2026-10-30
"""


def _ledger(folder: Path) -> None:
    loaded = run_cli("config", "load", write(folder, "ledger.yaml", LEDGER_CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "ledger").exit_code == 0
    for dataset, text in (("collections", COLLECTIONS), ("refunds", REFUNDS), ("opportunities", OPPORTUNITIES)):
        imported = run_cli("data", "import", dataset, write(folder, f"{dataset}.csv", text))
        assert imported.exit_code == 0, imported.output
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_ledger, parent="company")
def ledger_company(company):
    """The scenario company with the plans above, collections, refunds and 2026-10 evaluated."""
    return company


def month_lines(session, month: str) -> dict[tuple[str, str, str, str], D]:
    """(employee, plan, component, kind) → amount of the month's lines."""
    session.rollback()
    rows = session.execute(
        sa.text(
            "SELECT e.code, l.plan, l.component, l.kind, l.amount_minor FROM pay_lines l "
            "JOIN employees e ON e.id = l.employee_id WHERE l.period = :month"
        ),
        {"month": month},
    )
    return {(code, plan, component, kind): D(minor) / 100 for code, plan, component, kind, minor in rows}


def as_dict(value: object) -> dict:
    """A JSON column as read by raw SQL: a dict on PostgreSQL, text on SQLite."""
    return value if isinstance(value, dict) else json.loads(value)


def pay(month: str) -> str:
    result = run_cli("pay", "run", month)
    assert result.exit_code == 0, result.output
    return result.output


def test_holds_clawbacks_and_a_recoverable_draw_month_after_month(ledger_company, session):
    pay("2026-10")
    october = month_lines(session, "2026-10")
    reps = {key: value for key, value in october.items() if key[1] == "reps"}
    assert reps == {
        ("R1", "reps", "commission", "earned"): D("4000.00"),
        ("R1", "reps", "commission", "hold"): D("-800.00"),
        ("R2", "reps", "commission", "earned"): D("12500.00"),
        ("R2", "reps", "commission", "hold"): D("-2500.00"),
        ("R3", "reps", "commission", "earned"): D("50.00"),
        ("R3", "reps", "commission", "hold"): D("-10.00"),
        ("R3", "reps", "", "draw"): D("950.00"),
        ("R4", "reps", "", "draw"): D("1000.00"),
    }
    pay("2026-11")
    november = {key: value for key, value in month_lines(session, "2026-11").items() if key[1] == "reps"}
    assert november == {
        ("R1", "reps", "commission", "earned"): D("3500.00"),
        ("R1", "reps", "commission", "hold"): D("-700.00"),
        ("R1", "reps", "commission", "release"): D("800.00"),
        ("R2", "reps", "commission", "release"): D("2500.00"),
        ("R2", "reps", "commission", "clawback"): D("-2000.00"),
        ("R2", "reps", "", "draw"): D("3000.00"),
        ("R3", "reps", "commission", "release"): D("10.00"),
        ("R3", "reps", "commission", "clawback"): D("-50.00"),
        ("R3", "reps", "", "draw"): D("1050.00"),
        ("R4", "reps", "", "draw"): D("1000.00"),
    }
    pay("2026-12")
    december = {key: value for key, value in month_lines(session, "2026-12").items() if key[1] == "reps"}
    assert december == {
        ("R1", "reps", "commission", "release"): D("700.00"),
        ("R1", "reps", "", "draw"): D("1000.00"),
        ("R2", "reps", "", "draw"): D("1000.00"),
        ("R3", "reps", "commission", "earned"): D("5000.00"),
        ("R3", "reps", "commission", "hold"): D("-1000.00"),
        ("R3", "reps", "", "recovery"): D("-2000.00"),
        ("R4", "reps", "", "draw"): D("1000.00"),
    }
    # what each month earns, with the draw, is at least the draw; holds and releases aside
    for month in (reps, november, december):
        for code in ("R1", "R2", "R3", "R4"):
            earned = sum(v for k, v in month.items() if k[0] == code and k[3] not in ("hold", "release"))
            assert earned >= D("1000.00")


def test_a_clawback_is_a_new_line_linked_to_the_line_it_takes_back_from(ledger_company, session):
    pay("2026-10")
    pay("2026-11")
    session.rollback()
    rows = session.execute(
        sa.text(
            "SELECT c.explanation, c.reference, o.period, o.kind, o.amount_minor, c.source FROM pay_lines c "
            "JOIN pay_lines o ON o.id = c.original_line_id JOIN employees e ON e.id = c.employee_id "
            "WHERE c.kind = 'clawback' AND c.plan = 'reps' AND e.code = 'R2'"
        )
    ).one()
    explanation = as_dict(rows[0])
    assert explanation["en"] == (
        "40,000.00 refunded (F1) × 12,500.00 paid ÷ 250,000.00 credited in 2026-10 = 2,000.00 taken back"
    )
    assert rows[1:5] == ("2026-10", "2026-10", "earned", 1250000)
    # the refund is the clawback's credit, negative; October's line is untouched
    credits = session.execute(
        sa.text(
            "SELECT r.external_id, pc.amount_minor FROM pay_credits pc JOIN records r ON r.id = pc.record_id "
            "JOIN pay_lines l ON l.id = pc.line_id WHERE l.kind = 'clawback' AND l.plan = 'reps' ORDER BY 1"
        )
    ).all()
    assert [tuple(row) for row in credits] == [("F1", -4000000), ("F3", -99999)]
    assert month_lines(session, "2026-10")[("R2", "reps", "commission", "earned")] == D("12500.00")


def test_a_negative_month_carries_forward_to_the_next(ledger_company, session):
    for month in ("2026-10", "2026-11", "2026-12"):
        pay(month)
    leads = {
        (month, key[2], key[3]): value
        for month in ("2026-10", "2026-11", "2026-12")
        for key, value in month_lines(session, month).items()
        if key[1] == "leads"
    }
    assert leads == {
        ("2026-10", "commission", "earned"): D("500.00"),
        ("2026-11", "commission", "clawback"): D("-500.00"),
        ("2026-11", "", "carried_out"): D("500.00"),
        ("2026-12", "commission", "earned"): D("800.00"),
        ("2026-12", "", "carried_in"): D("-500.00"),
    }


def test_a_contest_shares_its_budget_and_a_pool_is_paid_to_the_cent(ledger_company, session):
    pay("2026-10")
    october = month_lines(session, "2026-10")
    assert {k[0]: v for k, v in october.items() if k[2] == "pool"} == {
        "R1": D("4285.72"),
        "R2": D("1428.57"),
        "R3": D("0.00"),
        "R4": D("4285.71"),
    }
    assert not [k for k in october if k[2] == "spiff"]  # paid in the month it ends
    pay("2026-11")
    november = month_lines(session, "2026-11")
    assert {k[0]: v for k, v in november.items() if k[2] == "spiff"} == {"R1": D("1304.35"), "R2": D("695.65")}
    session.rollback()
    (explanation,) = session.execute(
        sa.text(
            "SELECT l.explanation FROM pay_lines l JOIN employees e ON e.id = l.employee_id "
            "WHERE l.component = 'spiff' AND e.code = 'R1'"
        )
    ).one()
    explanation = as_dict(explanation)
    assert explanation["en"] == (
        "2 qualifying records from 2026-10-01 to 2026-11-15 × 800.00 = 1,600.00, at most 1,500.00 a person; "
        "the prizes come to 2,300.00, over the budget of 2,000.00: 1,500.00 × 2,000.00 ÷ 2,300.00 = 1,304.35"
    )


def _as(actor: str, *args: object):
    os.environ["PERFRULES_ACTOR"] = actor
    try:
        return run_cli(*args)
    finally:
        del os.environ["PERFRULES_ACTOR"]


def test_an_award_is_paid_once_someone_else_approves_it(ledger_company, session):
    ask = ("pay", "award", "request", "--plan", "extras", "--component", "special", "--month", "2026-11")
    asked = _as("hr1", *ask, "R4", "3000", "--reason", "saved the Acme renewal")
    assert asked.exit_code == 0, asked.output
    assert "award 1 of 3000 to R4 in 2026-11 asked for" in asked.output
    for same_person in ("hr1", "web:hr1", "api:hr1"):  # whichever door they come through
        refused = _as(same_person, "pay", "award", "approve", "1")
        assert refused.exit_code != 0
        assert "approved or rejected by someone other than the person who asked" in refused.output
    pay("2026-10")
    pay("2026-11")
    assert ("R4", "extras", "special", "award") not in month_lines(session, "2026-11")  # not yet approved
    approved = _as("hr2", "pay", "award", "approve", "1", "--note", "well earned")
    assert approved.exit_code == 0, approved.output
    assert _as("hr3", "pay", "award", "reject", "1", "--note", "no").exit_code != 0  # decided once
    pay("2026-11")
    assert month_lines(session, "2026-11")[("R4", "extras", "special", "award")] == D("3000.00")
    session.rollback()
    award = session.scalars(sa.select(PayAward)).one()
    assert (award.status, award.requested_by, award.decided_by) == ("approved", "hr1", "hr2")
    actions = session.scalars(sa.text("SELECT action FROM audit_log WHERE kind = 'pay_awards' ORDER BY id")).all()
    assert actions == ["pay.award.request", "pay.award.approved"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("R4", "5000.01", "--reason", "x"), "more than the most an award of special may be (5,000.00)"),
        (("R4", "0", "--reason", "x"), "the amount must be more than 0"),
        (("R4", "10.005", "--reason", "x"), "a cent cannot be split"),
        (("R4", "100", "--reason", "  "), "an award needs a reason"),
        (("L1", "100", "--reason", "x"), "L1 is not in the plan extras in 2026-11"),
        (("NOBODY", "100", "--reason", "x"), "there is no employee 'NOBODY'"),
    ],
)
def test_an_award_that_cannot_be_given_says_why(ledger_company, arguments, message):
    ask = ("pay", "award", "request", "--plan", "extras", "--component", "special", "--month", "2026-11")
    result = _as("hr1", *ask, *arguments)
    assert result.exit_code != 0
    assert message in result.output


def test_an_award_goes_only_to_a_component_that_takes_awards(ledger_company):
    result = _as(
        "hr1",
        "pay",
        "award",
        "request",
        "--plan",
        "extras",
        "--component",
        "pool",
        "--month",
        "2026-11",
        "R4",
        "100",
        "--reason",
        "x",
    )
    assert result.exit_code != 0
    assert "extras has no component 'pool' for awards (the ones that take awards: special)" in result.output


def test_months_are_paid_in_order_and_the_latest_reruns_to_the_byte(ledger_company, session, tmp_path):
    pay("2026-10")
    pay("2026-11")
    first = run_cli("pay", "lines", "2026-11", "-o", tmp_path / "first.json")
    assert first.exit_code == 0, first.output
    pay("2026-11")
    assert run_cli("pay", "lines", "2026-11", "-o", tmp_path / "second.json").exit_code == 0
    assert (tmp_path / "first.json").read_bytes() == (tmp_path / "second.json").read_bytes()
    again = run_cli("pay", "run", "2026-10")
    assert again.exit_code != 0
    assert "2026-11 is already paid: months are paid in order" in again.output
    assert month_lines(session, "2026-10")  # October's lines are still there, untouched


def test_a_refund_of_a_record_that_does_not_exist_stops_the_run(ledger_company, session, tmp_path):
    bad = "external_id,owner,refunded_on,payment,amount\nF9,R1,2026-10-20,C404,100\n"
    assert run_cli("data", "import", "refunds", write(tmp_path, "bad.csv", bad)).exit_code == 0
    result = run_cli("pay", "run", "2026-10")
    assert result.exit_code != 0
    assert "refund F9 of refunds refers to collections record 'C404', which does not exist" in result.output
    assert month_lines(session, "2026-10") == {}


def test_a_formula_component_is_computed_exactly_and_explained(ledger_company, session):
    pay("2026-10")
    october = month_lines(session, "2026-10")
    assert {k[0]: v for k, v in october.items() if k[2] == "sales_bonus"} == {
        "R1": D("1340.00"),
        "R2": D("210.00"),
        "R3": D("0.00"),
        "R4": D("1500.00"),
    }
    session.rollback()
    (explanation,) = session.execute(
        sa.text(
            "SELECT l.explanation FROM pay_lines l JOIN employees e ON e.id = l.employee_id "
            "WHERE l.component = 'sales_bonus' AND e.code = 'R1'"
        )
    ).one()
    explanation = as_dict(explanation)
    assert explanation["en"] == (
        "MIN(value * 0.035, cap) + IF(value > COALESCE(target, value), 500, 0) with value = 24,000.00, "
        "cap = 1,000.00, target = 20,000.00 = 1,340.00"
    )


def test_a_carried_amount_waits_for_the_next_month_paid_even_when_a_month_is_skipped(ledger_company, session):
    """L1's November comes to −500.00 and is carried out; December is never paid; January carries
    the −500.00 in and, with nothing earned, out again."""
    for month in ("2026-10", "2026-11", "2027-01"):
        pay(month)
    january = {(k[2], k[3]): v for k, v in month_lines(session, "2027-01").items() if k[1] == "leads"}
    assert january == {("", "carried_in"): D("-500.00"), ("", "carried_out"): D("500.00")}


def test_a_refund_before_its_commission_is_paid_waits_for_it(ledger_company, session):
    """Plan `quarterly` pays 5 % of the quarter's collections in December. F1 (40,000.00 of C4, on
    20 November) and F3 (999.99 of C5, on 2 November) come before anything is paid on their
    records: they wait, and December takes them back beside the quarter's lines — R2 250,000.00 →
    12,500.00 less 40,000 × 12,500 ÷ 250,000 = 2,000.00; R3 100,999.99 (C5 and C7) → 5,049.9995 →
    5,050.00, less 999.99 × 5,050.00 ÷ 100,999.99 = 49.9995… → 50.00. R1's F2 is 66 days after
    C1, outside the window: R1 keeps 150,000.00 × 5 % = 7,500.00."""
    for month in ("2026-10", "2026-11", "2026-12"):
        pay(month)
    quarterly = {
        (month, code, kind): amount
        for month in ("2026-10", "2026-11", "2026-12")
        for (code, plan, _, kind), amount in month_lines(session, month).items()
        if plan == "quarterly"
    }
    assert quarterly == {
        ("2026-12", "R1", "earned"): D("7500.00"),
        ("2026-12", "R2", "earned"): D("12500.00"),
        ("2026-12", "R2", "clawback"): D("-2000.00"),
        ("2026-12", "R3", "earned"): D("5050.00"),
        ("2026-12", "R3", "clawback"): D("-50.00"),
    }


def test_a_hold_is_paid_out_as_it_was_held_after_the_plan_changes(ledger_company, session, tmp_path):
    """October holds back R1 800.00 for a month; a new version drops holds from the plan before
    November: the 800.00 is still paid out in November, and November holds nothing back."""
    pay("2026-10")
    changed = LEDGER_CONFIG.replace("        hold: {percent: 20, months: 1}\n", "")
    assert changed != LEDGER_CONFIG
    assert run_cli("config", "load", write(tmp_path, "nohold.yaml", changed)).exit_code == 0
    assert run_cli("config", "publish", "-m", "no more holds").exit_code == 0
    pay("2026-11")
    november = month_lines(session, "2026-11")
    assert november[("R1", "reps", "commission", "release")] == D("800.00")
    assert ("R1", "reps", "commission", "hold") not in november


def test_an_approved_award_no_run_has_paid_can_be_withdrawn(ledger_company, session):
    ask = ("pay", "award", "request", "--plan", "extras", "--component", "special", "--month", "2026-11")
    assert _as("hr1", *ask, "R4", "3000", "--reason", "saved the Acme renewal").exit_code == 0
    assert _as("hr1", "pay", "award", "withdraw", "1", "--note", "x").exit_code != 0  # not approved yet
    assert _as("hr2", "pay", "award", "approve", "1").exit_code == 0
    withdrawn = _as("hr2", "pay", "award", "withdraw", "1", "--note", "R4 moved to another plan")
    assert withdrawn.exit_code == 0, withdrawn.output
    pay("2026-10")
    pay("2026-11")
    assert ("R4", "extras", "special", "award") not in month_lines(session, "2026-11")
    assert _as("hr1", *ask, "R4", "100", "--reason", "again").exit_code == 0
    assert _as("hr2", "pay", "award", "approve", "2").exit_code == 0
    pay("2026-11")
    refused = _as("hr2", "pay", "award", "withdraw", "2", "--note", "too late")
    assert refused.exit_code != 0 and "was paid by the run of 2026-11" in refused.output
