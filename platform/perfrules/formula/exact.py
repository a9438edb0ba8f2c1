"""The exact evaluator: the checked tree walked with `Decimal`, for formulas that compute money.

Numbers written in a formula are read as the decimal they are written as (0.1 is one tenth, not
the binary float nearest it); names are given as `Decimal`s; + − × are exact and ÷ is carried to
28 significant digits, so a pay line computed here and rounded once to the cent is the amount a
person working it out on paper gets. The language's rules for missing values are the other
evaluators': a missing operand gives no value; division by zero stops, saying where.
Functions have exact forms only for the built-in arithmetic ones; a formula calling another
(a plugin's) is refused by `exact_problem` before it is stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, getcontext

from . import tree as t
from .types import Value

Exact = Decimal | bool | str | None


def _number(value: float) -> Decimal:
    """A constant as written: the shortest decimal that reads back as the float the checker kept
    (the checker refuses constants that are not finite)."""
    if not math.isfinite(value):
        raise ExactEvaluationError(f"{value} is not a number money can be worked out with")
    return Decimal(repr(value))


def _round(x: Decimal, digits: float = 0) -> Decimal:
    if x.is_zero() or x.adjusted() + int(digits) >= getcontext().prec:
        return x  # no digit to round at that place within the precision: already whole there
    return x.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)


#: the built-in functions' exact forms (the constants, such as ROUND's digits, come last)
EXACT_FUNCTIONS: dict[str, Callable[..., Decimal]] = {
    "min": lambda *xs: min(xs),
    "max": lambda *xs: max(xs),
    "abs": abs,
    "round": _round,
    "floor": lambda x: x.to_integral_value(rounding=ROUND_FLOOR),
    "ceil": lambda x: x.to_integral_value(rounding=ROUND_CEILING),
    "clamp": lambda x, low, high: min(max(x, low), high),
}


class ExactEvaluationError(ArithmeticError):
    """The formula gave no value: says where and why."""


def exact_problem(root: t.Node) -> t.Call | None:
    """The first call of a function with no exact form, if any."""
    if isinstance(root, t.Call) and root.function.name not in EXACT_FUNCTIONS:
        return root
    for child in t.children(root):
        found = exact_problem(child)
        if found is not None:
            return found
    return None


def evaluate_exact(root: t.Node, row: Mapping[str, Exact], excerpt: Callable[[tuple[int, int]], str]) -> Exact:
    return _Walk(row, excerpt).value(root)


class _Walk:
    def __init__(self, row: Mapping[str, Exact], excerpt: Callable[[tuple[int, int]], str]):
        self.row, self.excerpt = row, excerpt

    def value(self, node: t.Node) -> Exact:
        if isinstance(node, t.Const):
            return _number(node.value) if isinstance(node.value, float) else _plain(node.value)
        if isinstance(node, t.Name):
            return self.row.get(node.name)
        if isinstance(node, t.Shared):
            return self.value(node.operand)
        if isinstance(node, t.Negate):
            operand = self.value(node.operand)
            return None if operand is None else -Decimal(operand)
        if isinstance(node, t.Not):
            operand = self.value(node.operand)
            return None if operand is None else not operand
        if isinstance(node, t.Arithmetic):
            return self._arithmetic(node)
        if isinstance(node, t.Order):
            left, right = self.value(node.left), self.value(node.right)
            if left is None or right is None:
                return None
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]  # type: ignore[operator]
        if isinstance(node, t.Equal):
            equal = self.value(node.left) == self.value(node.right)
            return equal != node.negated
        if isinstance(node, t.IsNull):
            return (self.value(node.operand) is None) != node.negated
        if isinstance(node, t.In):
            operand = self.value(node.operand)
            listed = {_number(v) if isinstance(v, float) else v for v in node.values}
            return (operand in listed) != node.negated
        if isinstance(node, t.Logic):
            return self._logic(node)
        if isinstance(node, t.If):
            condition = self.value(node.condition)
            if condition is None:
                return None
            return self.value(node.then if condition else node.otherwise)
        if isinstance(node, t.Coalesce):
            return next((found for found in map(self.value, node.args) if found is not None), None)
        if isinstance(node, t.Call):
            args = [self.value(arg) for arg in node.args]
            if any(arg is None for arg in args):
                return None
            return EXACT_FUNCTIONS[node.function.name](*args, *node.constants)
        raise TypeError(f"no exact evaluation for {type(node).__name__}")

    def _arithmetic(self, node: t.Arithmetic) -> Exact:
        left, right = self.value(node.left), self.value(node.right)
        if left is None or right is None:
            return None
        assert isinstance(left, Decimal) and isinstance(right, Decimal)
        if node.op == "/":
            if right == 0:
                raise ExactEvaluationError(f"division by zero: {self.excerpt(node.span)}")
            try:
                return left / right
            except InvalidOperation:
                raise ExactEvaluationError(f"no value: {self.excerpt(node.span)}") from None
        return {"+": left + right, "-": left - right, "*": left * right}[node.op]

    def _logic(self, node: t.Logic) -> Exact:
        decisive = node.op == "or"  # true decides an `or`, false an `and`
        missing = False
        for operand in node.operands:
            found = self.value(operand)
            if found is None:
                missing = True
            elif bool(found) == decisive:
                return decisive
        return None if missing else not decisive


def _plain(value: Value) -> Exact:
    return value if value is None or isinstance(value, bool | str) else _number(float(value))
