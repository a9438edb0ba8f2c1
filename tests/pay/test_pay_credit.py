"""Who a record credits: shares, overlays and managers, on the scenario company (L1 manages R1
and R2; R3 manages R4), every amount by hand. Plan `shared`: 10 % of the deals credited, each
deal's `splits` shared, its `helper` credited in full beside, and each credited person's manager
one level up credited with their part.

- K1 R1 10,000.00 split R1 60 % / R2 40 %: R1 6,000.00, R2 4,000.00; their manager L1 both.
- K2 R3 1,000.01 split R3 50 % / R4 50 %: 500.00 each and the cent left to the tie's first code,
  R3 500.01; R4's manager R3 500.00 more; the helper R1 1,000.01 in full.
- K3 R4 2,000.00, no split: R4 2,000.00, and R3 as R4's manager 2,000.00.
So R1 7,000.01 → 700.00; R2 4,000.00 → 400.00; L1 10,000.00 → 1,000.00; R3 3,000.01 → 300.00;
R4 2,500.00 → 250.00.

November: 5,000.00 of K1 refunded. Each line that paid on K1 gives back its part: R1 3,000.00 ×
700.00 ÷ 7,000.01 = 299.9957… → −300.00; R2 2,000.00 × 400 ÷ 4,000 = −200.00; L1 (both parts)
5,000.00 × 1,000 ÷ 10,000 = −500.00.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from perfrules.pay.credit import CreditError, parse_splits

from ..helpers import run_cli, starting_state, write
from .test_pay_ledger import month_lines, pay

CREDIT_CONFIG = """
datasets:
  - slug: bookings
    label: {zh: 签约, en: Bookings}
    owner_field: owner
    date_field: signed_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: signed_on, label: {zh: 签约日期, en: Signed on}, type: date, required: true}
      - {name: amount, label: {zh: 金额, en: Amount}, type: money, currency: CNY, required: true}
      - {name: splits, label: {zh: 业绩分配, en: Shares}, type: text}
      - {name: helper, label: {zh: 协助人, en: Helper}, type: employee}
  - slug: cancellations
    label: {zh: 取消, en: Cancellations}
    owner_field: owner
    date_field: cancelled_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: cancelled_on, label: {zh: 日期, en: Date}, type: date, required: true}
      - {name: booking, label: {zh: 原签约, en: Booking}, type: text, required: true}
      - {name: amount, label: {zh: 金额, en: Amount}, type: money, currency: CNY, required: true}
  - slug: invoice_payments
    label: {zh: 发票回款, en: Invoice payments}
    owner_field: owner
    date_field: paid_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: paid_on, label: {zh: 日期, en: Date}, type: date, required: true}
      - {name: booking, label: {zh: 签约, en: Booking}, type: text, required: true}
      - {name: amount, label: {zh: 金额, en: Amount}, type: money, currency: CNY, required: true}
plans:
  - slug: booked
    label: {zh: 签约提成, en: Booking commission}
    assign: [{roles: [rep]}]
    components:
      - slug: commission
        label: {zh: 签约提成, en: Commission}
        frequency: monthly
        base: {records: bookings, amount: amount}
        rule: {kind: flat, percent: 5}
        hold: {percent: 50, until_paid: {records: invoice_payments, refers_to: booking, amount: amount}}
  - slug: shared
    label: {zh: 分配提成, en: Shared commission}
    assign: [{roles: [rep, lead]}]
    components:
      - slug: commission
        label: {zh: 签约提成, en: Commission}
        frequency: monthly
        base: {records: bookings, amount: amount, credit: {splits: splits, overlay: helper, managers: 1}}
        rule: {kind: flat, percent: 10}
        clawback: {records: cancellations, amount: amount, refers_to: booking, lookback_days: 90}
