"""Pay runs on the scenario company (tests/engine/scenario.py), every amount worked by hand.

Collections (money, in yuan): R1 60,000.00 on 5 Oct and 20,000.00 on 25 Oct, 70,000.00 on 3 Nov;
R2 250,000.00 on 10 Oct; R3 999.99 on 31 Oct; L1 (a lead, in no plan) 5,000.00 on 2 Oct.

- commission, tiers 3 % from 0, 5 % from 100,000, 8 % from 200,000, marginal over the quarter:
  October: R1 80,000 × 3 % = 2,400.00; R2 100,000 × 3 % + 100,000 × 5 % + 50,000 × 8 % = 12,000.00;
  R3 999.99 × 3 % = 29.9997 → 30.00 (rounded once, half up). November: R1's quarter so far
  150,000 → 3,000 + 2,500 = 5,500.00, less the 2,400.00 paid on October's 80,000 = 3,100.00.
- floating pay, 3,000 (R4: 3,600) × score ÷ the company's average of the rep scorecards
  (105.4 + 60 + 13.5 + 103.9) ÷ 4 = 70.7: R1 4,472.42; R2 2,545.97; R3 572.84; R4 5,290.52.
- grade bonus 1,000 × S 1.5, C 0.5, D 0: R1 1,500.00; R2 500.00; R3 0.00; R4 1,500.00.
- attainment bonus 10,000 against the sales target, gate 50 %, 1.5 × above 100 %, cap 200 %:
  R1 24,000 ÷ 20,000 = 120 % → 13,000.00; R2 6,000 ÷ 10,000 = 60 % → 6,000.00; R3 0 % → 0.00;
  R4 300 % → capped at 200 % → 20,000.00.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from perfrules.audit import AuditEntry
from perfrules.pay.models import PayCredit, PayLine, PayRun

from ..helpers import run_cli, starting_state, write

pytestmark = pytest.mark.database

PAY_CONFIG = """
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
plans:
  - slug: reps
    label: {zh: 销售激励, en: Rep pay}
    assign: [{departments: [SALES], roles: [rep]}]
    parameters: {floating_base: 3000, bonus: 1000, target_bonus: 10000}
    people: {R4: {floating_base: 3600}}
    components:
      - slug: commission
        label: {zh: 回款提成, en: Commission}
        frequency: monthly
        base: {records: collections, amount: amount}
        rule: {kind: tiered, mode: marginal, over: quarterly,
               tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}, {from: 200000, percent: 8}]}
      - slug: floating
        label: {zh: 浮动工资, en: Floating pay}
        frequency: monthly
        base: {scorecard: rep}
        rule: {kind: floating, amount: floating_base, scope: company}
      - slug: grade_bonus
        label: {zh: 等级奖金, en: Grade bonus}
        frequency: monthly
        base: {scorecard: rep}
        rule: {kind: grade, amount: bonus, coefficients: {S: 1.5, A: 1.2, B: 1, C: 0.5, D: 0}}
      - slug: attainment
        label: {zh: 达成奖金, en: Attainment bonus}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: attainment, target_pay: target_bonus, gate: 50, accelerator: 1.5, cap: 200}
