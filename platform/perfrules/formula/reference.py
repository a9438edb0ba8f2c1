"""The reference evaluator: simpleeval walking the checked tree, one row at a time.

simpleeval never sees the user's text. It is handed a Python syntax tree generated from the
checked tree, holding only the node kinds below, with plain floats, booleans, text and None as
values. Each handler implements the language's rules for missing values, division by zero and
overflow in the most direct way, so the vectorised evaluator has something simple to agree with.
"""

from __future__ import annotations

import ast
import math
from typing import Mapping

from simpleeval import SimpleEval

from . import tree as t
from .inputs import coerce_value
from .results import RowError, RowResult
from .scanner import Source
from .types import BOOLEAN, NUMBER

_ARITHMETIC = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div}
_ORDER = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


def to_python_tree(node: t.Node, source: Source) -> ast.expr:
    """A Python syntax tree for simpleeval; each node keeps its checked node as `.checked`."""
    if isinstance(node, t.Const):
        out = ast.Constant(value=node.value)
    elif isinstance(node, t.Name):
        out = ast.Name(id=node.name, ctx=ast.Load())
    elif isinstance(node, t.Negate):
        out = ast.UnaryOp(op=ast.USub(), operand=to_python_tree(node.operand, source))
    elif isinstance(node, t.Not):
        out = ast.UnaryOp(op=ast.Not(), operand=to_python_tree(node.operand, source))
    elif isinstance(node, t.Arithmetic):
        out = ast.BinOp(left=to_python_tree(node.left, source), op=_ARITHMETIC[node.op](),
                        right=to_python_tree(node.right, source))
        out.zero_note = f"division by zero: {source.excerpt(node.span)}"
        out.overflow = f"the result is too large: {source.excerpt(node.span)}"
    elif isinstance(node, t.Order):
        out = ast.Compare(left=to_python_tree(node.left, source), ops=[_ORDER[node.op]()],
                          comparators=[to_python_tree(node.right, source)])
    elif isinstance(node, t.Equal):
        out = ast.Compare(left=to_python_tree(node.left, source),
                          ops=[ast.NotEq() if node.negated else ast.Eq()],
                          comparators=[to_python_tree(node.right, source)])
    elif isinstance(node, t.IsNull):
        out = ast.Compare(left=to_python_tree(node.operand, source),
                          ops=[ast.IsNot() if node.negated else ast.Is()],
                          comparators=[ast.Constant(value=None)])
    elif isinstance(node, t.In):
        out = ast.Compare(left=to_python_tree(node.operand, source),
                          ops=[ast.NotIn() if node.negated else ast.In()],
                          comparators=[ast.Constant(value=node.values)])
    elif isinstance(node, t.Logic):
        out = ast.BoolOp(op=ast.And() if node.op == "and" else ast.Or(),
                         values=[to_python_tree(o, source) for o in node.operands])
    elif isinstance(node, t.If):
        out = ast.IfExp(test=to_python_tree(node.condition, source),
                        body=to_python_tree(node.then, source),
                        orelse=to_python_tree(node.otherwise, source))
    elif isinstance(node, (t.Coalesce, t.Call)):
        name = "coalesce" if isinstance(node, t.Coalesce) else node.function.name
        args = [to_python_tree(a, source) for a in node.args]
        args += [ast.Constant(value=c) for c in getattr(node, "constants", ())]
        out = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
        if isinstance(node, t.Call):
            excerpt = source.excerpt(node.span)
            reason = node.function.null_reason
            out.null_note = f"{node.function.display_name}: {reason}: {excerpt}" if reason else None
            out.overflow = f"the result is too large: {excerpt}"
    else:  # pragma: no cover - every checked node kind is handled above
        raise TypeError(f"unexpected node {type(node).__name__}")
    out.checked = node
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
        try:
            value = self.eval("", previously_parsed=self.expression)
        except RowError as exc:
            return RowResult(None, str(exc), tuple(self._notes))
        if value is not None and self.result_type is NUMBER:
            value = float(value)
        return RowResult(value, None, tuple(self._notes))

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
        if result is None:
            if node.null_note:
                self._note(node.null_note)
            return None
        if checked.function.returns is BOOLEAN:
            return bool(result)
        result = float(result)
        if math.isnan(result):
            if node.null_note:
                self._note(node.null_note)
            return None
        if math.isinf(result):
            raise RowError(node.overflow)
        return result
