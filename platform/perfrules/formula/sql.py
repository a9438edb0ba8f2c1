"""Compiling a checked formula to a SQLAlchemy expression, so filters run inside the database.

The SQL keeps the language's rules: arithmetic and ordering with a missing value give NULL,
and/or/not are three-valued (SQL's own), equality is null-safe, division by zero gives NULL
(`NULLIF`), and a row passes a filter only when the condition is true.

SQL has no way to name a value once and use it twice, so some constructs repeat an operand (a
chain's middle operand, a function's NULL guard). The size of the SQL is therefore tracked as it
is built, with its depth, and a filter that would grow too large is refused instead of built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping

from . import tree as t
from .errors import FormulaError
from .functions import SqlExpression
from .scanner import Source
from .types import BOOLEAN, NUMBER, TEXT, ValueType

_SQL_TYPES: dict[ValueType, sa.Float[float] | sa.Boolean | sa.String] = {
    NUMBER: sa.Float(),
    BOOLEAN: sa.Boolean(),
    TEXT: sa.String(),
}
MAX_SQL_SIZE = 5_000
MAX_SQL_DEPTH = 60

#: an expression and its size (nodes in the SQL text, counting repeats)
_Sized: TypeAlias = tuple[SqlExpression, int]


def to_sql(node: t.Node, source: Source, columns: Mapping[str, SqlExpression]) -> SqlExpression:
    return _SqlBuilder(source, columns).build(node, 0)[0]


class _SqlBuilder:
    def __init__(self, source: Source, columns: Mapping[str, SqlExpression]):
        self.source = source
        self.columns = columns

    def _refuse(self, message: str, node: t.Node) -> FormulaError:
        return FormulaError(message, self.source.text, *node.span)

    def build(self, node: t.Node, depth: int) -> _Sized:
        """The expression and its size (nodes in the SQL text, counting repeats)."""
        if depth > MAX_SQL_DEPTH:
            raise self._refuse("this filter is nested too deeply to run in the database", node)
        expression, size = self._build(node, depth + 1)
        if size > MAX_SQL_SIZE:
            raise self._refuse("this filter is too complex to run in the database", node)
        return expression, size

    def _build(self, node: t.Node, depth: int) -> _Sized:
        sub: Callable[[t.Node], _Sized] = lambda child: self.build(child, depth)  # noqa: E731
        if isinstance(node, t.Const):
            if node.value is None:
                return sa.null(), 1
            if node.type is BOOLEAN:
                return (sa.true() if node.value else sa.false()), 1
            return sa.literal(node.value, _SQL_TYPES[node.type]), 1
        if isinstance(node, t.Name):
            try:
                return self.columns[node.name], 1
            except KeyError:
                raise ValueError(f"no database column given for '{node.name}'") from None
        if isinstance(node, t.Shared):
            return sub(node.operand)
        if isinstance(node, (t.Negate, t.Not, t.IsNull)):
            operand, size = sub(node.operand)
            if isinstance(node, t.Negate):
                return -operand, size + 1
            if isinstance(node, t.Not):
                return sa.not_(operand), size + 1
            return (operand.is_not(None) if node.negated else operand.is_(None)), size + 1
        if isinstance(node, t.Arithmetic):
            (left, left_size), (right, right_size) = sub(node.left), sub(node.right)
            if node.op == "/":
                # Float division everywhere (SQLite and PostgreSQL divide integers as integers),
                # and NULL instead of an error for a zero divisor.
                return sa.cast(left, sa.Float) / sa.func.nullif(right, 0), left_size + right_size + 3
            expression = {"+": left + right, "-": left - right, "*": left * right}[node.op]
            return expression, left_size + right_size + 1
        if isinstance(node, t.Order):
            (left, left_size), (right, right_size) = sub(node.left), sub(node.right)
            expression = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]
            return expression, left_size + right_size + 1
        if isinstance(node, t.Equal):
            return self._equal(node, sub)
        if isinstance(node, t.In):
            operand, size = sub(node.operand)
            members = [v for v in node.values if v is not None]
            found = sa.and_(operand.is_not(None), operand.in_(members)) if members else sa.false()
            if None in node.values:
                found = sa.or_(operand.is_(None), found)
            return (sa.not_(found) if node.negated else found), 3 * size + len(node.values)
        if isinstance(node, t.Logic):
            parts = [sub(o) for o in node.operands]
            combine = sa.and_ if node.op == "and" else sa.or_
            return combine(*(p for p, _ in parts)), sum(s for _, s in parts) + 1
        if isinstance(node, t.If):
            (condition, c), (then, a), (otherwise, b) = sub(node.condition), sub(node.then), sub(node.otherwise)
            # CASE on the condition's value evaluates it once; NULL matches neither branch
            return sa.case({True: then, False: otherwise}, value=condition), a + b + c + 1
        if isinstance(node, t.Coalesce):
            parts = [sub(a) for a in node.args]
            return sa.func.coalesce(*(p for p, _ in parts)), sum(s for _, s in parts) + 1
        if isinstance(node, t.Call):
            return self._call(node, sub)
        raise TypeError(f"unexpected node {type(node).__name__}")  # pragma: no cover - all kinds are above

    def _equal(self, node: t.Equal, sub: Callable[[t.Node], _Sized]) -> _Sized:
        left, right = node.left, node.right
        if isinstance(left, t.Const):
            left, right = right, left
        expression, size = sub(left)
        if isinstance(right, t.Const):
            # Against a fixed value a plain comparison keeps indexes usable; the IS NULL guard
            # makes it null-safe (never NULL itself).
            value, _ = sub(right)
            if node.negated:
                return sa.or_(expression.is_(None), expression != value), 2 * size + 2
            return sa.and_(expression.is_not(None), expression == value), 2 * size + 2
        other, other_size = sub(right)
        # parenthesised: PostgreSQL binds NOT looser than IS [NOT] DISTINCT FROM, and SQLAlchemy
        # writes `NOT flag IS NOT DISTINCT FROM flag`, which PostgreSQL reads as NOT (… IS …)
        grouped = Grouping(expression)
        compare = grouped.is_distinct_from if node.negated else grouped.is_not_distinct_from
        return compare(Grouping(other)), size + other_size + 1

    def _call(self, node: t.Call, sub: Callable[[t.Node], _Sized]) -> _Sized:
        function = node.function
        if function.sql is None:
            raise self._refuse(f"{function.display_name} cannot be used in a database filter", node)
        if any(isinstance(a, t.Const) and a.value is None for a in node.args):
            # typed, so that it can still be compared: x < MIN(y, None)
            return sa.cast(sa.null(), _SQL_TYPES[function.returns]), 1
        parts = [sub(a) for a in node.args]
        args = [p for p, _ in parts]
        # Functions never see a missing argument, in SQL as on the other paths; the guard and a
        # function's own SQL (MIN's CASE, for one) can each repeat an argument.
        expression = sa.case(
            (sa.or_(*(a.is_(None) for a in args)), sa.null()), else_=function.sql(*args, *node.constants)
        )
        return expression, 4 * sum(s for _, s in parts) + 1
