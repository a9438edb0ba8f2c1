"""Properties of whole pay runs on a real database, for any way collections fall (Hypothesis):
month after month, tiered commission over the quarter adds up to the rule on the quarter's total
rounded once (however the amount is split across records and months); a run's totals are the sums
of its stored lines; and a month run again with the same version gives the same lines to the byte.

Each example pays a quarter of its own (2031-Q1, 2032-Q1, …), so examples never see each other's
records, and months stay paid in order."""

from __future__ import annotations

import itertools
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfrules.money import to_cents
from perfrules.org.models import Employee
from perfrules.pay.models import PayLine, PayRun
from perfrules.pay.rules import Tier, Words, tiered

from ..helpers import run_cli, starting_state, write

pytestmark = pytest.mark.database

TIERED = """
datasets:
  - slug: collections
    label: {zh: 回款, en: Collections}
    owner_field: owner
    date_field: received_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: received_on, label: {zh: 回款日期, en: Received on}, type: date, required: true}
      - {name: amount, label: {zh: 回款金额, en: Amount collected}, type: money, currency: CNY, required: true}
plans:
  - slug: tiers
    label: {zh: 阶梯提成, en: Tiered commission}
    assign: [{roles: [rep]}]
    components:
      - slug: commission
        label: {zh: 回款提成, en: Commission}
        frequency: monthly
        base: {records: collections, amount: amount}
        rule: {kind: tiered, mode: marginal, over: quarterly,
               tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}, {from: 200000, percent: 8}]}
"""
TIERS = [Tier(D(0), D("0.03")), Tier(D(100000), D("0.05")), Tier(D(200000), D("0.08"))]
YEARS = itertools.count(2031)


def _tiered(folder: Path) -> None:
    assert run_cli("config", "load", write(folder, "tiers.yaml", TIERED)).exit_code == 0
    assert run_cli("config", "publish", "-m", "tiers").exit_code == 0


@pytest.fixture
@starting_state(_tiered, parent="company")
def tiered_company(company):
    return company


collections = st.lists(
    st.tuples(st.sampled_from(["R1", "R2"]), st.integers(1, 3), st.integers(1, 28), st.integers(1, 15_000_000)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=collections)
def test_a_quarter_paid_month_by_month_is_the_rule_on_its_total(tiered_company, session, tmp_path, records):
    year = next(YEARS)
    rows = [
        f"P{year}-{i},{code},{year}-{month:02d}-{day:02d},{cents / 100:.2f}"
        for i, (code, month, day, cents) in enumerate(records)
    ]
    text = "external_id,owner,received_on,amount\n" + "\n".join(rows) + "\n"
    assert run_cli("data", "import", "collections", write(tmp_path, f"c{year}.csv", text)).exit_code == 0
    for month in (1, 2, 3):
        assert run_cli("pay", "run", f"{year}-{month:02d}").exit_code == 0
    session.rollback()
    for code in ("R1", "R2"):
        total = sum((D(cents) / 100 for who, _, _, cents in records if who == code), D(0))
        paid = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(PayLine.amount_minor), 0))
            .join(Employee, Employee.id == PayLine.employee_id)
            .where(Employee.code == code, PayLine.period.like(f"{year}-%"))
        )
        assert D(paid) / 100 == to_cents(tiered(total, TIERS, False, Words("", "")).amount)
    for run in session.scalars(sa.select(PayRun).where(PayRun.period.like(f"{year}-%"))):
        lines = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(PayLine.amount_minor), 0)).where(PayLine.run_id == run.id)
        )
        expected = {"CNY": f"{D(lines) / 100:,.2f}"} if lines or run.counts["lines"] else {}
        assert run.counts["totals"] == expected
    first = run_cli("pay", "lines", f"{year}-03", "--format", "csv").stdout
    assert run_cli("pay", "run", f"{year}-03").exit_code == 0
    assert run_cli("pay", "lines", f"{year}-03", "--format", "csv").stdout == first
