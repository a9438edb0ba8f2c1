"""The fast evaluator: the checked tree over whole columns with numpy.

Representation while evaluating: numbers are float64 arrays (or scalars) with NaN for missing;
conditions are (values, missing) pairs of bool arrays (or scalars); text is an object array with
None for missing. Each node is evaluated under an `active` mask, the rows for which the row-by-row
evaluator would evaluate it at all (IF's untaken branch, and/or operands after a decisive one are
inactive), so notes and errors are recorded for exactly the rows the reference records them for.
A row's first error wins and silences what follows, as raising does in the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias, TypeVar, cast, overload

import numpy as np
from numpy.typing import NDArray

from . import tree as t
from .inputs import Column, Flags, Floats, InputColumn, Texts, coerce_column
from .results import ColumnResult
from .scanner import Source
from .types import BOOLEAN, NULL, NUMBER, TEXT, ValueType

#: numbers: a float64 column or a single np.float64, NaN where missing
Numbers: TypeAlias = Floats | np.float64
#: true/false values or missing marks: a bool column or a single np.bool_
Truth: TypeAlias = Flags | np.bool_
#: a condition: (values, missing)
Condition: TypeAlias = tuple[Truth, Truth]
#: what a node evaluates to: numbers, a condition, text (a column, or the text constant), or
#: None for the null constant
Evaluated: TypeAlias = Numbers | Condition | Texts | str | None
#: the rows a node is evaluated for; None for all of them
Active: TypeAlias = Flags | None


#: the number a missing value reads as
_NAN = np.float64(np.nan)


class VectorEvaluation:
    """One evaluation of a checked formula over `size` rows."""

    def __init__(
        self,
        root: t.Node,
        source: Source,
        names: tuple[str, ...],
        types: Mapping[str, ValueType],
        columns: Mapping[str, InputColumn],
        size: int,
    ):
        self.root = root
        self.source = source
        self.size = size
        self.error = np.zeros(size, dtype=bool)
        self.reasons: list[tuple[str, Flags]] = []
        self.notes: list[tuple[str, Flags]] = []
        self.columns: dict[str, Column] = {}
        self.shared: dict[int, Evaluated] = {}
        for name in names:
            if name not in columns:
                raise ValueError(f"no values given for '{name}'")
            column, bad, messages = coerce_column(name, types[name], columns[name], size)
            self.columns[name] = column
            if bad is None or messages is None:  # both or neither
                continue
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

    @overload
    def _full(self, value: Truth) -> Flags: ...
    @overload
    def _full(self, value: Numbers) -> Floats: ...
    def _full(self, value: Truth | Numbers) -> NDArray[np.generic]:
        return np.broadcast_to(value, (self.size,))

    def _rows(self, condition: Truth, active: Active) -> Flags:
        """Rows where condition holds, the node is active and no error has stopped the row."""
        rows = self._full(condition) & ~self.error
        return rows if active is None else rows & active

    def _fail(self, message: str, rows: Flags) -> None:
        rows = rows & ~self.error
        if rows.any():
            self.error |= rows
            self.reasons.append((message, rows))

    def _note(self, message: str, condition: Truth, active: Active) -> None:
        rows = self._rows(condition, active)
        if rows.any():
            self.notes.append((message, rows))

    # The checker lets only numbers (or the null constant) reach a number operand, and only
    # conditions (or the null constant) a condition operand: so the casts below.

    @staticmethod
    def _number(value: Evaluated) -> Numbers:
        return _NAN if value is None else cast(Numbers, value)

    @staticmethod
    def _condition(value: Evaluated) -> Condition:
        if value is None:
            return np.False_, np.True_
        return cast(Condition, value)

    # --- evaluation ----------------------------------------------------------------------------

    def _eval(self, node: t.Node, active: Active) -> Evaluated:
        return _HANDLERS[type(node)](self, node, active)

    def _const(self, node: t.Const, active: Active) -> Evaluated:
        if node.type is NUMBER:
            return np.float64(cast(float, node.value))  # a NUMBER constant holds a float
        if node.type is BOOLEAN:
            return np.bool_(node.value), np.False_
        return cast("str | None", node.value)  # text, or None for the null constant

    def _name(self, node: t.Name, active: Active) -> Evaluated:
        return self.columns[node.name]

    def _negate(self, node: t.Negate, active: Active) -> Evaluated:
        return -self._number(self._eval(node.operand, active))

    def _not(self, node: t.Not, active: Active) -> Evaluated:
        values, missing = self._condition(self._eval(node.operand, active))
        return ~values, missing

    def _shared(self, node: t.Shared, active: Active) -> Evaluated:
        # first use is the chain's first comparison, whose active rows include the second's
        if id(node) not in self.shared:
            self.shared[id(node)] = self._eval(node.operand, active)
        return self.shared[id(node)]

    def _is_null(self, node: t.IsNull, active: Active) -> Evaluated:
        return self._missing(node.operand, self._eval(node.operand, active)) ^ node.negated, np.False_

    def _missing(self, node: t.Node, value: Evaluated) -> Truth:
        if node.type is NUMBER:
            return np.isnan(self._number(value))
        if node.type is BOOLEAN:
            return self._condition(value)[1]
        if node.type is TEXT:
            return _is_none(value)
        return np.True_

    def _arithmetic(self, node: t.Arithmetic, active: Active) -> Evaluated:
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

    def _check_overflow(self, result: Numbers, node: t.Node, active: Active) -> Numbers:
        overflow = np.isinf(result)
        if np.any(overflow):
            self._fail(f"the result is too large: {self.source.excerpt(node.span)}", self._rows(overflow, active))
            result = np.where(overflow, np.nan, result)
        return result

    def _order(self, node: t.Order, active: Active) -> Evaluated:
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

    def _equal(self, node: t.Equal, active: Active) -> Evaluated:
        left = self._eval(node.left, active)
        right = self._eval(node.right, active)
        same: Truth
        if node.left.type is NUMBER:
            left_numbers, right_numbers = self._number(left), self._number(right)
            left_missing, right_missing = np.isnan(left_numbers), np.isnan(right_numbers)
            same = (left_numbers == right_numbers) | (left_missing & right_missing)
        elif node.left.type is BOOLEAN:
            (left_values, left_unknown), (right_values, right_unknown) = self._condition(left), self._condition(right)
            same = ((left_values == right_values) & ~left_unknown & ~right_unknown) | (left_unknown & right_unknown)
        else:
            same = _equal_values(left, right)
        return (~same if node.negated else same), np.False_

    def _membership(self, node: t.In, active: Active) -> Evaluated:
        value = self._eval(node.operand, active)
        compared: Evaluated | Truth
        if node.operand.type is BOOLEAN:
            compared, missing = self._condition(value)
        else:
            compared, missing = value, self._missing(node.operand, value)
        found: Truth = np.False_
        for member in node.values:
            found = found | missing if member is None else found | _equal_values(compared, member) & ~missing
        return (~found if node.negated else found), np.False_

    def _logic(self, node: t.Logic, active: Active) -> Evaluated:
        decisive = node.op == "or"  # the value that decides: True for or, False for and
        decided = np.zeros(self.size, dtype=bool)
        any_missing = np.zeros(self.size, dtype=bool)
        for operand in node.operands:
            still_open = ~decided if active is None else active & ~decided
            values, missing = self._condition(self._eval(operand, still_open))
            decided |= (values == decisive) & ~missing
            any_missing |= missing
        return (decided if decisive else ~decided), any_missing & ~decided

    def _if(self, node: t.If, active: Active) -> Evaluated:
        values, unknown = self._condition(self._eval(node.condition, active))
        condition = self._full(values)
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

    def _coalesce(self, node: t.Coalesce, active: Active) -> Evaluated:
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
        numbers = self._number(values[0])
        for value in values[1:]:
            numbers = np.where(np.isnan(numbers), self._number(value), numbers)
        return numbers

    def _call(self, node: t.Call, active: Active) -> Evaluated:
        arrays: list[Flags | Floats] = []
        missing: Truth = np.False_
        for arg in node.args:
            value = self._eval(arg, active)
            arg_missing: Truth
            if arg.type is BOOLEAN or (arg.type is NULL and node.function.param_type(len(arrays)) is BOOLEAN):
                flags, arg_missing = self._condition(value)
                arrays.append(self._full(flags))
            else:
                numbers = self._number(value)
                arg_missing = np.isnan(numbers)
                arrays.append(self._full(numbers))
            missing = missing | arg_missing
        function = node.function
        returned = function.vector(*arrays, *node.constants)
        if function.returns is BOOLEAN:
            return self._condition_result(node, np.asarray(returned), missing, active)
        result = np.where(missing, np.nan, np.asarray(returned, dtype=np.float64))
        if function.null_reason:
            gave_nothing = np.isnan(result) & ~self._full(missing)
            if gave_nothing.any():
                self._note(
                    f"{function.display_name}: {function.null_reason}: {self.source.excerpt(node.span)}",
                    gave_nothing,
                    active,
                )
        return self._check_overflow(result, node, active)

    def _condition_result(self, node: t.Call, result: NDArray[np.generic], missing: Truth, active: Active) -> Condition:
        """A true/false function's result; NaN or None in it mean it gave no value."""
        if result.dtype == bool:
            return cast(Flags, result), missing  # its dtype is bool
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


