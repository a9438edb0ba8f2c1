"""Functions a formula may call: the built-ins and the registry plugins add to.

Every function has two implementations that must agree: `reference`, called once per row with
plain Python floats and booleans, and `vector`, called once per column with numpy arrays. A
function never sees a missing value: if any argument is null the result is null without calling
it. `sql`, when given, lets the function run inside database filters.

IF, AND, OR, NOT and COALESCE are not functions but forms of the language (they decide which
arguments to evaluate and how nulls behave); the checker turns them into tree nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray

from .types import NUMBER, ValueType

#: A SQL expression for a formula or one of its parts. Its Python type is whatever the formula
#: computes (a number, a true/false, text or NULL), and ColumnElement is invariant in it, so it
#: is left open: any SQL value.
SqlExpression: TypeAlias = sa.ColumnElement[Any]

#: What a `reference` implementation gives for one row: a number or a true/false; None (or NaN)
#: when it gives no value.
ReferenceResult: TypeAlias = float | bool | None

#: What a `vector` implementation gives for a column of rows: float64 for a number function (NaN
#: where it gives no value); bool for a true/false function, or float64 with NaN or object with
#: None where it gives no value.
VectorResult: TypeAlias = NDArray[np.float64] | NDArray[np.bool_] | NDArray[np.object_]

#: forms of the language that read like functions: name → (how to call it, least and most arguments)
SPECIAL_FORMS: dict[str, tuple[str, int, int | None]] = {
    "if": ("IF(condition, then, otherwise)", 3, 3),
    "and": ("AND(a, b, ...)", 1, None),
    "or": ("OR(a, b, ...)", 1, None),
    "not": ("NOT(a)", 1, 1),
    "coalesce": ("COALESCE(a, b, ...)", 2, None),
}


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[ValueType, ...]
    #: called with one float or bool per argument, then the constants
    reference: Callable[..., ReferenceResult]
    #: called with one float64 or bool array per argument, then the constants
    vector: Callable[..., VectorResult]
    returns: ValueType = NUMBER
    #: optional trailing parameters, after `params`
    optional: tuple[ValueType, ...] = ()
    #: type of any number of further arguments (MIN, MAX)
    variadic: ValueType | None = None
    #: how many trailing parameters must be written as constant numbers (ROUND's digits)
    constant_params: int = 0
    #: checks the constant arguments; returns a message when they are not acceptable
    check_constants: Callable[[tuple[float, ...]], str | None] | None = None
    #: recorded as a note when the function gives no value for non-null inputs
    null_reason: str | None = None
    #: builds the SQL expression from the arguments' SQL; never called with a missing argument
    sql: Callable[..., SqlExpression] | None = None
    signature: str = ""
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.name.upper()

    @property
    def min_args(self) -> int:
        return len(self.params)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params) + len(self.optional)

    def arity_error(self, given: int) -> str | None:
        low, high = self.min_args, self.max_args
        if low <= given and (high is None or given <= high):
            return None
        if high is None:
            wanted = f"at least {low} argument{'s' if low != 1 else ''}"
        elif low == high:
            wanted = f"{low} argument{'s' if low != 1 else ''}"
        elif high == low + 1:
            wanted = f"{low} or {high} arguments"
        else:
            wanted = f"{low} to {high} arguments"
        return f"{self.display_name} takes {wanted}, got {given}"

    def param_type(self, index: int) -> ValueType:
        """The type of argument `index` (from 0), which must be one the function takes."""
        fixed = self.params + self.optional
        if index < len(fixed):
            return fixed[index]
        if self.variadic is None:
            raise IndexError(f"{self.display_name} takes no argument {index + 1}")
        return self.variadic


class FunctionRegistry:
    """Functions by case-insensitive name."""

    def __init__(self, functions: tuple[Function, ...] | list[Function] = ()):
        self._functions: dict[str, Function] = {}
        for function in functions:
            self.register(function)

    def register(self, function: Function) -> None:
        key = function.name.lower()
        if not key.isidentifier():
            raise ValueError(f"function name {function.name!r} is not a valid identifier")
        if key in SPECIAL_FORMS:
            raise ValueError(f"{function.display_name} is part of the formula language and cannot be redefined")
        if key in self._functions:
            raise ValueError(f"function {function.display_name} is registered twice")
        self._functions[key] = function

    def get(self, name: str) -> Function | None:
        return self._functions.get(name.lower())

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __iter__(self) -> Iterator[Function]:
        return iter(self._functions.values())

    def copy(self) -> FunctionRegistry:
        return FunctionRegistry(list(self))


# --- rounding half away from zero -------------------------------------------------------------
# Values such as 1.005 are stored as 1.00499999…; people expect ROUND(1.005, 2) = 1.01, as in a
# spreadsheet. A fraction within a few ulps of one half is therefore taken as one half — but never
# more than 2**-6 away, or huge values (whose ulps are large) would all round up. Both
# implementations run the same IEEE operations, so they agree bit for bit.

_TIE_ULPS = 4 * 2.0**-52
_TIE_LIMIT = 2.0**-6
_EXACT = 2.0**52  # beyond this every float is a whole number


def round_half_away(x: float, digits: float = 0) -> float:
    digits = int(digits)
    scale = 10.0 ** abs(digits)
    magnitude = abs(x)
    scaled = magnitude * scale if digits >= 0 else magnitude / scale
    if scaled >= _EXACT:
        return x
    whole: float = math.floor(scaled)
    if scaled - whole >= 0.5 - min(_TIE_ULPS * scaled, _TIE_LIMIT):
        whole += 1.0
    rounded = whole / scale if digits >= 0 else whole * scale
    return math.copysign(rounded, x) if rounded else 0.0


def round_half_away_vector(x: NDArray[np.float64], digits: float = 0) -> NDArray[np.float64]:
    digits = int(digits)
    scale = 10.0 ** abs(digits)
    magnitude = np.abs(x)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values are kept as they are below
        scaled = magnitude * scale if digits >= 0 else magnitude / scale
        whole = np.floor(scaled)
        whole += (scaled - whole) >= (0.5 - np.minimum(_TIE_ULPS * scaled, _TIE_LIMIT))
        rounded = whole / scale if digits >= 0 else whole * scale
    rounded = np.copysign(rounded, x)
    rounded[rounded == 0] = 0.0
    return np.where(scaled >= _EXACT, x, rounded)


def _check_round_digits(constants: tuple[float, ...]) -> str | None:
    if not constants:
        return None
    digits = constants[0]
    if digits != int(digits) or not -10 <= digits <= 10:
        return "ROUND's digits must be a whole number from -10 to 10"
    return None


# --- SQL helpers ------------------------------------------------------------------------------


def _sql_least(*args: SqlExpression) -> SqlExpression:
    result = args[0]
    for other in args[1:]:
        result = sa.case((result <= other, result), else_=other)
    return result


def _sql_greatest(*args: SqlExpression) -> SqlExpression:
    result = args[0]
    for other in args[1:]:
        result = sa.case((result >= other, result), else_=other)
    return result


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


BUILTINS = (
    Function(
        name="min",
        params=(NUMBER, NUMBER),
        variadic=NUMBER,
        reference=lambda *xs: min(xs),
        vector=lambda *xs: np.minimum.reduce(xs),
        sql=_sql_least,
        signature="MIN(a, b, ...)",
        summary={"en": "the smallest of two or more numbers", "zh": "两个或多个数中的最小值"},
    ),
    Function(
        name="max",
        params=(NUMBER, NUMBER),
        variadic=NUMBER,
        reference=lambda *xs: max(xs),
        vector=lambda *xs: np.maximum.reduce(xs),
        sql=_sql_greatest,
        signature="MAX(a, b, ...)",
        summary={"en": "the largest of two or more numbers", "zh": "两个或多个数中的最大值"},
    ),
    Function(
        name="abs",
        params=(NUMBER,),
        reference=abs,
        vector=np.abs,
        sql=sa.func.abs,
        signature="ABS(x)",
        summary={"en": "absolute value", "zh": "绝对值"},
    ),
    Function(
        name="round",
        params=(NUMBER,),
        optional=(NUMBER,),
        constant_params=1,
        check_constants=_check_round_digits,
        reference=round_half_away,
        vector=round_half_away_vector,
        signature="ROUND(x, digits)",
        summary={
            "en": "round half away from zero: ROUND(2.5) = 3, ROUND(-2.5) = -3",
            "zh": "四舍五入(远离零):ROUND(2.5) = 3,ROUND(-2.5) = -3",
        },
    ),
    Function(
        name="floor",
        params=(NUMBER,),
        reference=lambda x: float(math.floor(x)),
        vector=np.floor,
        signature="FLOOR(x)",
        summary={"en": "round down to a whole number", "zh": "向下取整"},
    ),
    Function(
        name="ceil",
        params=(NUMBER,),
        reference=lambda x: float(math.ceil(x)),
        vector=np.ceil,
        signature="CEIL(x)",
        summary={"en": "round up to a whole number", "zh": "向上取整"},
    ),
    Function(
        name="clamp",
        params=(NUMBER, NUMBER, NUMBER),
        reference=_clamp,
        vector=lambda x, low, high: np.minimum(np.maximum(x, low), high),
        sql=lambda x, low, high: _sql_least(_sql_greatest(x, low), high),
        signature="CLAMP(x, low, high)",
        summary={"en": "x limited to the range low..high", "zh": "把 x 限制在 low 到 high 之间"},
    ),
)


def builtin_functions() -> FunctionRegistry:
    """A fresh registry holding the built-in functions only."""
    return FunctionRegistry(BUILTINS)