"""
COLLECTIONS = """
external_id,owner,received_on,amount,product
C1,R1,2026-10-05,"60,000.00",software
C2,R1,2026-10-25,20000,software
C3,R1,2026-11-03,70000,hardware
C4,R2,2026-10-10,250000,software
C5,R3,2026-10-31,999.99,-consulting
C6,L1,2026-10-02,5000,software
"""


def _plans(folder: Path) -> None:
    loaded = run_cli("config", "load", write(folder, "pay.yaml", PAY_CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "pay").exit_code == 0
    imported = run_cli("data", "import", "collections", write(folder, "collections.csv", COLLECTIONS))
    assert imported.exit_code == 0, imported.output
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_plans, parent="company")
def paid_company(company):
    """The scenario company with the plan `reps`, collections and 2026-10 evaluated; its folder."""
    return company


def lines(session, month: str) -> dict[tuple[str, str], D]:
    session.rollback()
    rows = session.execute(
        sa.text(
            "SELECT e.code, l.component, l.amount_minor FROM pay_lines l JOIN employees e ON e.id = l.employee_id "
            "WHERE l.period = :month"
        ),
        {"month": month},
    )
    return {(code, component): D(minor) / 100 for code, component, minor in rows}


def test_every_amount_of_a_month_worked_by_hand(paid_company, session):
    result = run_cli("pay", "run", "2026-10")
    assert result.exit_code == 0, result.output
    assert "with version 2: 15 lines for 4 employees; CNY 69,811.75" in result.output
    assert lines(session, "2026-10") == {
        ("R1", "commission"): D("2400.00"),
        ("R2", "commission"): D("12000.00"),
        ("R3", "commission"): D("30.00"),
        ("R1", "floating"): D("4472.42"),
        ("R2", "floating"): D("2545.97"),
        ("R3", "floating"): D("572.84"),
        ("R4", "floating"): D("5290.52"),
        ("R1", "grade_bonus"): D("1500.00"),
        ("R2", "grade_bonus"): D("500.00"),
        ("R3", "grade_bonus"): D("0.00"),
        ("R4", "grade_bonus"): D("1500.00"),
        ("R1", "attainment"): D("13000.00"),
        ("R2", "attainment"): D("6000.00"),
        ("R3", "attainment"): D("0.00"),
        ("R4", "attainment"): D("20000.00"),
    }
    run = session.scalars(sa.select(PayRun)).one()
    assert (run.status, run.version_number, run.counts["totals"]) == ("succeeded", 2, {"CNY": "69,811.75"})
    assert session.scalar(sa.select(AuditEntry.action).where(AuditEntry.kind == "pay_runs")) == "pay.run"


def test_tiers_accumulate_over_the_quarter_and_each_line_keeps_its_records(paid_company, session):
    assert run_cli("pay", "run", "2026-10").exit_code == 0
    assert run_cli("pay", "run", "2026-11").exit_code == 0
    november = lines(session, "2026-11")
    assert november[("R1", "commission")] == D("3100.00")
    assert ("R2", "commission") not in november  # nothing collected in November: nothing due
    line = session.scalar(sa.select(PayLine).where(PayLine.period == "2026-11", PayLine.component == "commission"))
    assert line.explanation["en"] == (
        "150,000.00 amount collected: 100,000.00 × 3 % + 50,000.00 × 5 % = 5,500.00; "
        "less 2,400.00 on the 80,000.00 before this period in 2026-Q4 = 3,100.00"
    )
    assert line.explanation["zh"].startswith("回款金额 150,000.00：")
    credited = session.execute(
        sa.text(
            "SELECT r.external_id, c.amount_minor FROM pay_credits c JOIN records r ON r.id = c.record_id "
            "WHERE c.line_id = :line"
        ),
        {"line": line.id},
    ).all()
    assert credited == [("C3", 7_000_000)]


def test_a_rerun_replaces_the_month_and_gives_the_same_bytes(paid_company, session, tmp_path):
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    assert run_cli("pay", "run", "2026-10").exit_code == 0
    assert run_cli("pay", "lines", "2026-10", "-o", first).exit_code == 0
    assert run_cli("pay", "run", "2026-10", "--version", "2").exit_code == 0
    assert run_cli("pay", "lines", "2026-10", "-o", again).exit_code == 0
    assert first.read_bytes() == again.read_bytes()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PayLine)) == 15  # replaced, not added
    assert session.scalar(sa.select(sa.func.count()).select_from(PayCredit)) == 4


def test_lines_export_as_json_csv_and_xlsx_with_money_as_numbers(paid_company, tmp_path):
    assert run_cli("pay", "run", "2026-10").exit_code == 0
    exported = json.loads(run_cli("pay", "lines", "2026-10").stdout)
    r2 = next(row for row in exported if (row["employee"], row["component"]) == ("R2", "commission"))
    assert r2 == {
        "employee": "R2",
        "name": "销售二",
        "department": "EAST",
        "plan": "reps",
        "component": "commission",
        "kind": "earned",
        "period": "2026-10",
        "month": "2026-10",
        "amount": "12000.00",
        "currency": "CNY",
        "base": "250000.00",
        "rate": None,
        "source": {"dataset": "collections", "records": 1},
        "explanation": "250,000.00 amount collected: 100,000.00 × 3 % + 100,000.00 × 5 % + 50,000.00 × 8 % = 12,000.00",
    }
    assert run_cli("pay", "lines", "2026-10", "--format", "csv", "-o", tmp_path / "pay.csv").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pay.csv").read_text(encoding="utf-8-sig"))))
    assert {row["amount"] for row in rows if row["employee"] == "R3"} >= {"30.00", "0.00"}
    assert run_cli("pay", "lines", "2026-10", "--format", "xlsx", "-o", tmp_path / "pay.xlsx").exit_code == 0
    sheet = load_workbook(tmp_path / "pay.xlsx").active
    header = [cell.value for cell in sheet[1]]
    amounts = [row[header.index("amount")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(amount, float | int) for amount in amounts) and sum(amounts) == pytest.approx(69811.75)


def test_a_rule_that_cannot_be_applied_writes_nothing_and_names_what_is_missing(paid_company, session, tmp_path):
    by_product = PAY_CONFIG.split("plans:")[1].replace("slug: reps", "slug: by_product", 1)
    by_product = by_product.replace(
        "rule: {kind: tiered, mode: marginal, over: quarterly,\n"
        "               tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}, {from: 200000, percent: 8}]}",
        "rule: {kind: rate_table, field: product, rates: [{key: software, percent: 2}]}",
    )
    assert run_cli("config", "load", write(tmp_path, "more.yaml", "plans:" + by_product)).exit_code == 0
    assert run_cli("config", "publish", "-m", "by product").exit_code == 0
    assert run_cli("pay", "run", "2026-10", "--plan", "reps").exit_code == 0
    refused = run_cli("pay", "run", "2026-10")
    assert refused.exit_code == 2
    assert "by_product.commission for R3: no rate for product '-consulting' and no default rate" in refused.stderr
    assert "failed: nothing was written" in refused.stderr
    session.rollback()
    runs = session.scalars(sa.select(PayRun).order_by(PayRun.id)).all()
    assert [run.status for run in runs] == ["succeeded", "failed"]
    assert runs[1].errors[0]["employee"] == "R3"
    assert set(lines(session, "2026-10")) and all(
        plan == "reps" for plan in session.scalars(sa.select(PayLine.plan))
    )  # the earlier lines stand


def test_pay_is_run_by_month_from_a_published_plan(paid_company):
    for period, message in (("2026-Q4", "pay is run for a month"), ("2026-13", "not a period")):
        refused = run_cli("pay", "run", period)
        assert refused.exit_code == 2 and message in refused.output, refused.output
    unknown = run_cli("pay", "run", "2026-10", "--plan", "nobody")
    assert unknown.exit_code == 2 and "there is no plan 'nobody' in version 2" in unknown.stderr
    dry = run_cli("pay", "run", "2026-10", "--dry-run")
    assert dry.exit_code == 0 and "nothing written" in dry.output
    assert "R2\treps.commission\t2026-10\t12,000.00 CNY" in dry.output


MORE_PLANS = """
plans:
  - slug: extras
    label: {zh: 附加, en: Extras}
    assign: [{departments: [EAST], roles: [rep], starts_on: 2026-10-01}]
    parameters: {floating_base: 3000}
    components:
      - slug: software
        label: {zh: 软件提成, en: Software}
        frequency: monthly
        base: {records: collections, amount: amount, filter: "product == 'software'"}
        rule: {kind: rate_table, field: product, rates: [{key: software, percent: 10}], default_percent: 1}
      - slug: sales_flat
        label: {zh: 销售提成, en: Sales}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: flat, percent: 1}
      - slug: over
        label: {zh: 超额奖, en: Over target}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: over_target, percent: 10}
      - slug: team_float
        label: {zh: 团队浮动, en: Team floating}
        frequency: monthly
        base: {scorecard: rep}
        rule: {kind: floating, amount: floating_base, mode: points, scope: team, budget_neutral: true}
  - slug: later
    label: {zh: 以后, en: Later}
    assign: [{roles: [rep], starts_on: 2027-01-01}]
    components:
      - {slug: flat, label: {zh: 提成, en: Flat}, frequency: monthly, base: {metric: sales}, rule: {kind: flat, percent: 1}}
  - slug: leads
    label: {zh: 主管, en: Leads}
    assign: [{roles: [lead]}]
    parameters: {target_bonus: 5000}
    components:
      - slug: attainment
        label: {zh: 达成, en: Attainment}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: attainment, target_pay: target_bonus}
  - slug: nowhere
    label: {zh: 无处, en: Nowhere}
    assign: [{departments: [NORTH]}]
    components:
      - {slug: flat, label: {zh: 提成, en: Flat}, frequency: monthly, base: {metric: sales}, rule: {kind: flat, percent: 1}}
