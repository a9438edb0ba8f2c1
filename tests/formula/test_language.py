"""What formulas mean: every rule checked on both evaluation paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfrules.formula import BOOLEAN, NUMBER, TEXT, RowResult, compile_formula

CATALOGUE = {
    "sales_amount": NUMBER,
    "target.sales_amount": NUMBER,
    "prev.sales_amount": NUMBER,
    "calls": NUMBER,
    "deals": NUMBER,
    "won": NUMBER,
    "status": TEXT,
    "is_new": BOOLEAN,
    "employee.tenure_months": NUMBER,
    "回款额": NUMBER,
    "应收额": NUMBER,
}


def evaluate_both(text: str, **row) -> RowResult:
    """Evaluate one row on both paths, assert they agree, and return the result."""
    compiled = compile_formula(text, CATALOGUE)
    full_row = {name: row.get(name.replace(".", "__"), row.get(name)) for name in compiled.names}
    reference = compiled.evaluate(full_row)
    fast = compiled.evaluate_columns({name: [value] for name, value in full_row.items()}, size=1).row(0)
    assert fast.error == reference.error
    assert fast.notes == reference.notes
    if isinstance(reference.value, float):
        assert math.isclose(fast.value, reference.value, rel_tol=1e-12)
    else:
        assert fast.value == reference.value
    return reference


def value(text: str, **row):
    return evaluate_both(text, **row).value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("7 / 2", 3.5),
        ("-3 + +2", -1.0),
        ("10 < 20 < 30", True),
        ("10 < 40 < 30", False),
        ("1 == 1.0", True),
        ("True and not False", True),
        ("1 if 2 > 1 else 0", 1.0),
        ("IF(1 > 2, 10, 20)", 20.0),
        ("AND(1 < 2, 2 < 3, 3 < 4)", True),
        ("OR(1 > 2, 2 > 3)", False),
        ("NOT(1 > 2)", True),
        ("min(3, 1, 2)", 1.0),
        ("MAX(3, 1, 2)", 3.0),
        ("Max(3, 1)", 3.0),
        ("abs(-4)", 4.0),
        ("clamp(150, 0, 120)", 120.0),
        ("CLAMP(-5, 0, 120)", 0.0),
        ("floor(2.7) + ceil(2.1)", 5.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("ROUND(0.125, 2)", 0.13),
        ("ROUND(1.005, 2)", 1.01),
        ("ROUND(2.675, 2)", 2.68),
        ("round(-0.125, 2)", -0.13),
        ("round(1234.5, -2)", 1200.0),
        ("round(0.4)", 0.0),
        ("round(1e300, 2)", 1e300),
        ("coalesce(None, None, 3)", 3.0),
        ("TRUE", True),
        ("null == None", True),
    ],
)
def test_constant_formulas(text, expected):
    assert value(text) == expected


def test_qualified_names_are_single_names():
    compiled = compile_formula("sales_amount / target.sales_amount", CATALOGUE)
    assert compiled.names == ("sales_amount", "target.sales_amount")
    assert value("sales_amount / target.sales_amount", sales_amount=1200, target__sales_amount=1000) == 1.2


def test_chinese_names_work():
    assert value("回款额 / 应收额", 回款额=90, 应收额=100) == 0.9


def test_growth_against_previous_period():
    assert (
        value("(sales_amount - prev.sales_amount) / prev.sales_amount", sales_amount=150, prev__sales_amount=100) == 0.5
    )


def test_text_is_compared_and_listed():
    assert value("status == 'won'", status="won") is True
    assert value("status != 'won'", status="lost") is True
    assert value("status in ('won', 'lost')", status="lost") is True
    assert value("status not in ('won', 'lost')", status="open") is True
    assert value("status in ['won']", status="won") is True


class TestMissingValues:
    def test_arithmetic_with_a_missing_value_is_missing(self):
        assert value("sales_amount * 2 + 1", sales_amount=None) is None

    def test_coalesce_supplies_a_default(self):
        assert value("coalesce(sales_amount, 0) + 1", sales_amount=None) == 1.0

    def test_if_handles_a_missing_value(self):
        assert value("IF(sales_amount == None, 0, sales_amount)", sales_amount=None) == 0.0
        assert value("0 if sales_amount == None else sales_amount", sales_amount=5) == 5.0

    def test_ordering_with_a_missing_value_is_missing(self):
        assert value("calls > 10", calls=None) is None

    def test_equality_is_null_safe(self):
        assert value("calls == None", calls=None) is True
        assert value("calls != None", calls=None) is False
        assert value("calls == deals", calls=None, deals=None) is True
        assert value("calls == deals", calls=None, deals=1) is False
        assert value("status == 'won'", status=None) is False
        assert value("status != 'won'", status=None) is True

    def test_membership_of_a_missing_value(self):
        assert value("status in ('won', 'lost')", status=None) is False
        assert value("status not in ('won', 'lost')", status=None) is True
        assert value("status in ('won', None)", status=None) is True

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("is_new and False", False),
            ("False and is_new", False),
            ("is_new and True", None),
            ("is_new or True", True),
            ("True or is_new", True),
            ("is_new or False", None),
            ("not is_new", None),
        ],
    )
    def test_and_or_not_are_three_valued(self, text, expected):
        assert value(text, is_new=None) is expected

    def test_a_missing_condition_gives_a_missing_result(self):
        assert value("IF(calls > 10, 1, 0)", calls=None) is None

    def test_functions_give_missing_for_missing_arguments(self):
        assert value("max(calls, 5)", calls=None) is None
        assert value("round(calls, 1)", calls=None) is None


class TestDivisionAndOverflow:
    def test_division_by_zero_is_missing_with_a_note(self):
        result = evaluate_both("won / deals", won=3, deals=0)
        assert result == RowResult(None, None, ("division by zero: won / deals",))

    def test_a_handled_division_by_zero_keeps_its_note(self):
        result = evaluate_both("coalesce(won / deals, 0)", won=3, deals=0)
        assert result.value == 0.0 and result.notes == ("division by zero: won / deals",)

    def test_a_branch_not_taken_records_nothing(self):
        result = evaluate_both("IF(deals > 0, won / deals, 0)", won=3, deals=0)
        assert result == RowResult(0.0, None, ())

    def test_and_stops_at_the_first_false(self):
        result = evaluate_both("deals > 0 and won / deals > 0.5", won=3, deals=0)
        assert result == RowResult(False, None, ())

    def test_overflow_is_an_error_for_the_row(self):
        result = evaluate_both("sales_amount * sales_amount", sales_amount=1e200)
        assert result.value is None
        assert result.error == "the result is too large: sales_amount * sales_amount"

    def test_non_finite_input_is_an_error_for_the_row(self):
        result = evaluate_both("sales_amount + 1", sales_amount=math.inf)
        assert result.error == "input 'sales_amount' is not a finite number"

    def test_nan_input_is_missing(self):
        assert value("sales_amount + 1", sales_amount=math.nan) is None

    @pytest.mark.parametrize(
        "given, message",
        [
            ("12abc", "input 'calls' should be a number, got '12abc'"),
            (True, "input 'calls' should be a number, got True"),
            (10**400, "input 'calls' is not a finite number"),
        ],
    )
    def test_wrongly_typed_input_is_an_error_for_the_row(self, given, message):
        assert evaluate_both("calls + 1", calls=given).error == message


class TestColumns:
    def test_many_rows_with_mixed_outcomes(self):
        compiled = compile_formula("round(won / deals * 100, 1)", CATALOGUE)
        result = compiled.evaluate_columns(
            {"won": np.array([1.0, 2.0, np.nan, 5.0, 1e300]), "deals": np.array([3.0, 0.0, 4.0, 5.0, 1e-300])}
        )
        assert result.to_list() == [33.3, None, None, 100.0, None]
        assert result.row(1).notes == ("division by zero: won / deals",)
        assert result.error.tolist() == [False, False, False, False, True]
        assert result.row(4).error == "the result is too large: won / deals"

    def test_conditions_give_booleans_and_missing(self):
        compiled = compile_formula("status == 'won' and sales_amount > 0", CATALOGUE)
        result = compiled.evaluate_columns({"status": ["won", "won", None, "lost"], "sales_amount": [10, None, 5, 5]})
        assert result.to_list() == [True, None, False, False]

    def test_integer_and_object_inputs_are_accepted(self):
        compiled = compile_formula("calls * 2", CATALOGUE)
        assert compiled.evaluate_columns({"calls": np.array([1, 2], dtype=np.int64)}).to_list() == [2.0, 4.0]
        result = compiled.evaluate_columns({"calls": [1, "x", None]})
        assert result.to_list() == [2.0, None, None]
        assert result.row(1).error == "input 'calls' should be a number, got 'x'"

    def test_plain_sequences_with_missing_values(self):
        compiled = compile_formula("IF(is_new, calls, 0) + IF(status == 'won', 1, 0)", CATALOGUE)
        result = compiled.evaluate_columns(
            {"is_new": [True, None, False], "calls": [2, 5.5, None], "status": ["won", None, "lost"]}
        )
        assert result.to_list() == [3.0, None, 0.0]
        huge = compiled.evaluate_columns({"is_new": [True], "calls": [10**400], "status": ["won"]})
        assert huge.row(0).error == "input 'calls' is not a finite number"

    def test_constant_formula_needs_a_size(self):
        compiled = compile_formula("1 + 1", CATALOGUE)
        assert compiled.evaluate_columns({}, size=3).to_list() == [2.0, 2.0, 2.0]
        with pytest.raises(ValueError, match="size is required"):
            compiled.evaluate_columns({})

    def test_missing_and_misshaped_columns_are_clear_errors(self):
        compiled = compile_formula("won / deals", CATALOGUE)
        with pytest.raises(ValueError, match="no values given for 'deals'"):
            compiled.evaluate_columns({"won": [1.0]})
        with pytest.raises(ValueError, match="input 'deals' has 2 values, expected 1"):
            compiled.evaluate_columns({"won": [1.0], "deals": [1.0, 2.0]})
        with pytest.raises(ValueError, match="no value given for 'deals'"):
            compiled.evaluate({"won": 1.0})


def test_result_types():
    assert compile_formula("calls > 1", CATALOGUE).type is BOOLEAN
    assert compile_formula("calls + 1", CATALOGUE).type is NUMBER
    assert compile_formula("None", CATALOGUE).type is NUMBER


def test_compiled_formula_is_reusable_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    compiled = compile_formula("won / deals", CATALOGUE)
    rows = [{"won": float(i), "deals": float(i % 7)} for i in range(2000)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(compiled.evaluate, rows))
    expected = [None if r["deals"] == 0 else r["won"] / r["deals"] for r in rows]
    assert [r.value for r in results] == expected
