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

from simpleeval import SimpleEval

from . import tree as t
from .inputs import coerce_value
from .results import RowError, RowResult
from .scanner import Source
from .types import BOOLEAN, NUMBER

_ARITHMETIC = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div}
_ORDER = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


class SharedValue(ast.expr):
    """An operand two comparisons of a chain share: evaluated once per row."""

    _fields = ("operand",)


def to_python_tree(root: t.Node, source: Source) -> ast.expr:
    """A Python syntax tree for simpleeval; each node keeps its checked node as `.checked`."""
    return _PythonTree(source).build(root)


class _PythonTree:
    def __init__(self, source: Source):
        self.source = source
        self.shared: dict[int, SharedValue] = {}

    def build(self, node: t.Node) -> ast.expr:
        source = self.source
        if isinstance(node, t.Shared):
            if id(node) not in self.shared:
                self.shared[id(node)] = SharedValue(operand=self.build(node.operand))
                self.shared[id(node)].checked = node
            return self.shared[id(node)]
        out = self._build(node, source)
        out.checked = node
        return out

    def _build(self, node: t.Node, source: Source) -> ast.expr:
        if isinstance(node, t.Const):
            out = ast.Constant(value=node.value)
        elif isinstance(node, t.Name):
            out = ast.Name(id=node.name, ctx=ast.Load())
        elif isinstance(node, t.Negate):
            out = ast.UnaryOp(op=ast.USub(), operand=self.build(node.operand))
        elif isinstance(node, t.Not):
            out = ast.UnaryOp(op=ast.Not(), operand=self.build(node.operand))
        elif isinstance(node, t.Arithmetic):
            out = ast.BinOp(left=self.build(node.left), op=_ARITHMETIC[node.op](), right=self.build(node.right))
            out.zero_note = f"division by zero: {source.excerpt(node.span)}"
            out.overflow = f"the result is too large: {source.excerpt(node.span)}"
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
                comparators=[ast.Constant(value=node.values)],
            )
        elif isinstance(node, t.Logic):
            out = ast.BoolOp(
                op=ast.And() if node.op == "and" else ast.Or(), values=[self.build(o) for o in node.operands]
            )
        elif isinstance(node, t.If):
            out = ast.IfExp(
                test=self.build(node.condition), body=self.build(node.then), orelse=self.build(node.otherwise)
            )
        elif isinstance(node, (t.Coalesce, t.Call)):
            name = "coalesce" if isinstance(node, t.Coalesce) else node.function.name
            args = [self.build(a) for a in node.args]
            args += [ast.Constant(value=c) for c in getattr(node, "constants", ())]
            out = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
            if isinstance(node, t.Call):
                excerpt = source.excerpt(node.span)
                reason = node.function.null_reason
                out.null_note = f"{node.function.display_name}: {reason}: {excerpt}" if reason else None
                out.overflow = f"the result is too large: {excerpt}"
        else:  # pragma: no cover - every checked node kind is handled above
            raise TypeError(f"unexpected node {type(node).__name__}")
        return out


class ReferenceEvaluator(SimpleEval):
    """Evaluates one checked formula for one row at a time. Not thread-safe: one per thread."""

    def __init__(self, root: t.Node, source: Source, names: tuple[str, ...], types: Mapping):
        super().__init__(operators={}, functions={}, names={})
        self.nodes = {
            ast.Constant: self._eval_constant,
            ast.Name: self._eval_name,
            ast.UnaryOp: self._unary,
            ast.BinOp: self._arithmetic,
            ast.Compare: self._compare,
            ast.BoolOp: self._logic,
            ast.IfExp: self._if,
            ast.Call: self._call,
            SharedValue: self._shared_value,
        }
        self.expression = to_python_tree(root, source)
        self.result_type = root.type
        self.input_types = [(name, types[name]) for name in names]
        self._notes: dict[str, None] = {}

    def evaluate(self, row: Mapping) -> RowResult:
        values = {}
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
            value = self.eval("", previously_parsed=self.expression)
        except RowError as exc:
            return RowResult(None, str(exc), tuple(self._notes))
        if value is not None and self.result_type is NUMBER:
            value = float(value)
        return RowResult(value, None, tuple(self._notes))

    def _shared_value(self, node: SharedValue):
        key = id(node)
        if key not in self._shared:
            self._shared[key] = self._eval(node.operand)
        return self._shared[key]

    def _note(self, message: str) -> None:
        self._notes.setdefault(message, None)

    def _unary(self, node: ast.UnaryOp):
        value = self._eval(node.operand)
        if value is None:
            return None
        return (not value) if isinstance(node.op, ast.Not) else -value

    def _arithmetic(self, node: ast.BinOp):
        left, right = self._eval(node.left), self._eval(node.right)
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

    def _compare(self, node: ast.Compare):
        left = self._eval(node.left)
        op = type(node.ops[0])
        if op is ast.Is:
            return left is None
        if op is ast.IsNot:
            return left is not None
        if op in (ast.In, ast.NotIn):
            found = left in node.comparators[0].value
            return found if op is ast.In else not found
        right = self._eval(node.comparators[0])
        if op is ast.Eq:
            return left == right
        if op is ast.NotEq:
            return left != right
        if left is None or right is None:
            return None
        if op is ast.Lt:
            return left < right
        if op is ast.LtE:
            return left <= right
        if op is ast.Gt:
            return left > right
        return left >= right

    def _logic(self, node: ast.BoolOp):
        decisive = isinstance(node.op, ast.Or)  # the value that decides: True for or, False for and
        result = not decisive
        for operand in node.values:
            value = self._eval(operand)
            if value is decisive:
                return decisive
            if value is None:
                result = None
        return result

    def _if(self, node: ast.IfExp):
        condition = self._eval(node.test)
        if condition is None:
            return None
        return self._eval(node.body) if condition else self._eval(node.orelse)

    def _call(self, node: ast.Call):
        args = [self._eval(arg) for arg in node.args]
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
