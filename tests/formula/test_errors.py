"""Errors explain themselves: the reason in plain words and the place, with a caret."""

from __future__ import annotations

import pytest

from perfrules.formula import (
    BOOLEAN,
    NUMBER,
    TEXT,
    Catalogue,
    FormulaError,
    Function,
    FunctionRegistry,
    builtin_functions,
    compile_formula,
)

CATALOGUE = {
    "sales_amount": NUMBER,
    "target.sales_amount": NUMBER,
    "status": TEXT,
    "is_new": BOOLEAN,
    "calls": NUMBER,
    "销售额": NUMBER,
}


def error_of(text: str, **kwargs) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        compile_formula(text, CATALOGUE, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "text, message, excerpt",
    [
        (
            "sales_amout / target.sales_amount",
            "unknown name 'sales_amout' — did you mean 'sales_amount'?",
            "sales_amout / target.sales_amount\n^^^^^^^^^^^",
        ),
        ("ROUND(calls, 2, 3)", "ROUND takes 1 or 2 arguments, got 3", "ROUND(calls, 2, 3)\n^^^^^^^^^^^^^^^^^^"),
        ("calls % 2", "'%' is not allowed in formulas", "calls % 2\n      ^"),
        ("status + 1", "text can only be compared, not used in arithmetic", "status + 1\n^^^^^^"),
        (
            "calls + target.sales",
            "unknown name 'target.sales' — did you mean 'target.sales_amount'?",
            "calls + target.sales\n        ^^^^^^^^^^^^",
        ),
        (
            "Sales_Amount + 1",
            "unknown name 'Sales_Amount' — did you mean 'sales_amount'?",
            "Sales_Amount + 1\n^^^^^^^^^^^^",
        ),
        ("销售额 + 销量", "unknown name '销量'", "销售额 + 销量\n         ^^^^"),
        ("calls（1）", "'（' is a full-width character — did you mean '('?", "calls（1）\n     ^^"),
        (
            "status == ‘won’",
            "'‘' is a typographic quote; write text in straight quotes: 'won'",
            "status == ‘won’\n          ^",
        ),
        ("calls = 5", "'=' assigns a value; to compare two values use '=='", "calls = 5\n      ^"),
        ("calls; calls", "only one expression is allowed: ';' starts a second one", "calls; calls\n     ^"),
        (
            "IF(calls, 1, 2)",
            "IF's condition must be true/false, not a number; compare it first, for example x > 0",
            "IF(calls, 1, 2)\n   ^^^^^",
        ),
        (
            "if(is_new, 1, 2)",
            "'if' is a keyword here; to call the function write it in capitals: IF(…)",
            "if(is_new, 1, 2)\n^",
        ),
        ("calls > 'x'", "text can only be compared with ==, !=, in or not in, not '>'", "calls > 'x'\n        ^^^"),
        ("calls == status", "cannot compare a number with text", "calls == status\n^^^^^^^^^^^^^^^"),
        (
            "is_new + 1",
            "true/false values cannot be used with '+'; use IF(condition, 1, 0) to turn one into a number",
            "is_new + 1\n^^^^^^",
        ),
        (
            "calls and is_new",
            "'and' needs true/false conditions, not a number; compare it first, for example x > 0",
            "calls and is_new\n^^^^^",
        ),
        ("min(calls)", "MIN takes at least 2 arguments, got 1", "min(calls)\n^^^^^^^^^^"),
        ("abs(calls, 1)", "ABS takes 1 argument, got 2", "abs(calls, 1)\n^^^^^^^^^^^^^"),
        ("clamp(calls, 1)", "CLAMP takes 3 arguments, got 2", "clamp(calls, 1)\n^^^^^^^^^^^^^^^"),
        ("IF(is_new, 1)", "IF takes 3 arguments, got 2", "IF(is_new, 1)\n^^^^^^^^^^^^^"),
        (
            "ROUND(calls, 2.5)",
            "ROUND's digits must be a whole number from -10 to 10",
            "ROUND(calls, 2.5)\n^^^^^^^^^^^^^^^^^",
        ),
        (
            "ROUND(calls, calls)",
            "argument 2 of ROUND must be a fixed number",
            "ROUND(calls, calls)\n             ^^^^^",
        ),
        ("sqrt(calls)", "unknown function 'sqrt'", "sqrt(calls)\n^^^^"),
        ("mn(calls, 1)", "unknown function 'mn' — did you mean 'MIN'?", "mn(calls, 1)\n^^"),
        ("calls(1)", "'calls' is a value, not a function", "calls(1)\n^^^^^"),
        ("ROUND", "ROUND is a function: call it with arguments, for example ROUND(…)", "ROUND\n^^^^^"),
        ("calls +", "the formula ends too early: something is missing at the end", "calls +\n       ^"),
        ("(calls + 1", "'(' is never closed", "(calls + 1\n^"),
        ("calls + 1)", "unmatched ')'", "calls + 1)\n         ^"),
        (
            "calls < None",
            "None cannot be compared with '<'; use x == None to test for a missing value",
            "calls < None\n        ^^^^",
        ),
        (
            "calls in status",
            "the right side of 'in' must be a list of values in parentheses, for example status in ('won', 'lost')",
            "calls in status\n         ^^^^^^",
        ),
        (
            "status in ('won', 1)",
            "this list holds a number, but the value before 'in' is text",
            "status in ('won', 1)\n                  ^",
        ),
        (
            "status in ('won', calls)",
            "the list after 'in' may hold only fixed values",
            "status in ('won', calls)\n                  ^^^^^",
        ),
        ("status", "text can only be compared (==, !=, in), not used as a result", "status\n^^^^^^"),
        (
            "IF(is_new, 1, is_new)",
            "both results of IF must be of one kind: a number and a true/false value are mixed",
            "IF(is_new, 1, is_new)\n           ^^^^^^^^^",
        ),
        (
            "ROUND(status, 1)",
            "text can only be compared (==, !=, in), not used as a value",
            "ROUND(status, 1)\n      ^^^^^^",
        ),
        ("", "the formula is empty", ""),
    ],
)
def test_error_message_and_position(text, message, excerpt):
    error = error_of(text)
    assert error.message == message
    assert error.excerpt() == excerpt