"""


def test_filters_tables_metrics_teams_and_what_stops_a_plan(paid_company, tmp_path):
    """EAST's reps in October: software collections at 10 % (R1 80,000 → 8,000.00; R2 250,000 →
    25,000.00); 1 % of sales (R1 24,000 → 240.00; R2 6,000 → 60.00); 10 % above target (R1 4,000
    above 20,000 → 400.00; R2 below → 0.00); floating points against L1's team (105.4 and 60,
    average 82.7): 3,000 × 1.227 = 3,681.00 and 3,000 × 0.773 = 2,319.00, already the budget."""
    assert run_cli("config", "load", write(tmp_path, "more.yaml", MORE_PLANS)).exit_code == 0
    assert run_cli("config", "publish", "-m", "more").exit_code == 0
    extras = run_cli("pay", "run", "2026-10", "--plan", "extras", "--dry-run")
    assert extras.exit_code == 0, extras.output
    shown = {tuple(line.split("\t")[:2]): line.split("\t")[3] for line in extras.output.splitlines() if "\t" in line}
    assert shown == {
        ("R1", "extras.software"): "8,000.00 CNY",
        ("R2", "extras.software"): "25,000.00 CNY",
        ("R1", "extras.sales_flat"): "240.00 CNY",
        ("R2", "extras.sales_flat"): "60.00 CNY",
        ("R1", "extras.over"): "400.00 CNY",
        ("R2", "extras.over"): "0.00 CNY",
        ("R1", "extras.team_float"): "3,681.00 CNY",
        ("R2", "extras.team_float"): "2,319.00 CNY",
    }
    later = run_cli("pay", "run", "2026-10", "--plan", "later")
    assert later.exit_code == 0 and "0 lines for 0 employees; nothing due" in later.output
    for plan, reason in (
        ("leads", "leads.attainment for L1: no target for sales in 2026-10"),
        ("nowhere", "nowhere: assign[0]: unknown department 'NORTH'"),
    ):
        refused = run_cli("pay", "run", "2026-10", "--plan", plan)
        assert refused.exit_code == 2 and reason in refused.stderr, refused.stderr


JOINER_PLAN = """
plans:
  - slug: joiners
    label: {zh: 新人达成奖, en: Attainment for joiners}
    assign: [{departments: [SALES], roles: [rep]}]
    parameters: {target_bonus: 10000}
    components:
      - slug: attainment
        label: {zh: 达成奖金, en: Attainment bonus}
        frequency: monthly
        base: {metric: sales}
        rule: {kind: attainment, target_pay: target_bonus, gate: 50, accelerator: 1.5, cap: 200}