"""
BOOKINGS = """
external_id,owner,signed_on,amount,splits,helper
K1,R1,2026-10-05,10000,R1:60; R2:40,
K2,R3,2026-10-06,1000.01,R3:50;R4:50,R1
K3,R4,2026-10-07,2000,,
"""
CANCELLATIONS = """
external_id,owner,cancelled_on,booking,amount
X1,R1,2026-11-10,K1,5000
"""


PAYMENTS = """
external_id,owner,paid_on,booking,amount
P1,R4,2026-11-05,K3,1500
P2,R4,2026-12-02,K3,500
P3,R1,2026-12-03,K1,9999.99
"""


def _credit(folder: Path) -> None:
    loaded = run_cli("config", "load", write(folder, "credit.yaml", CREDIT_CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "credit").exit_code == 0
    for dataset, text in (("bookings", BOOKINGS), ("cancellations", CANCELLATIONS), ("invoice_payments", PAYMENTS)):
        imported = run_cli("data", "import", dataset, write(folder, f"{dataset}.csv", text))
        assert imported.exit_code == 0, imported.output


@pytest.fixture
@starting_state(_credit, parent="company")
def credit_company(company):
    return company


@pytest.mark.database
def test_shares_overlays_and_managers_are_credited_and_clawed_back_by_their_part(credit_company, session):
    pay("2026-10")
    assert {
        code: amount for (code, plan, *_), amount in month_lines(session, "2026-10").items() if plan == "shared"
    } == {
        "R1": D("700.00"),
        "R2": D("400.00"),
        "L1": D("1000.00"),
        "R3": D("300.00"),
        "R4": D("250.00"),
    }
    pay("2026-11")
    assert {
        (code, kind): amount
        for (code, plan, _, kind), amount in month_lines(session, "2026-11").items()
        if plan == "shared"
    } == {
        ("R1", "clawback"): D("-300.00"),
        ("R2", "clawback"): D("-200.00"),
        ("L1", "clawback"): D("-500.00"),
        ("R1", "carried_out"): D("300.00"),
        ("R2", "carried_out"): D("200.00"),
        ("L1", "carried_out"): D("500.00"),
    }


@pytest.mark.database
def test_shares_that_do_not_make_100_percent_stop_the_run_naming_the_record(credit_company, session, tmp_path):
    bad = "external_id,owner,signed_on,amount,splits,helper\nK9,R1,2026-10-09,100,R1:60;R2:30,\n"
    assert run_cli("data", "import", "bookings", write(tmp_path, "bad.csv", bad)).exit_code == 0
    result = run_cli("pay", "run", "2026-10")
    assert result.exit_code != 0
    assert "shared.commission: record K9: its shares add up to 90 %, not 100 %" in result.output
    assert month_lines(session, "2026-10") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E1:60; E2:40", {"E1": D(60), "E2": D(40)}),
        ("E1:33.5,E2:66.5", {"E1": D("33.5"), "E2": D("66.5")}),
        ("E1:100%", {"E1": D(100)}),
        ("E1:50；E1:50", {"E1": D(100)}),
        (" ; ", {}),
    ],
)
def test_shares_are_read_from_text(text, expected):
    assert parse_splits(text, "K1") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("E1:60;E2:30", "record K1: its shares add up to 90 %, not 100 %"),
        ("E1 60", "record K1: 'E1 60' is not a share such as E0003:60"),
        ("E1:-10;E2:110", "is not a share"),
    ],
)
def test_shares_that_cannot_be_read_say_why(text, message):
    with pytest.raises(CreditError, match=message):
        parse_splits(text, "K1")


@pytest.mark.database
def test_a_hold_until_paid_is_released_once_the_records_it_credited_are_paid_in_full(credit_company, session):
    """Plan `booked`: 5 % of each rep's bookings, half held until the booking is paid. October:
    R1 500.00 (held −250.00), R3 1,000.01 × 5 % = 50.0005 → 50.00 (held −25.00), R4 100.00 (held
    −50.00). K3 is paid 1,500.00 in November and its last 500.00 in December: R4's hold is released
    in December. K1 is paid 9,999.99 of 10,000.00: R1's stays held; K2 is not paid at all."""
    for month in ("2026-10", "2026-11", "2026-12"):
        pay(month)
    booked = {
        (month, code, kind): amount
        for month in ("2026-10", "2026-11", "2026-12")
        for (code, plan, _, kind), amount in month_lines(session, month).items()
        if plan == "booked"
    }
    assert booked == {
        ("2026-10", "R1", "earned"): D("500.00"),
        ("2026-10", "R1", "hold"): D("-250.00"),
        ("2026-10", "R3", "earned"): D("50.00"),
        ("2026-10", "R3", "hold"): D("-25.00"),
        ("2026-10", "R4", "earned"): D("100.00"),
        ("2026-10", "R4", "hold"): D("-50.00"),
        ("2026-12", "R4", "release"): D("50.00"),
    }