def test_error_position_on_a_later_line():
    error = error_of("calls\n  + sales_amout")
    assert (error.line, error.column) == (2, 5)
    assert error.excerpt() == "  + sales_amout\n    ^^^^^^^^^^^"
    assert str(error) == (
        "unknown name 'sales_amout' — did you mean 'sales_amount'? (at line 2, column 5)\n"
        "      + sales_amout\n"
        "        ^^^^^^^^^^^"
    )


def test_error_as_json_for_the_editor():
    assert error_of("calls + salse_amount").to_dict() == {
        "message": "unknown name 'salse_amount' — did you mean 'sales_amount'?",
        "start": 8,
        "end": 20,
        "line": 1,
        "column": 9,
        "excerpt": "calls + salse_amount\n        ^^^^^^^^^^^^",
    }


def test_long_lines_are_cut_around_the_error():
    text = "calls + " * 40 + "salse_amount" + " + calls" * 40
    excerpt = error_of(text).excerpt()
    line, carets = excerpt.split("\n")
    assert len(line) <= 74 and line.startswith("…") and line.endswith("…")
    assert line[carets.index("^") :].startswith("salse_amount")


def test_multiline_formulas_are_accepted():
    compiled = compile_formula("IF(is_new,\n   calls * 2,\n   calls)", CATALOGUE)
    assert compiled.evaluate({"is_new": True, "calls": 2.0}).value == 4.0


def test_expected_result_kind():
    assert error_of("calls + 1", expect=BOOLEAN).message == (
        "this must give a true/false condition, but it gives a number"
    )
    assert error_of("calls > 1", expect=NUMBER).message == (
        "this must give a number, but it gives a true/false condition"
    )
    compile_formula("calls > 1", CATALOGUE, expect=BOOLEAN)


def test_referenced_names_and_functions_in_order_of_appearance():
    compiled = compile_formula("ROUND(calls / target.sales_amount, 2) + max(sales_amount, calls)", CATALOGUE)
    assert compiled.names == ("calls", "target.sales_amount", "sales_amount")
    assert compiled.functions == ("ROUND", "MAX")


class TestCatalogue:
    @pytest.mark.parametrize("name", ["_private", "a__b", "1st", "a..b", "a.", "true", "x-y", "a b", "None"])
    def test_rejects_names_formulas_could_not_use(self, name):
        with pytest.raises(ValueError):
            Catalogue({name: NUMBER})

    def test_rejects_duplicates_and_unknown_types(self):
        with pytest.raises(ValueError, match="defined twice"):
            Catalogue().merged(Catalogue({"a": NUMBER})).merged(Catalogue({"a": TEXT}))
        with pytest.raises(ValueError, match="unknown type 'colour'"):
            Catalogue({"a": "colour"})

    def test_accepts_type_words(self):
        catalogue = Catalogue({"a": "decimal", "b": "bool", "c": "choice", "客户.数量": "integer"})
        assert [info.type for info in catalogue] == [NUMBER, BOOLEAN, TEXT, NUMBER]


class TestRegistry:
    def test_function_names_are_case_insensitive(self):
        for text in ("MIN(calls, 1)", "min(calls, 1)", "Min(calls, 1)"):
            assert compile_formula(text, CATALOGUE).functions == ("MIN",)

    def test_language_forms_cannot_be_redefined(self):
        fake = Function(name="IF", params=(NUMBER,), reference=abs, vector=abs)
        with pytest.raises(ValueError, match="part of the formula language"):
            FunctionRegistry([fake])

    def test_a_function_cannot_be_registered_twice(self):
        registry = builtin_functions()
        with pytest.raises(ValueError, match="registered twice"):
            registry.register(Function(name="Abs", params=(NUMBER,), reference=abs, vector=abs))

    def test_a_formula_only_sees_the_registry_it_is_compiled_with(self):
        with pytest.raises(FormulaError, match="unknown function 'MIN'|unknown function 'min'"):
            compile_formula("min(calls, 1)", CATALOGUE, functions=FunctionRegistry())


def test_long_flat_sums_are_not_too_deep():
    terms = " + ".join(f"calls * {i}" for i in range(150))
    assert compile_formula(terms, CATALOGUE).evaluate({"calls": 1.0}).value == sum(range(150))
