"""Compiling a checked formula to a SQLAlchemy expression, so filters run inside the database.

The SQL keeps the language's rules: arithmetic and ordering with a missing value give NULL,
and/or/not are three-valued (SQL's own), equality is null-safe, division by zero gives NULL
(`NULLIF`), and a row passes a filter only when the condition is true.
"""

from __future__ import annotations

from typing import Mapping

import sqlalchemy as sa

from . import tree as t
from .errors import FormulaError
from .scanner import Source
from .types import BOOLEAN, NUMBER, TEXT

_SQL_TYPES = {NUMBER: sa.Float(), BOOLEAN: sa.Boolean(), TEXT: sa.String()}


def to_sql(node: t.Node, source: Source, columns: Mapping[str, sa.ColumnElement]) -> sa.ColumnElement:
    kind = type(node)
    if kind is t.Const:
        if node.value is None:
            return sa.null()
        if node.type is BOOLEAN:
            return sa.true() if node.value else sa.false()
        return sa.literal(node.value, _SQL_TYPES[node.type])
    if kind is t.Name:
        try:
            return columns[node.name]
        except KeyError:
            raise ValueError(f"no database column given for '{node.name}'") from None
    if kind is t.Negate:
        return -to_sql(node.operand, source, columns)
    if kind is t.Not:
        return sa.not_(to_sql(node.operand, source, columns))
    if kind is t.Arithmetic:
        left, right = to_sql(node.left, source, columns), to_sql(node.right, source, columns)
        if node.op == "/":
            # Float division everywhere (SQLite and PostgreSQL divide integers as integers), and
            # NULL instead of an error for a zero divisor.
            return sa.cast(left, sa.Float) / sa.func.nullif(right, 0)
        return {"+": left + right, "-": left - right, "*": left * right}[node.op]
    if kind is t.Order:
        left, right = to_sql(node.left, source, columns), to_sql(node.right, source, columns)
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]
    if kind is t.Equal:
        return _equal(node, source, columns)
    if kind is t.IsNull:
        operand = to_sql(node.operand, source, columns)
        return operand.is_not(None) if node.negated else operand.is_(None)
    if kind is t.In:
        operand = to_sql(node.operand, source, columns)
        members = [v for v in node.values if v is not None]
        found = sa.and_(operand.is_not(None), operand.in_(members)) if members else sa.false()
        if None in node.values:
            found = sa.or_(operand.is_(None), found)
        return sa.not_(found) if node.negated else found
    if kind is t.Logic:
        combine = sa.and_ if node.op == "and" else sa.or_
        return combine(*(to_sql(o, source, columns) for o in node.operands))
    if kind is t.If:
        condition = to_sql(node.condition, source, columns)
        return sa.case((condition, to_sql(node.then, source, columns)),
                       (sa.not_(condition), to_sql(node.otherwise, source, columns)),
                       else_=sa.null())
    if kind is t.Coalesce:
        return sa.func.coalesce(*(to_sql(a, source, columns) for a in node.args))
    function = node.function
    if function.sql is None:
        raise FormulaError(f"{function.display_name} cannot be used in a database filter",
                           source.text, *node.span)
    if any(isinstance(a, t.Const) and a.value is None for a in node.args):
        # typed, so that it can still be compared: x < MIN(y, None)
        return sa.cast(sa.null(), _SQL_TYPES[function.returns])
    args = [to_sql(a, source, columns) for a in node.args]
    # Functions never see a missing argument, in SQL as on the other paths.
    return sa.case((sa.or_(*(a.is_(None) for a in args)), sa.null()),
                   else_=function.sql(*args, *node.constants))


def _equal(node: t.Equal, source: Source, columns) -> sa.ColumnElement:
    left, right = node.left, node.right
    if isinstance(left, t.Const):
        left, right = right, left
    expression = to_sql(left, source, columns)
    if isinstance(right, t.Const):
        # Against a fixed value a plain comparison keeps indexes usable; the IS NULL guard makes
        # it null-safe (never NULL itself).
        value = to_sql(right, source, columns)
        if node.negated:
            return sa.or_(expression.is_(None), expression != value)
        return sa.and_(expression.is_not(None), expression == value)
    other = to_sql(right, source, columns)
    return expression.is_distinct_from(other) if node.negated else expression.is_not_distinct_from(other)
