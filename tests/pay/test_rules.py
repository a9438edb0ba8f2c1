"""Money and the pay rules, worked by hand: the issue's examples and more, and properties that
hold for any input (pools pay exactly, marginal tiers do not depend on how the base is split)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfrules.money import MoneyError, allocate, from_minor, parse_money, to_cents, to_minor
from perfrules.pay.rules import (
    Curve,
    Floating,
    PayRuleError,
    Tier,
    Words,
    attainment_pay,
    by_grade,
    draw,
    flat,
    floating_pay,
    over_target,
    pool_shares,
    rate_table,
    tiered,
)

COLLECTED = Words("collected", "回款")
TIERS = [Tier(D(0), D("0.03")), Tier(D(100_000), D("0.05")), Tier(D(200_000), D("0.08"))]
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


def test_money_rounds_once_half_up_and_is_stored_in_minor_units():
    assert to_cents(D("2.675")) == D("2.68") and to_cents(D("2.665")) == D("2.67")  # never banker's
    assert to_cents(D("-2.675")) == D("-2.68")
    assert to_minor(D("12000.005")) == 1_200_001 and from_minor(1_200_001) == D("12000.01")
    assert parse_money("¥1,234.50") == D("1234.50") and parse_money(-80) == D("-80.00")
    assert parse_money(0.1 + 0.2) == D("0.30")  # a spreadsheet's float a hair off a cent
    for bad, reason in (
        ("1.005", "more than two decimals"),
        ("abc", "expected an amount"),
        (True, "expected an amount"),
    ):
        with pytest.raises(MoneyError, match=reason):
            parse_money(bad)


def test_tiers_marginal_and_retroactive_as_the_issue_works_them():
    marginal = tiered(D(250_000), TIERS, retroactive=False, base_words=COLLECTED)
    assert to_cents(marginal.amount) == D("12000.00")
    assert marginal.words.en == (
        "250,000.00 collected: 100,000.00 × 3 % + 100,000.00 × 5 % + 50,000.00 × 8 % = 12,000.00"
    )
    assert to_cents(tiered(D(250_000), TIERS, True, COLLECTED).amount) == D("20000.00")
    # the bound belongs to the higher tier
    assert tiered(D(100_000), TIERS, True, COLLECTED).rate == D("0.05")
    assert to_cents(tiered(D("99999.99"), TIERS, True, COLLECTED).amount) == D("3000.00")
    assert to_cents(tiered(D(-1_000), TIERS, False, COLLECTED).amount) == D("-30.00")  # refunds at the first rate
    with pytest.raises(PayRuleError, match="first tier must start at 0"):
        tiered(D(1), [Tier(D(10), D("0.1"))], False, COLLECTED)


def test_attainment_curve_gate_accelerator_and_cap():
    curve = Curve(gate=D("0.5"), slope=D(1), accelerator=D("1.5"), cap=D(2))
    pay = {a: to_cents(attainment_pay(D(a), D(100), D(10_000), curve).amount) for a in (130, 40, 180, 50, 80)}
    assert pay == {130: D("14500.00"), 40: D("0.00"), 180: D("20000.00"), 50: D("5000.00"), 80: D("8000.00")}
    with pytest.raises(PayRuleError, match="no target"):
        attainment_pay(D(10), D(0), D(10_000), curve)


def test_floating_pay_against_the_average_as_seed_003_asks():
    scores = {"A": D(96), "B": D(88), "C": D(80), "D": D(56)}
    bases = dict.fromkeys(scores, D(3000))
    relative = floating_pay(scores, bases, Floating())
    assert {k: to_cents(v.amount) for k, v in relative.items()} == {
        "A": D("3600.00"),
        "B": D("3300.00"),
        "C": D("3000.00"),
        "D": D("2100.00"),
    }
    assert relative["A"].words.en == "3,000.00 × 96 ÷ average 80.00 = 3,600.00"
    points = floating_pay(scores, bases, Floating(mode="points", floor=D("0.8")))
    assert {k: to_cents(v.amount) for k, v in points.items()} == {
        "A": D("3480.00"),  # 3,000 × (1 + 16 ÷ 100)
        "B": D("3240.00"),
        "C": D("3000.00"),
        "D": D("2400.00"),  # 0.76 held at the 80 % floor
    }
    with pytest.raises(PayRuleError, match="nobody to average"):
        floating_pay({}, {}, Floating())
    with pytest.raises(PayRuleError, match="average score is 0"):
        floating_pay({"A": D(0)}, {"A": D(1)}, Floating())


def test_budget_neutral_floating_pay_spends_the_budget_to_the_cent():
    scores = {"A": D(91), "B": D(77), "C": D(64)}
    bases = {"A": D(3000), "B": D("2999.99"), "C": D(3001)}
    capped = floating_pay(scores, bases, Floating(cap=D("1.1"), budget_neutral=True))
    assert sum(outcome.amount for outcome in capped.values()) == D("9000.99")


def test_rates_by_table_grades_over_target_and_pools():
    by_product = rate_table({"software": D(1000), "service": D(500)}, {"software": D("0.1")}, D("0.02"), "product")
    assert by_product.amount == D("110.00")
    with pytest.raises(PayRuleError, match="no rate for product 'service'"):
        rate_table({"software": D(1), "service": D(1)}, {"software": D("0.1")}, None, "product")
    assert by_grade(D(10_000), "A", {"S": D("1.5"), "A": D("1.2")}).amount == D("12000.0")
    with pytest.raises(PayRuleError, match="no coefficient for grade 'C'"):
        by_grade(D(1), "C", {"S": D("1.5")})
    assert to_cents(over_target(D(650_000), D(500_000), D("0.02")).amount) == D("3000.00")
    assert over_target(D(400_000), D(500_000), D("0.02")).amount == 0
    shares = pool_shares(D("100000.00"), {"E1": D(3), "E2": D(3), "E3": D(3)})
    assert [shares[k].amount for k in ("E1", "E2", "E3")] == [D("33333.34"), D("33333.33"), D("33333.33")]
    assert flat(D(50_000), D("0.03"), COLLECTED).words.zh == "回款 50,000.00 × 3 % = 1,500.00"


@settings(max_examples=200, deadline=None, database=None)
@given(
    pool=amounts,
    weights=st.dictionaries(
        st.text("ABCDEFGH", min_size=1, max_size=3), st.decimals(0, 1000, places=3), min_size=1, max_size=12
    ),
)
def test_a_pool_is_always_paid_to_the_cent(pool, weights):
    shares = allocate(pool, weights)
    if sum(weights.values()) == 0:
        assert set(shares.values()) == {D("0.00")}
        return
    assert sum(shares.values()) == to_cents(pool)
    total = sum(weights.values())
    for key, share in shares.items():  # nobody is more than a cent from their exact share
        assert abs(share - to_cents(pool) * weights[key] / total) < D("0.01")


@settings(max_examples=200, deadline=None, database=None)
@given(parts=st.lists(amounts, min_size=1, max_size=8))
def test_marginal_tiers_do_not_depend_on_how_the_base_is_split(parts):
    """Paid month by month as the rule on the running total less what it gave before, the sum of
    the rounded lines is the rule on the whole total, rounded once."""
    paid, running = D(0), D(0)
    for part in parts:
        before = to_cents(tiered(running, TIERS, False, COLLECTED).amount)
        running += part
        paid += to_cents(tiered(running, TIERS, False, COLLECTED).amount) - before
    assert paid == to_cents(tiered(running, TIERS, False, COLLECTED).amount)


@settings(max_examples=200, deadline=None, database=None)
@given(
    earnings=st.lists(st.decimals(-5000, 20000, places=2), min_size=1, max_size=24),
    floor=st.decimals(0, 10000, places=2),
)
def test_a_recoverable_draw_is_fully_recovered(earnings, floor):
    """Month after month, pay is never below the draw, what was paid beyond the earnings is exactly
    what is still owed, and a month that earns the draw and what is owed pays it all back."""
    balance, paid = D(0), D(0)
    for earned in earnings:
        outcome = draw(earned, floor, balance, True)
        month = earned + (outcome.amount if outcome else 0)
        balance += outcome.amount if outcome else 0
        assert month >= floor
        assert balance >= 0
        paid += month
    assert paid - sum(earnings) == balance
    settling = draw(floor + balance, floor, balance, True)
    assert balance == 0 or (settling is not None and balance + settling.amount == 0)


def test_a_guarantee_tops_up_and_is_never_taken_back():
    assert draw(D("300.00"), D("1000.00"), D(0), False).amount == D("700.00")
    assert draw(D("5000.00"), D("1000.00"), D("700.00"), False) is None
    recovered = draw(D("1500.00"), D("1000.00"), D("700.00"), True)
    assert recovered.amount == D("-500.00")
    assert recovered.words.en == (
        "500.00 of the 700.00 drawn before recovered from pay above the draw of 1,000.00 "
        "(owed after this month: 200.00)"
    )
