"""Hostile formulas are rejected when checked: quickly, clearly, without crash, hang or blow-up."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from perfrules.formula import BOOLEAN, NUMBER, TEXT, FormulaError, Limits, compile_formula

CATALOGUE = {"calls": NUMBER, "status": TEXT, "is_new": BOOLEAN}

HOSTILE = [
    # walks from a value to Python's object graph
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "calls.__class__.__init__.__globals__",
    "calls.real",
    "status.upper()",
    "(calls).__class__",
    "().__ｃｌａｓｓ__",  # full-width letters, NFKC-folded to __class__ by Python's parser
    "＿＿import＿＿('os')",  # full-width underscores
    "calls if True else __builtins__",
    # builtins and escape hatches
    "getattr(calls, '__class__')",
    "eval('1+1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "__import__('os').system('id')",
    "compile('1', 'x', 'eval')",
    "globals()",
    "vars()",
    "type(calls)",
    "str(calls)",
    "float('nan')",
    "rand()",
    "randint(10)",
    "IF(True, 1, open('x'))",
    "import os",
    # format-string tricks
    "'%1000000000d' % 1",
    "'{0.__class__}'.format(1)",
    "f'{calls.__class__}'",
    "b'\\x00'",
    # huge numbers, products and repetitions
    "4000000**4000000",
    "10**4000000 * 10**4000000",
    "9**9**9**9",
    "1 << 100000",
    "'a' * 1000000000",
    "['a'] * 1000000000",
    "('a',) * 1000000000",
    "1" * 5000,
    "1e999",
    "'" + "a" * 1000 + "'",
    # depth and length
    "-" * 100000 + "1",
    "not " * 100000 + "True",
    "~" * 1000 + "1",
    "1+" * 50000 + "1",
    "(" * 100000 + "1" + ")" * 100000,
    "min(" + "1, " * 3000 + "1)",
    # statements, assignment and other syntax
    "x = 0",
    "calls = 0",
    "calls := 1",
    "calls; calls",
    "lambda: 1",
    "(lambda: 1)()",
    "[c for c in (1, 2)]",
    "{c: 1 for c in (1,)}",
    "{'a': 1}",
    "calls[0]",
    "(yield 1)",
    "await calls",
    "*calls",
    "calls @ calls",
    "calls\x00",
    "calls\u202e + 1",
]


def test_there_are_at_least_forty():
    assert len(HOSTILE) >= 40


def _check_hostile(text: str, limits: Limits | None = None) -> tuple[FormulaError, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FormulaError) as caught:
            compile_formula(text, CATALOGUE, **({"limits": limits} if limits else {}))
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return caught.value, elapsed, peak


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: repr(text[:40]))
def test_hostile_formula_is_rejected_quickly_and_clearly(text):
    error, elapsed, peak = _check_hostile(text)
    assert error.message and "Traceback" not in str(error)
    assert 0 <= error.start <= len(text)
    # tracemalloc slows everything down, so time the check again without it
    started = time.perf_counter()
    with pytest.raises(FormulaError):
        compile_formula(text, CATALOGUE)
    assert time.perf_counter() - started < 0.05, f"took {elapsed * 1000:.1f} ms"
    assert peak < 8 * 2**20, f"used {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize(
    "text",
    [
        "-" * 100000 + "1",
        "not " * 100000 + "True",
        "1+" * 50000 + "1",
        "(" * 100000 + "1" + ")" * 100000,
        "IF(is_new, " * 300 + "1" + ", 0)" * 300,
    ],
    ids=["unary", "not", "sum", "brackets", "nested-if"],
)
def test_depth_defences_hold_without_the_length_cap(text):
    """The length cap stops these first; the checks behind it must hold on their own too."""
    error, _, _ = _check_hostile(text, Limits(max_length=10**7))
    assert "nested too deeply" in error.message or "too many parts" in error.message


def test_the_node_cap_holds_without_the_length_cap():
    error, _, _ = _check_hostile("min(" + "1, " * 3000 + "1)", Limits(max_length=10**7))
    assert "too many parts" in error.message


@pytest.mark.parametrize(
    "text, message",
    [
        ("().__class__", "names may not start with '_' or contain '__': '__class__'"),
        ("calls.real", "unknown name 'calls.real'"),
        ("status.upper()", "methods cannot be called on values"),
        ("eval('1')", "unknown function 'eval'"),
        ("4000000**4000000", "'**' (power) is not allowed in formulas; multiply instead"),
        ("'a' * 1000000000", "text can only be compared, not used in arithmetic"),
        ("1" * 5000, "the formula is too long (5000 characters; the limit is 2000)"),
        ("1" * 100, "this number is too long (100 characters; the limit is 40)"),
        ("x = 0", "'=' assigns a value; to compare two values use '=='"),
        ("calls\x00", "the invisible character U+0000 is not allowed in formulas"),
        ("(lambda: 1)()", "lambda functions are not allowed in formulas"),
    ],
)
def test_hostile_formulas_get_a_reason_in_plain_words(text, message):
    error, _, _ = _check_hostile(text)
    assert error.message == message
