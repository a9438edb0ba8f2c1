"""Periods, windows, and target splits that never lose a unit (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfrules.engine.people import People
from perfrules.engine.periods import Period, PeriodError, last_complete
from perfrules.engine.targets import TargetBook, month_values, split_exactly

D = dt.date


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2026-10", D(2026, 10, 1), D(2026, 11, 1)),
        ("2026-12", D(2026, 12, 1), D(2027, 1, 1)),
        ("2026-Q4", D(2026, 10, 1), D(2027, 1, 1)),
        ("2026-H1", D(2026, 1, 1), D(2026, 7, 1)),
        ("2026", D(2026, 1, 1), D(2027, 1, 1)),
    ],
)
def test_periods_parse_and_print(text, start, end):
    period = Period.parse(text)
    assert (period.start, period.end, str(period)) == (start, end, text)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-H3", "26-10", "2026/10", "", "2026-10-01"])
def test_bad_periods_are_explained(text):
    with pytest.raises(PeriodError, match="is not a period: use 2026-10, 2026-Q4, 2026-H2 or 2026"):
        Period.parse(text)


def test_windows():
    october = Period.parse("2026-10")
    assert october.window("period") == (D(2026, 10, 1), D(2026, 11, 1))
    assert october.window("previous") == (D(2026, 9, 1), D(2026, 10, 1))
    assert october.window("last_year") == (D(2025, 10, 1), D(2025, 11, 1))
    assert october.window("ytd") == (D(2026, 1, 1), D(2026, 11, 1))
    assert october.window("trailing", 3) == (D(2026, 8, 1), D(2026, 11, 1))
    january = Period.parse("2026-01")
    assert january.window("previous") == (D(2025, 12, 1), D(2026, 1, 1))
    assert january.window("trailing", 12) == (D(2025, 2, 1), D(2026, 2, 1))
    q1 = Period.parse("2026-Q1")
    assert q1.window("previous") == (D(2025, 10, 1), D(2026, 1, 1))
    assert q1.window("last_year") == (D(2025, 1, 1), D(2025, 4, 1))
    assert Period.parse("2026-H2").window("ytd") == (D(2026, 1, 1), D(2027, 1, 1))


def test_split_gives_the_remainder_to_the_largest_fractions_then_the_first_code():
    assert split_exactly(100, [1, 1, 1], ["c", "a", "b"]) == [33.33, 33.34, 33.33]
    assert split_exactly(10, [1, 1, 1], ["a", "b", "c"], decimals=0) == [4, 3, 3]
    assert split_exactly(1000, [0, 0], ["a", "b"]) == [500, 500]  # no weights: equal
    assert split_exactly(100, [2, 1], ["a", "b"]) == [66.67, 33.33]


@given(
    total=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)),
    weights=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=40),
    decimals=st.integers(min_value=0, max_value=4),
)
def test_splits_add_up_to_the_total_exactly(total, weights, decimals):
    shares = split_exactly(total, weights, list(range(len(weights))), decimals)
    unit = 10**decimals
    # the total is rounded half away from zero to `decimals`, then shared without losing a unit
    rounded = int(Decimal(repr(total)).scaleb(decimals).to_integral_value(ROUND_HALF_UP))
    assert sum(round(s * unit) for s in shares) == rounded
    assert shares == split_exactly(total, weights, list(range(len(weights))), decimals)  # deterministic


def test_a_yearly_target_spreads_over_months_by_shares_or_evenly():
    shares = [5, 5, 10, 10, 5, 5, 5, 5, 10, 10, 15, 15]
    by_month = month_values({"period": "2026", "value": 1_000_000, "month_shares": shares})
    assert by_month[1] == 50_000 and by_month[12] == 150_000 and sum(by_month.values()) == 1_000_000
    even = month_values({"period": "2026", "value": 100})
    assert sum(even.values()) == pytest.approx(100) and sorted(set(even.values())) == [8.33, 8.34]


def people(codes, departments, roles, attributes=None):
    return People(
        ids=np.arange(1, len(codes) + 1),
        codes=codes,
        names=codes,
        department_ids=np.array(departments),
        role_codes=roles,
        manager_ids=np.zeros(len(codes), dtype=np.int64),
        hire_dates=[None] * len(codes),
        load_attributes=lambda: attributes or [{}] * len(codes),
        departments={1: ("SALES", None), 2: ("EAST", 1), 3: ("WEST", 1)},
        managers={},
    )


def book(entries, staff):
    return TargetBook({"targets": {"t": {"slug": "t", "entries": entries}}}, staff)


def test_department_totals_split_among_members():
    staff = people(
        ["A", "B", "C", "L"], [2, 2, 3, 2], ["rep", "rep", "rep", "lead"], [{"w": 3}, {"w": 1}, {"w": 5}, {}]
    )
    equal = book(
        [{"name": "sales", "period": "2026-10", "department": "SALES", "role": "rep", "split": "equal", "value": 100}],
        staff,
    ).resolve("sales", Period.parse("2026-10"))
    assert equal.values[:3].tolist() == [33.34, 33.33, 33.33] and np.isnan(equal.values[3])
    assert equal.sources[0] == "department SALES total, t: 2026-10, split equally among 3 members in role rep"
    weighted = book(
        [
            {
                "name": "sales",
                "period": "2026",
                "department": "EAST",
                "split": "weights",
                "weight_attribute": "w",
                "value": 1200,
            }
        ],
        staff,
    ).resolve("sales", Period.parse("2026-Q1"))
    assert weighted.values.tolist()[:2] == [225.0, 75.0] and weighted.values[3] == 0  # L has no weight
    last = book(
        [{"name": "sales", "period": "2026-10", "department": "EAST", "split": "last_share", "value": 900}], staff
    ).resolve("sales", Period.parse("2026-10"), lambda name: np.array([200.0, 100.0, 999.0, np.nan]))
    assert last.values.tolist()[:2] == [600.0, 300.0] and last.values[3] == 0


def test_the_most_specific_holder_and_period_wins():
    staff = people(["A", "B", "C"], [2, 2, 3], ["rep", "rep", "rep"])
    entries = [
        {"name": "sales", "period": "2026", "role": "rep", "value": 1200},
        {"name": "sales", "period": "2026", "department": "SALES", "value": 2400},
        {"name": "sales", "period": "2026-10", "department": "EAST", "value": 500},
        {"name": "sales", "period": "2026-10", "employee": "B", "value": 50},
        {"name": "sales", "period": "2026-10", "employee": "NOBODY", "value": 1},
    ]
    targets = book(entries, staff)
    resolved = targets.resolve("sales", Period.parse("2026-10"))
    assert resolved.values.tolist() == [500, 50, 200]
    assert targets.warnings == ["target t: no active employee 'NOBODY'"]
    assert np.isnan(targets.resolve("calls", Period.parse("2026-10")).values).all()


def test_the_last_complete_period():
    today = D(2026, 11, 22)
    assert [str(last_complete(cycle, today)) for cycle in ("monthly", "quarterly", "half_yearly", "yearly")] == [
        "2026-10",
        "2026-Q3",
        "2026-H1",
        "2025",
    ]
    assert str(last_complete("monthly", D(2026, 1, 1))) == "2025-12"


def test_own_targets_are_taken_out_of_a_split_total_so_it_still_adds_up():
    staff = people(["A", "B", "C", "L"], [2, 2, 2, 2], ["rep", "rep", "rep", "lead"])
    entries = [
        {"name": "sales", "period": "2026-10", "department": "EAST", "split": "equal", "value": 1000},
        {"name": "sales", "period": "2026-Q4", "employee": "B", "value": 1200},
    ]  # 400 a month
    targets = book(entries, staff)
    resolved = targets.resolve("sales", Period.parse("2026-10"))
    assert resolved.values.tolist() == [200, 400, 200, 200] and sum(resolved.values) == 1000
    assert resolved.sources[0] == (
        "department EAST total, t: 2026-10, less own targets of B 400, split equally among 3 members"
    )
    assert resolved.sources[1].startswith("employee target, t: 2026-Q4 1,200 → 2026-10 400")
    greedy = book([*entries, {"name": "sales", "period": "2026-10", "employee": "A", "value": 700}], staff)
    assert greedy.resolve("sales", Period.parse("2026-10")).values.tolist() == [700, 400, 0, 0]
    assert greedy.warnings == [
        "target t: own targets in EAST add up to more than its total 1,000; the other members get 0"
    ]


def test_the_nearest_department_wins_before_the_shorter_period():
    staff = people(["A", "C"], [2, 3], ["rep", "rep"])
    entries = [
        {"name": "sales", "period": "2026-10", "department": "SALES", "value": 300},
        {"name": "sales", "period": "2026", "department": "EAST", "value": 1200},
    ]
    resolved = book(entries, staff).resolve("sales", Period.parse("2026-10"))
    assert resolved.values.tolist() == [100, 300]  # A: EAST's year ÷ 12; C (WEST): SALES's month
