"""The exact evaluator (decimals, for money) agrees with the reference evaluator wherever both
give a value, and reads numbers as they are written."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from perfrules.formula import NUMBER, TEXT, ExactEvaluationError, FormulaError, Function, compile_formula
from perfrules.formula.functions import builtin_functions
from perfrules.money import exact

from .strategies import compile_or_reject, number_formulas, rows


#: half the agreement tests' examples: the same generator, already exercised there
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=number_formulas(), row=rows(extreme=False))
def test_the_exact_and_reference_evaluators_agree(text, row):
    compiled = compile_or_reject(text)
    expected = compiled.evaluate(row)
    decimals = {name: exact(value) if isinstance(value, float) else value for name, value in row.items()}
    if expected.error or any("division by zero" in note for note in expected.notes):
        return  # the reference gives no value where the exact evaluator stops (tested below)
    try:
        got = compiled.evaluate_exact(decimals)
    except ExactEvaluationError:
        assert expected.value is None
        return
    if expected.value is None:
        assert got is None, f"{text!r} {row}"
    else:
        assert math.isclose(float(got), expected.value, rel_tol=1e-9, abs_tol=1e-9), f"{text!r} {row}: {got}"


def test_numbers_are_read_as_written_and_rounded_half_up():
    assert compile_formula("0.1 + 0.2", {}).evaluate_exact({}) == Decimal("0.3")
    assert compile_formula("ROUND(2.675, 2)", {}).evaluate_exact({}) == Decimal("2.68")
    assert compile_formula("ROUND(-2.5)", {}).evaluate_exact({}) == Decimal("-3")
    paid = compile_formula(
        "MIN(value * 0.035, cap) + IF(grade == 'S', 500, 0)", {"value": NUMBER, "cap": NUMBER, "grade": TEXT}
    )
    assert paid.evaluate_exact({"value": Decimal("12345.67"), "cap": Decimal(5000), "grade": "S"}) == Decimal(
        "932.09845"
    )
    assert paid.evaluate_exact({"value": None, "cap": Decimal(5000), "grade": "S"}) is None


def test_a_division_by_zero_stops_and_says_where():
    compiled = compile_formula("value / (cap - 2000)", {"value": NUMBER, "cap": NUMBER})
    with pytest.raises(ExactEvaluationError, match=r"division by zero: value / \(cap - 2000\)"):
        compiled.evaluate_exact({"value": Decimal(1), "cap": Decimal(2000)})


def test_a_function_with_no_exact_form_is_refused_where_it_is_called():
    functions = builtin_functions()
    functions.register(Function(name="sqrt", params=(NUMBER,), reference=math.sqrt, vector=math.sqrt))
    compiled = compile_formula("1 + SQRT(value)", {"value": NUMBER}, functions=functions)
    with pytest.raises(FormulaError, match="SQRT cannot be used where money is computed") as caught:
        compiled.check_exact()
    assert caught.value.column == 5