_N = TypeVar("_N", bound=t.Node)
_Handler: TypeAlias = Callable[[VectorEvaluation, t.Node, Active], Evaluated]


def _handler(
    kind: type[_N], method: Callable[[VectorEvaluation, _N, Active], Evaluated]
) -> tuple[type[t.Node], _Handler]:
    """A dispatch entry: `_eval` calls the method only with nodes of the kind it is filed under."""
    return kind, cast(_Handler, method)


_HANDLERS: dict[type[t.Node], _Handler] = dict(
    [
        _handler(t.Const, VectorEvaluation._const),
        _handler(t.Name, VectorEvaluation._name),
        _handler(t.Negate, VectorEvaluation._negate),
        _handler(t.Not, VectorEvaluation._not),
        _handler(t.Arithmetic, VectorEvaluation._arithmetic),
        _handler(t.Order, VectorEvaluation._order),
        _handler(t.Equal, VectorEvaluation._equal),
        _handler(t.IsNull, VectorEvaluation._is_null),
        _handler(t.In, VectorEvaluation._membership),
        _handler(t.Logic, VectorEvaluation._logic),
        _handler(t.If, VectorEvaluation._if),
        _handler(t.Coalesce, VectorEvaluation._coalesce),
        _handler(t.Call, VectorEvaluation._call),
        _handler(t.Shared, VectorEvaluation._shared),
    ]
)


def _is_none(value: Evaluated) -> Truth:
    if isinstance(value, np.ndarray):
        missing: Flags = value == None  # noqa: E711 - elementwise on an object array
        return missing
    return np.bool_(value is None)


def _equal_values(left: object, right: object) -> Truth:
    """Elementwise ==, for numbers, booleans and text (object arrays hold None for missing)."""
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        return np.asarray(left == right, dtype=bool)
    return np.bool_(left == right)
