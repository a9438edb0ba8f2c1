"""The reference (simpleeval, row by row) and the fast (numpy, by column) paths always agree."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfrules.formula import BOOLEAN
from perfrules.formula.functions import round_half_away, round_half_away_vector

from .strategies import NUMBER_NAMES, compile_or_reject, condition_formulas, number_formulas, rows

#: 200 formulas, each over up to 12 rows, per test and run (400 took 6 s each); Hypothesis keeps and
#: replays any failing example it finds
AGREEMENT = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_paths_agree(text: str, data: list[dict]) -> None:
    compiled = compile_or_reject(text)
    columns = {name: [row[name] for row in data] for name in compiled.names}
    # numbers also arrive as float arrays (NaN for missing), the shape the engine hands over
    for name in compiled.names:
        if name in NUMBER_NAMES:
            columns[name] = np.array([np.nan if v is None else v for v in columns[name]])
    fast = compiled.evaluate_columns(columns, size=len(data))
    for index, row in enumerate(data):
        expected = compiled.evaluate(row)
        got = fast.row(index)
        context = f"formula {text!r}, row {row}: reference {expected}, fast {got}"
        assert got.error == expected.error, context
        assert got.notes == expected.notes, context
        if expected.value is None or compiled.type is BOOLEAN:
            assert got.value == expected.value and type(got.value) is type(expected.value), context
        else:
            assert math.isclose(got.value, expected.value, rel_tol=1e-9, abs_tol=0.0), context
        assert bool(fast.missing[index]) == (expected.value is None), context
        assert bool(fast.error[index]) == (expected.error is not None), context


@AGREEMENT
@given(text=number_formulas(), data=st.lists(rows(), min_size=1, max_size=12))
def test_number_formulas_agree(text, data):
    assert_paths_agree(text, data)


@AGREEMENT
@given(text=condition_formulas(), data=st.lists(rows(), min_size=1, max_size=12))
def test_condition_formulas_agree(text, data):
    assert_paths_agree(text, data)


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False), st.integers(0, 2)
)
def test_round_is_half_away_from_zero_on_decimal_values(amount, digits):
    """What a person sees as 1.005 rounds like the decimal 1.005 does, on both paths."""
    expected = float(amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    x = float(amount)
    assert round_half_away(x, digits) == expected
    assert round_half_away_vector(np.array([x]), digits)[0] == expected


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10, 10))
def test_round_paths_agree_on_any_float(x, digits):
    assert round_half_away(x, digits) == round_half_away_vector(np.array([x]), digits)[0]
