"""The reference evaluator: simpleeval walking the checked tree, one row at a time.

simpleeval never sees the user's text. It is handed a Python syntax tree generated from the
checked tree, holding only the node kinds below, with plain floats, booleans, text and None as
values. Each handler implements the language's rules for missing values, division by zero and
overflow in the most direct way, so the vectorised evaluator has something simple to agree with.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import cast

from simpleeval import SimpleEval

from . import tree as t
from .inputs import coerce_value
from .results import RowError, RowResult
from .scanner import Source
from .types import BOOLEAN, NUMBER, Value, ValueType

_ARITHMETIC: dict[t.ArithmeticOp, type[ast.operator]] = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div}
_ORDER: dict[t.OrderOp, type[ast.cmpop]] = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


class SharedValue(ast.expr):
    """An operand two comparisons of a chain share: evaluated once per row."""

    _fields = ("operand",)
    operand: ast.expr

    def __init__(self, operand: ast.expr) -> None:
        super().__init__()
        self.operand = operand


class ArithmeticNode(ast.BinOp):
    """`a + b` and the like, with what to say when the divisor is zero or the result too large."""

    def __init__(self, left: ast.expr, op: ast.operator, right: ast.expr, zero_note: str, overflow: str) -> None:
        super().__init__(left=left, op=op, right=right)
        self.zero_note = zero_note
        self.overflow = overflow


class CallNode(ast.Call):
    """A function call or COALESCE, with the checked node it came from."""

    def __init__(
        self, checked: t.Call | t.Coalesce, name: str, args: list[ast.expr], null_note: str | None, overflow: str
    ) -> None:
        super().__init__(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
        self.checked = checked
        #: recorded when the function gives no value; None when it has no reason to give
        self.null_note = null_note
        self.overflow = overflow


class MemberList(ast.expr):
    """The fixed values after `in`: read by the comparison, never evaluated."""

    _fields = ("values",)
    values: tuple[Value, ...]

    def __init__(self, values: tuple[Value, ...]) -> None:
        super().__init__()
        self.values = values


def to_python_tree(root: t.Node, source: Source) -> ast.expr:
    """A Python syntax tree for simpleeval, of the standard node kinds and the kinds above."""
    return _PythonTree(source).build(root)


class _PythonTree:
    def __init__(self, source: Source):
        self.source = source
        self.shared: dict[int, SharedValue] = {}

    def build(self, node: t.Node) -> ast.expr:
        if isinstance(node, t.Shared):
            if id(node) not in self.shared:
                self.shared[id(node)] = SharedValue(operand=self.build(node.operand))
            return self.shared[id(node)]
        return self._build(node, self.source)

    def _build(self, node: t.Node, source: Source) -> ast.expr:
        out: ast.expr
        if isinstance(node, t.Const):
            out = ast.Constant(value=node.value)
        elif isinstance(node, t.Name):
            out = ast.Name(id=node.name, ctx=ast.Load())
        elif isinstance(node, t.Negate):
            out = ast.UnaryOp(op=ast.USub(), operand=self.build(node.operand))
        elif isinstance(node, t.Not):
            out = ast.UnaryOp(op=ast.Not(), operand=self.build(node.operand))
        elif isinstance(node, t.Arithmetic):
            out = ArithmeticNode(
                left=self.build(node.left),
                op=_ARITHMETIC[node.op](),
                right=self.build(node.right),
                zero_note=f"division by zero: {source.excerpt(node.span)}",
                overflow=f"the result is too large: {source.excerpt(node.span)}",
            )
        elif isinstance(node, t.Order):
            out = ast.Compare(left=self.build(node.left), ops=[_ORDER[node.op]()], comparators=[self.build(node.right)])
        elif isinstance(node, t.Equal):
            out = ast.Compare(
                left=self.build(node.left),
                ops=[ast.NotEq() if node.negated else ast.Eq()],
                comparators=[self.build(node.right)],
            )
        elif isinstance(node, t.IsNull):
            out = ast.Compare(
                left=self.build(node.operand),
                ops=[ast.IsNot() if node.negated else ast.Is()],
                comparators=[ast.Constant(value=None)],
            )
        elif isinstance(node, t.In):
            out = ast.Compare(
                left=self.build(node.operand),
                ops=[ast.NotIn() if node.negated else ast.In()],
                comparators=[MemberList(values=node.values)],
            )
        elif isinstance(node, t.Logic):
            out = ast.BoolOp(
                op=ast.And() if node.op == "and" else ast.Or(), values=[self.build(o) for o in node.operands]
            )
        elif isinstance(node, t.If):
            out = ast.IfExp(
                test=self.build(node.condition), body=self.build(node.then), orelse=self.build(node.otherwise)
            )
        elif isinstance(node, t.Coalesce):
            # COALESCE gives one of its arguments, so it has nothing to note and cannot overflow
            out = CallNode(node, "coalesce", [self.build(a) for a in node.args], null_note=None, overflow="")
        elif isinstance(node, t.Call):
            args = [self.build(a) for a in node.args]
            args += [ast.Constant(value=c) for c in node.constants]
            excerpt = source.excerpt(node.span)
            reason = node.function.null_reason
            out = CallNode(
                node,
                node.function.name,
                args,
                null_note=f"{node.function.display_name}: {reason}: {excerpt}" if reason else None,
                overflow=f"the result is too large: {excerpt}",
            )
        else:  # pragma: no cover - every checked node kind is handled above
            raise TypeError(f"unexpected node {type(node).__name__}")
        return out


# simpleeval has no type stubs, so to mypy its class is Any, and so is what `_eval` gives. Each
# handler below names the type of the values it reads: what the checker guarantees there.
class ReferenceEvaluator(SimpleEval):  # type: ignore[misc]  # subclassing Any: simpleeval is untyped
    """Evaluates one checked formula for one row at a time. Not thread-safe: one per thread."""

    def __init__(self, root: t.Node, source: Source, names: tuple[str, ...], types: Mapping[str, ValueType]):
        super().__init__(operators={}, functions={}, names={})
        self.nodes = {
            ast.Constant: self._eval_constant,
            ast.Name: self._eval_name,
            ast.UnaryOp: self._unary,
            ArithmeticNode: self._arithmetic,
            ast.Compare: self._compare,
            ast.BoolOp: self._logic,
            ast.IfExp: self._if,
            CallNode: self._call,
            SharedValue: self._shared_value,
        }
        self.expression = to_python_tree(root, source)
        self.result_type = root.type
        self.input_types = [(name, types[name]) for name in names]
        self._notes: dict[str, None] = {}
        self._shared: dict[int, Value] = {}

    def evaluate(self, row: Mapping[str, object]) -> RowResult:
        values: dict[str, Value] = {}
        for name, type_ in self.input_types:
            if name not in row:
                raise ValueError(f"no value given for '{name}'")
            value, problem = coerce_value(name, type_, row[name])
            if problem:
                return RowResult(None, problem)
            values[name] = value
        self.names = values
        self._notes = {}
        self._shared = {}
        try:
            # a number or a true/false: the checker refuses a formula that gives text
            result: float | bool | None = self.eval("", previously_parsed=self.expression)
        except RowError as exc:
            return RowResult(None, str(exc), tuple(self._notes))
        if result is not None and self.result_type is NUMBER:
            result = float(result)
        return RowResult(result, None, tuple(self._notes))

    def _shared_value(self, node: SharedValue) -> Value:
        key = id(node)
        if key not in self._shared:
            self._shared[key] = self._eval(node.operand)
        return self._shared[key]

    def _note(self, message: str) -> None:
        self._notes.setdefault(message, None)

    def _unary(self, node: ast.UnaryOp) -> float | bool | None:
        # `not` takes a true/false, `-` a number
        value: float | bool | None = self._eval(node.operand)
        if value is None:
            return None
        return (not value) if isinstance(node.op, ast.Not) else -value

    def _arithmetic(self, node: ArithmeticNode) -> float | None:
        left: float | None = self._eval(node.left)
        right: float | None = self._eval(node.right)
        if left is None or right is None:
            return None
        op = type(node.op)
        if op is ast.Add:
            result = left + right
        elif op is ast.Sub:
            result = left - right
        elif op is ast.Mult:
            result = left * right
        else:
            if right == 0:
                self._note(node.zero_note)
                return None
            result = left / right
        if not math.isfinite(result):
            raise RowError(node.overflow)
        return result

    def _compare(self, node: ast.Compare) -> bool | None:
        left: Value = self._eval(node.left)
        op = type(node.ops[0])
        if op is ast.Is:
            return left is None
        if op is ast.IsNot:
            return left is not None
        if op in (ast.In, ast.NotIn):
            found = left in cast(MemberList, node.comparators[0]).values  # as _PythonTree builds it
            return found if op is ast.In else not found
        right: Value = self._eval(node.comparators[0])
        if op is ast.Eq:
            return left == right
        if op is ast.NotEq:
            return left != right
        if left is None or right is None:
            return None
        # only numbers are ordered: the checker refuses text and true/false values here
        low, high = cast(float, left), cast(float, right)
        if op is ast.Lt:
            return low < high
        if op is ast.LtE:
            return low <= high
        if op is ast.Gt:
            return low > high
        return low >= high

    def _logic(self, node: ast.BoolOp) -> bool | None:
        decisive = isinstance(node.op, ast.Or)  # the value that decides: True for or, False for and
        result: bool | None = not decisive
        for operand in node.values:
            value: bool | None = self._eval(operand)
            if value is decisive:
                return decisive
            if value is None:
                result = None
        return result

    def _if(self, node: ast.IfExp) -> Value:
        condition: bool | None = self._eval(node.test)
        if condition is None:
            return None
        chosen: Value = self._eval(node.body) if condition else self._eval(node.orelse)
        return chosen

    def _call(self, node: CallNode) -> float | bool | None:
        # arguments are numbers and true/false values: text cannot be passed to a function
        args: list[float | bool | None] = [self._eval(arg) for arg in node.args]
        checked = node.checked
        if isinstance(checked, t.Coalesce):
            return next((arg for arg in args if arg is not None), None)
        if any(arg is None for arg in args):
            return None
        result = checked.function.reference(*args)
        if isinstance(result, float) and math.isnan(result):
            result = None
        if result is None:
            if node.null_note:
                self._note(node.null_note)
            return None
        if checked.function.returns is BOOLEAN:
            return bool(result)
        result = float(result)
        if math.isinf(result):
            raise RowError(node.overflow)
        return result
