"""The fast evaluator: the checked tree over whole columns with numpy.

Representation while evaluating: numbers are float64 arrays (or scalars) with NaN for missing;
conditions are (values, missing) pairs of bool arrays (or scalars); text is an object array with
None for missing. Each node is evaluated under an `active` mask, the rows for which the row-by-row
evaluator would evaluate it at all (IF's untaken branch, and/or operands after a decisive one are
inactive), so notes and errors are recorded for exactly the rows the reference records them for.
A row's first error wins and silences what follows, as raising does in the reference.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import tree as t
from .inputs import coerce_column
from .results import ColumnResult
from .scanner import Source
from .types import BOOLEAN, NULL, NUMBER, TEXT


class VectorEvaluation:
    """One evaluation of a checked formula over `size` rows."""

    def __init__(
        self, root: t.Node, source: Source, names: tuple[str, ...], types: Mapping, columns: Mapping, size: int
    ):
        self.root = root
        self.source = source
        self.size = size
        self.error = np.zeros(size, dtype=bool)
        self.reasons: list[tuple[str, np.ndarray]] = []
        self.notes: list[tuple[str, np.ndarray]] = []
        self.columns = {}
        self.shared: dict[int, object] = {}
        for name in names:
            if name not in columns:
                raise ValueError(f"no values given for '{name}'")
            column, bad, messages = coerce_column(name, types[name], columns[name], size)
            self.columns[name] = column
            if bad is not None:
                if isinstance(messages, str):
                    self._fail(messages, bad)
                else:
                    for message in dict.fromkeys(messages[bad].tolist()):
                        self._fail(message, messages == message)

    def run(self) -> ColumnResult:
        with np.errstate(all="ignore"):
            value = self._eval(self.root, None)
        if self.root.type is BOOLEAN:
            values, missing = self._condition(value)
            values = self._full(values)
            missing = self._full(missing) | self.error
            values = values & ~missing
            return ColumnResult(BOOLEAN, values, missing, self.error, self.reasons, self.notes)
        numbers = np.array(self._full(self._number(value)), dtype=np.float64)
        numbers[self.error] = np.nan
        return ColumnResult(NUMBER, numbers, np.isnan(numbers), self.error, self.reasons, self.notes)

    # --- bookkeeping ---------------------------------------------------------------------------

    def _full(self, value) -> np.ndarray:
        return np.broadcast_to(value, (self.size,))

    def _rows(self, condition, active) -> np.ndarray:
        """Rows where condition holds, the node is active and no error has stopped the row."""
        rows = self._full(condition) & ~self.error
        return rows if active is None else rows & active

    def _fail(self, message: str, rows: np.ndarray) -> None:
        rows = rows & ~self.error
        if rows.any():
            self.error |= rows
            self.reasons.append((message, rows))

    def _note(self, message: str, condition, active) -> None:
        rows = self._rows(condition, active)
        if rows.any():
            self.notes.append((message, rows))

    @staticmethod
    def _number(value):
        return np.nan if value is None else value

    @staticmethod
    def _condition(value):
        if value is None:
            return np.False_, np.True_
        return value

    # --- evaluation ----------------------------------------------------------------------------

    def _eval(self, node: t.Node, active):
        return _HANDLERS[type(node)](self, node, active)

    def _const(self, node: t.Const, active):
        if node.type is NUMBER:
            return np.float64(node.value)
        if node.type is BOOLEAN:
            return np.bool_(node.value), np.False_
        return node.value  # text, or None for the null constant

    def _name(self, node: t.Name, active):
        return self.columns[node.name]

    def _negate(self, node: t.Negate, active):
        return -self._number(self._eval(node.operand, active))

    def _not(self, node: t.Not, active):
        values, missing = self._condition(self._eval(node.operand, active))
        return ~values, missing

    def _shared(self, node: t.Shared, active):
        # first use is the chain's first comparison, whose active rows include the second's
        if id(node) not in self.shared:
            self.shared[id(node)] = self._eval(node.operand, active)
        return self.shared[id(node)]

    def _is_null(self, node: t.IsNull, active):
        return self._missing(node.operand, self._eval(node.operand, active)) ^ node.negated, np.False_

    def _missing(self, node: t.Node, value):
        if node.type is NUMBER:
            return np.isnan(self._number(value))
        if node.type is BOOLEAN:
            return self._condition(value)[1]
        if node.type is TEXT:
            return _is_none(value)
        return np.True_

    def _arithmetic(self, node: t.Arithmetic, active):
        left = self._number(self._eval(node.left, active))
        right = self._number(self._eval(node.right, active))
        if node.op == "+":
            result = left + right
        elif node.op == "-":
            result = left - right
        elif node.op == "*":
            result = left * right
        else:
            zero = (right == 0) & ~np.isnan(left)
            if np.any(zero):
                self._note(f"division by zero: {self.source.excerpt(node.span)}", zero, active)
                right = np.where(right == 0, np.nan, right)
            result = left / right
        return self._check_overflow(result, node, active)

    def _check_overflow(self, result, node: t.Node, active):
        overflow = np.isinf(result)
        if np.any(overflow):
            self._fail(f"the result is too large: {self.source.excerpt(node.span)}", self._rows(overflow, active))
            result = np.where(overflow, np.nan, result)
        return result

    def _order(self, node: t.Order, active):
        left = self._number(self._eval(node.left, active))
        right = self._number(self._eval(node.right, active))
        missing = np.isnan(left) | np.isnan(right)
        if node.op == "<":
            values = left < right
        elif node.op == "<=":
            values = left <= right
        elif node.op == ">":
            values = left > right
        else:
            values = left >= right
        return values, missing

    def _equal(self, node: t.Equal, active):
        left = self._eval(node.left, active)
        right = self._eval(node.right, active)
        if node.left.type is NUMBER:
            left_missing, right_missing = np.isnan(left), np.isnan(right)
            same = (left == right) | (left_missing & right_missing)
        elif node.left.type is BOOLEAN:
            (left, left_missing), (right, right_missing) = left, right
            same = ((left == right) & ~left_missing & ~right_missing) | (left_missing & right_missing)
        else:
            same = _equal_values(left, right)
        return (~same if node.negated else same), np.False_

    def _membership(self, node: t.In, active):
        value = self._eval(node.operand, active)
        if node.operand.type is BOOLEAN:
            value, missing = value
        else:
            missing = self._missing(node.operand, value)
        found = np.False_
        for member in node.values:
            found = found | missing if member is None else found | _equal_values(value, member) & ~missing
        return (~found if node.negated else found), np.False_

    def _logic(self, node: t.Logic, active):
        decisive = node.op == "or"  # the value that decides: True for or, False for and
        decided = np.zeros(self.size, dtype=bool)
        any_missing = np.zeros(self.size, dtype=bool)
        for operand in node.operands:
            still_open = ~decided if active is None else active & ~decided
            values, missing = self._condition(self._eval(operand, still_open))
            decided |= (values == decisive) & ~missing
            any_missing |= missing
        return (decided if decisive else ~decided), any_missing & ~decided

    def _if(self, node: t.If, active):
        condition, unknown = self._condition(self._eval(node.condition, active))
        condition = self._full(condition)
        known = ~self._full(unknown)
        chosen = condition & known
        skipped = ~condition & known
        then = self._eval(node.then, chosen if active is None else active & chosen)
        otherwise = self._eval(node.otherwise, skipped if active is None else active & skipped)
        if node.type is BOOLEAN:
            then_values, then_missing = self._condition(then)
            other_values, other_missing = self._condition(otherwise)
            return (
                np.where(condition, then_values, other_values),
                np.where(condition, then_missing, other_missing) | ~known,
            )
        if node.type is NULL:
            return None
        return np.where(known, np.where(condition, self._number(then), self._number(otherwise)), np.nan)

    def _coalesce(self, node: t.Coalesce, active):
        values = [self._eval(arg, active) for arg in node.args]
        if node.type is BOOLEAN:
            result, missing = self._condition(values[0])
            for value in values[1:]:
                other, other_missing = self._condition(value)
                result = np.where(missing, other, result)
                missing = missing & other_missing
            return result, missing
        if node.type is NULL:
            return None
        result = self._number(values[0])
        for value in values[1:]:
            result = np.where(np.isnan(result), self._number(value), result)
        return result

    def _call(self, node: t.Call, active):
        arrays, missing = [], np.False_
        for arg in node.args:
            value = self._eval(arg, active)
            if arg.type is BOOLEAN or (arg.type is NULL and node.function.param_type(len(arrays)) is BOOLEAN):
                values, arg_missing = self._condition(value)
                arrays.append(self._full(values))
            else:
                values = self._number(value)
                arg_missing = np.isnan(values)
                arrays.append(self._full(values))
            missing = missing | arg_missing
        function = node.function
        result = function.vector(*arrays, *node.constants)
        if function.returns is BOOLEAN:
            return self._condition_result(node, np.asarray(result), missing, active)
        result = np.where(missing, np.nan, np.asarray(result, dtype=np.float64))
        if function.null_reason:
            gave_nothing = np.isnan(result) & ~self._full(missing)
            if gave_nothing.any():
                self._note(
                    f"{function.display_name}: {function.null_reason}: {self.source.excerpt(node.span)}",
                    gave_nothing,
                    active,
                )
        return self._check_overflow(result, node, active)

    def _condition_result(self, node: t.Call, result: np.ndarray, missing, active):
        """A true/false function's result; NaN or None in it mean it gave no value."""
        if result.dtype == bool:
            return result, missing
        gave_nothing = (
            np.isnan(result.astype(np.float64)) if result.dtype.kind == "f" else _is_none(result.astype(object))
        )
        gave_nothing = self._full(gave_nothing) & ~self._full(missing)
        if node.function.null_reason and gave_nothing.any():
            self._note(
                f"{node.function.display_name}: {node.function.null_reason}: {self.source.excerpt(node.span)}",
                gave_nothing,
                active,
            )
        values = np.where(gave_nothing, False, result).astype(bool)
        return values, missing | gave_nothing


_HANDLERS = {
    t.Const: VectorEvaluation._const,
    t.Name: VectorEvaluation._name,
    t.Negate: VectorEvaluation._negate,
    t.Not: VectorEvaluation._not,
    t.Arithmetic: VectorEvaluation._arithmetic,
    t.Order: VectorEvaluation._order,
    t.Equal: VectorEvaluation._equal,
    t.IsNull: VectorEvaluation._is_null,
    t.In: VectorEvaluation._membership,
    t.Logic: VectorEvaluation._logic,
    t.If: VectorEvaluation._if,
    t.Coalesce: VectorEvaluation._coalesce,
    t.Call: VectorEvaluation._call,
    t.Shared: VectorEvaluation._shared,
}


def _is_none(value):
    if isinstance(value, np.ndarray):
        return value == None  # noqa: E711 - elementwise on an object array
    return np.bool_(value is None)


def _equal_values(left, right):
    """Elementwise ==, for numbers, booleans and text (object arrays hold None for missing)."""
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        return np.asarray(left == right, dtype=bool)
    return np.bool_(left == right)