"""


def test_someone_who_joins_mid_month_has_target_pay_and_target_prorated(paid_company, session, tmp_path):
    """R5 joins EAST on 16 October, 16 of its 31 days, and sells 4,000.00. Their target, 10,000 a
    month for reps, is 10,000 × 16 ÷ 31 = 5,161.29…, so 4,000 is 77.5 % of it; their target bonus
    is 10,000 × 16 ÷ 31 = 5,161.29…, and 77.5 % of it (no accelerator below 100 %) is 4,000.00.
    Everyone else is paid as before (test_every_amount_of_a_month_worked_by_hand)."""
    joiner = (
        "employees:\n  - {code: R5, name: 销售五, department: EAST, role: rep, manager: L1, hire_date: 2026-10-16}\n"
    )
    assert run_cli("org", "import", write(tmp_path, "joiner.yaml", joiner)).exit_code == 0
    deal = "external_id,owner,closed_on,customer,amount,status\nD20,R5,2026-10-20,F,4000,won\n"
    assert run_cli("data", "import", "deals", write(tmp_path, "d.csv", deal)).exit_code == 0
    assert run_cli("config", "load", write(tmp_path, "joiners.yaml", JOINER_PLAN)).exit_code == 0
    assert run_cli("config", "publish", "-m", "joiners").exit_code == 0
    result = run_cli("pay", "run", "2026-10", "--plan", "joiners")
    assert result.exit_code == 0, result.output
    assert {code: amount for (code, _), amount in lines(session, "2026-10").items()} == {
        "R1": D("13000.00"),
        "R2": D("6000.00"),
        "R3": D("0.00"),
        "R4": D("20000.00"),
        "R5": D("4000.00"),
    }
    (explanation,) = session.execute(
        sa.text("SELECT l.explanation FROM pay_lines l JOIN employees e ON e.id = l.employee_id WHERE e.code = 'R5'")
    ).one()
    words = explanation if isinstance(explanation, dict) else json.loads(explanation)
    assert words["en"].endswith("(prorated: employed 16 of 31 days)")
    assert words["zh"].endswith("（按在职时间折算：在职 16 天 / 共 31 天）")
