"""The checked tree: what a formula means once it has passed the checker.

Every evaluator (row-by-row reference, vectorised, SQL) is built from these nodes and only from
them, so all three agree on what a formula says. Nodes carry the span of source text they came
from, for error messages and evaluation notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from .types import Value, ValueType

if TYPE_CHECKING:
    from .functions import Function

ArithmeticOp: TypeAlias = Literal["+", "-", "*", "/"]
OrderOp: TypeAlias = Literal["<", "<=", ">", ">="]
LogicOp: TypeAlias = Literal["and", "or"]


@dataclass(frozen=True, eq=False, kw_only=True)
class Node:
    span: tuple[int, int]
    type: ValueType


@dataclass(frozen=True, eq=False, kw_only=True)
class Const(Node):
    #: a float for NUMBER, a bool for BOOLEAN, a str for TEXT, None for NULL
    value: Value


@dataclass(frozen=True, eq=False, kw_only=True)
class Name(Node):
    name: str


@dataclass(frozen=True, eq=False, kw_only=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Arithmetic(Node):
    op: ArithmeticOp
    left: Node
    right: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Order(Node):
    """An ordering comparison of two numbers; null if either side is null."""

    op: OrderOp
    left: Node
    right: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Equal(Node):
    """Null-safe equality: None == None is true, None == 5 is false; never null itself."""

    left: Node
    right: Node
    negated: bool


@dataclass(frozen=True, eq=False, kw_only=True)
class IsNull(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True, eq=False, kw_only=True)
class In(Node):
    """Membership in a list of constants; a null operand is a member only if None is listed."""

    operand: Node
    #: the listed constants: of the operand's type, or None
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True, eq=False, kw_only=True)
class Logic(Node):
    """Three-valued and/or: false and null is false, true or null is true, otherwise null wins."""

    op: LogicOp
    operands: tuple[Node, ...]


@dataclass(frozen=True, eq=False, kw_only=True)
class If(Node):
    """`a if cond else b` and IF(cond, a, b): null when the condition is null."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Shared(Node):
    """An operand used by two comparisons of a chain (`a < b < c`): evaluated once per row."""

    operand: Node


@dataclass(frozen=True, eq=False, kw_only=True)
class Coalesce(Node):
    """The first argument that is not null."""

    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False, kw_only=True)
class Call(Node):
    """A registered function; null if any argument is null."""

    function: Function
    args: tuple[Node, ...]
    #: values of the arguments the function requires to be constants (such as ROUND's digits)
    constants: tuple[float, ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of a node, in evaluation order."""
    if isinstance(node, (Negate, Not, IsNull, In, Shared)):
        return (node.operand,)
    if isinstance(node, (Arithmetic, Order, Equal)):
        return (node.left, node.right)
    if isinstance(node, Logic):
        return node.operands
    if isinstance(node, If):
        return (node.condition, node.then, node.otherwise)
    if isinstance(node, (Coalesce, Call)):
        return node.args
    return ()
