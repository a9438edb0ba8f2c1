"""Hypothesis strategies: random well-typed formulas and random rows of data for them."""

from __future__ import annotations

from hypothesis import strategies as st

from perfrules.formula import BOOLEAN, NUMBER, TEXT

NUMBER_NAMES = ["x", "y", "z", "target.x"]
CATALOGUE = {**dict.fromkeys(NUMBER_NAMES, NUMBER), "flag": BOOLEAN, "status": TEXT}

NUMBER_LITERALS = ["0", "1", "2", "0.5", "100", "1.005", "2.5", "0.125"]
#: literals that overflow or underflow when combined; PostgreSQL raises on float overflow
EXTREME_LITERALS = ["1e300", "1e-300"]
TEXT_VALUES = ["won", "lost", "open"]

#: functions available to SQL, and the others that are not
SQL_FUNCTIONS = ["min", "MAX", "abs", "clamp", "coalesce"]
ROW_ONLY_FUNCTIONS = ["round", "ROUND", "floor", "ceil"]


@st.composite
def number_formulas(draw, depth: int = 4, sql: bool = False, may_be_none: bool = False) -> str:
    """A number formula; `may_be_none` where the literal None is allowed (IF results, arguments)."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        literals = NUMBER_LITERALS + ([] if sql else EXTREME_LITERALS) + (["None"] if may_be_none else [])
        return draw(st.sampled_from(NUMBER_NAMES + literals))
    sub = lambda: draw(number_formulas(depth - 1, sql))  # noqa: E731
    arg = lambda: draw(number_formulas(depth - 1, sql, may_be_none=True))  # noqa: E731
    functions = SQL_FUNCTIONS + ([] if sql else ROW_ONLY_FUNCTIONS)
    kind = draw(st.sampled_from(["op", "op", "op", "neg", "call", "if", "ifexp"]))
    if kind == "op":
        return f"({sub()} {draw(st.sampled_from('+-*/'))} {sub()})"
    if kind == "neg":
        return f"(-{sub()})"
    if kind == "if":
        return f"IF({draw(condition_formulas(depth - 1, sql))}, {sub()}, {arg()})"
    if kind == "ifexp":
        return f"({arg()} if {draw(condition_formulas(depth - 1, sql))} else {sub()})"
    name = draw(st.sampled_from(functions))
    lowered = name.lower()
    if lowered in ("min", "max", "coalesce"):
        return f"{name}({sub()}, {', '.join(arg() for _ in range(draw(st.integers(1, 2))))})"
    if lowered == "clamp":
        return f"{name}({arg()}, {arg()}, {arg()})"
    if lowered == "round":
        digits = draw(st.sampled_from(["", ", 0", ", 1", ", 2", ", -1"]))
        return f"{name}({arg()}{digits})"
    return f"{name}({arg()})"


@st.composite
def condition_formulas(draw, depth: int = 4, sql: bool = False) -> str:
    leaves = [
        "flag",
        "True",
        "False",
        "(status == 'won')",
        "(status != 'lost')",
        "(status in ('won', 'open'))",
        "(status not in ('won', None))",
        "(status == None)",
    ]
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(leaves))
    number = lambda: draw(number_formulas(depth - 1, sql))  # noqa: E731
    condition = lambda: draw(condition_formulas(depth - 1, sql))  # noqa: E731
    kind = draw(
        st.sampled_from(
            [
                "order",
                "order",
                "chain",
                "equal",
                "null",
                "in",
                "and",
                "or",
                "not",
                "AND",
                "OR",
                "NOT",
                "if",
                "flag_equal",
            ]
        )
    )
    if kind == "order":
        return f"({number()} {draw(st.sampled_from(['<', '<=', '>', '>=']))} {number()})"
    if kind == "chain":
        return f"({number()} < {number()} <= {number()})"
    if kind == "equal":
        return f"({number()} {draw(st.sampled_from(['==', '!=']))} {number()})"
    if kind == "null":
        return f"({number()} {draw(st.sampled_from(['==', '!=']))} None)"
    if kind == "in":
        return f"({number()} {draw(st.sampled_from(['in', 'not in']))} (0, 1, 2.5, None))"
    if kind in ("and", "or"):
        return f"({condition()} {kind} {condition()})"
    if kind == "not":
        return f"(not {condition()})"
    if kind in ("AND", "OR"):
        return f"{kind}({condition()}, {condition()})"
    if kind == "NOT":
        return f"NOT({condition()})"
    if kind == "flag_equal":
        return f"({condition()} == flag)"
    return f"IF({condition()}, {condition()}, {condition()})"


def number_values(extreme: bool = True):
    special = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.125, 1.005]
    if extreme:
        special += [1e300, -1e300, 1e-300, 5e-324, 1.7e308]
    limit = 1e15 if extreme else 1e6
    return st.one_of(
        st.none(),
        st.sampled_from(special),
        st.integers(-1000, 1000).map(float),
        st.floats(-limit, limit, allow_nan=False, allow_infinity=False),
    )


def rows(extreme: bool = True):
    return st.fixed_dictionaries(
        {
            **{name: number_values(extreme) for name in NUMBER_NAMES},
            "flag": st.one_of(st.none(), st.booleans()),
            "status": st.one_of(st.none(), st.sampled_from(TEXT_VALUES)),
        }
    )


#: what the checker says about fixed numbers that can never give a value (1 / 0, 1e300 * 1e300)
CONSTANT_FAILURES = ("division by zero", "the result is too large")


def compile_or_reject(text: str, **kwargs):
    """Compile a generated formula; tell Hypothesis to discard one whose fixed numbers always fail."""
    from hypothesis import assume

    from perfrules.formula import FormulaError, compile_formula

    try:
        return compile_formula(text, CATALOGUE, **kwargs)
    except FormulaError as exc:
        assume(exc.message not in CONSTANT_FAILURES)
        raise
