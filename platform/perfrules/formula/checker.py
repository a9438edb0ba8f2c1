"""The checker: parses a formula and turns it into a typed, checked tree, or explains why not.

Untrusted text goes through three gates, each bounded before the next runs:
1. `scanner.scan` — length cap, characters, tokens, brackets (no parsing yet);
2. an iterative allow-list walk over Python's parse tree with node-count and depth caps
   (no recursion, so hostile nesting cannot blow the stack);
3. a build of the checked tree with names, functions and types resolved. It recurses, but only
   over a tree the walk has proven to be at most `max_depth` deep.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple, cast

from . import tree as t
from .errors import FormulaError
from .functions import SPECIAL_FORMS, FunctionRegistry
from .scanner import Limits, Source, scan
from .suggestions import check_listed
from .suggestions import did_you_mean as did_you_mean  # re-exported: the other packages suggest with it too
from .types import BOOLEAN, NULL, NUMBER, RESERVED_WORDS, TEXT, Catalogue, Value, ValueType

_OPERATOR_NODES = (
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Load,
)
_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.UnaryOp,
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Tuple,
    ast.List,
) + _OPERATOR_NODES
_NODE_MESSAGES = {
    ast.Subscript: "'[...]' indexing is not allowed in formulas",
    ast.Starred: "'*' unpacking is not allowed in formulas",
    ast.Mod: "'%' is not allowed in formulas",
    ast.Pow: "'**' (power) is not allowed in formulas; multiply instead",
    ast.Is: "'is' is not allowed; use == None or != None to test for a missing value",
    ast.IsNot: "'is' is not allowed; use == None or != None to test for a missing value",
    ast.Lambda: "lambda functions are not allowed in formulas",
    ast.JoinedStr: "f-strings are not allowed in formulas",
    ast.NamedExpr: "':=' (assignment) is not allowed in formulas",
}
_ORDER_OPS: dict[type[ast.cmpop], t.OrderOp] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITHMETIC_OPS: dict[type[ast.operator], t.ArithmeticOp] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_KEYWORD_CALL = re.compile(r"(if|and|or)\s*\(")
_CONSTANT_WORDS: dict[str, bool | None] = {"true": True, "false": False, "none": None, "null": None}

#: the kinds of parse-tree node that have a position in the text (in an expression's tree)
_POSITIONED = (ast.expr, ast.keyword, ast.arg)


class Checked(NamedTuple):
    """A formula that passed the checker."""

    root: t.Node
    source: Source
    #: the catalogue names it uses, in order of first use
    names: tuple[str, ...]
    #: the functions it calls, in capitals, in order of first use
    functions: tuple[str, ...]
    #: the type of each name it uses
    types: dict[str, ValueType]


def check(text: str, catalogue: Catalogue, functions: FunctionRegistry, limits: Limits) -> Checked:
    """Check a formula; return the checked tree, the source, and the names and functions used."""
    source = Source(text)
    scan(source, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal" for `1if x else 2`
            parsed = ast.parse(source.wrapped, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except (RecursionError, MemoryError):
        raise source.error("the formula is nested too deeply", 0, len(text)) from None
    _walk(parsed, source, limits)
    builder = _Builder(source, catalogue, functions, limits)
    root = builder.build(parsed.body)
    if root.type is TEXT:
        raise source.error("text can only be compared (==, !=, in), not used as a result", *root.span)
    return Checked(root, source, tuple(builder.names), tuple(builder.functions), builder.names)


def _syntax_error(source: Source, exc: SyntaxError) -> FormulaError:
    start = source.offset(exc.lineno or 2, (exc.offset or 1) - 1)
    message = exc.msg or "invalid syntax"
    keyword_call = _KEYWORD_CALL.match(source.text, start)
    if keyword_call:
        word = keyword_call.group(1)
        message = f"'{word}' is a keyword here; to call the function write it in capitals: {word.upper()}(…)"
    elif start >= len(source.text.rstrip()):
        message = "the formula ends too early: something is missing at the end"
    elif message.startswith("invalid syntax"):
        message = message.replace("invalid syntax", "this does not read as a formula here", 1)
    return source.error(message, start)


def _walk(parsed: ast.Expression, source: Source, limits: Limits) -> None:
    """Iterative allow-list walk with node-count and depth caps."""
    stack: list[tuple[ast.AST, int, tuple[int, int]]] = [(parsed, 0, (0, len(source.text)))]
    count = 0
    while stack:
        node, depth, parent_span = stack.pop()
        span = source.span(node) if isinstance(node, _POSITIONED) else parent_span
        count += isinstance(node, ast.expr)
        if count > limits.max_nodes:
            raise source.error(f"the formula has too many parts (more than {limits.max_nodes})", *span)
        if depth > limits.max_depth:
            raise source.error(f"the formula is nested too deeply (more than {limits.max_depth} levels)", *span)
        if not isinstance(node, _ALLOWED_NODES):
            message = _NODE_MESSAGES.get(type(node), f"{_describe(node)} is not allowed in formulas")
            raise source.error(message, *span)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, span))


def _describe(node: ast.AST) -> str:
    words = {
        ast.ListComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.Dict: "'{...}'",
        ast.Set: "'{...}'",
        ast.Slice: "a slice",
        ast.FloorDiv: "'//'",
    }
    return words.get(type(node), f"this construct ({type(node).__name__})")


def _dotted_name(node: ast.AST) -> str | None:
    """'target.sales_amount' for a chain of attributes on a plain name; None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _number(node: t.Const) -> float:
    """The value of a constant the checker has found to be a number."""
    # a NUMBER constant holds a float: _constant makes one with float(), _unaryop negates one
    return cast(float, node.value)


class _Builder:
    def __init__(self, source: Source, catalogue: Catalogue, functions: FunctionRegistry, limits: Limits):
        self.source = source
        self.catalogue = catalogue
        self.registry = functions
        self.limits = limits
        #: the names used, in order of first use, with their types
        self.names: dict[str, ValueType] = {}
        #: the functions called, in order of first use (a dict as an ordered set)
        self.functions: dict[str, None] = {}

    def error(self, message: str, span: tuple[int, int]) -> FormulaError:
        return self.source.error(message, *span)

    def build(self, node: ast.expr) -> t.Node:
        span = self.source.span(node)
        # each handler below takes the node kind it is named after
        method: Callable[[ast.expr, tuple[int, int]], t.Node] | None = getattr(
            self, "_" + type(node).__name__.lower(), None
        )
        if method is None:  # pragma: no cover - the walk allows only handled node types
            raise self.error(f"{_describe(node)} is not allowed in formulas", span)
        return method(node, span)

    # --- leaves --------------------------------------------------------------------------------

    def _constant(self, node: ast.Constant, span: tuple[int, int]) -> t.Node:
        value = node.value
        if value is None:
            return t.Const(span=span, type=NULL, value=None)
        if isinstance(value, bool):
            return t.Const(span=span, type=BOOLEAN, value=value)
        if isinstance(value, (int, float)):
            number = float(value)
            if not math.isfinite(number):
                raise self.error("this number is too large", span)
            return t.Const(span=span, type=NUMBER, value=number)
        if isinstance(value, str):
            if len(value) > self.limits.max_string:
                raise self.error(f"this text is too long (the limit is {self.limits.max_string})", span)
            return t.Const(span=span, type=TEXT, value=value)
        raise self.error(f"{type(value).__name__} values are not allowed in formulas", span)

    def _name(self, node: ast.Name, span: tuple[int, int]) -> t.Node:
        return self._resolve(node.id, span)

    def _attribute(self, node: ast.Attribute, span: tuple[int, int]) -> t.Node:
        dotted = _dotted_name(node)
        if dotted is None:
            raise self.error(
                "values have no attributes: '.' may only join the parts of a name such as target.sales_amount", span
            )
        return self._resolve(dotted, span)

    def _resolve(self, name: str, span: tuple[int, int]) -> t.Node:
        info = self.catalogue.get(name)
        if info is not None:
            self.names.setdefault(info.name, info.type)
            return t.Name(span=span, type=info.type, name=info.name)
        if name.lower() in RESERVED_WORDS:
            value = _CONSTANT_WORDS[name.lower()]
            kind = NULL if value is None else BOOLEAN
            return t.Const(span=span, type=kind, value=value)
        if self.registry.get(name) is not None or name.lower() in SPECIAL_FORMS:
            raise self.error(
                f"{name.upper()} is a function: call it with arguments, for example {name.upper()}(…)", span
            )
        raise self.error(f"unknown name '{name}'{did_you_mean(name, self.catalogue.names())}", span)

    # --- operators -----------------------------------------------------------------------------

    def _unaryop(self, node: ast.UnaryOp, span: tuple[int, int]) -> t.Node:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.Not):
            self._expect_condition(operand, "'not'")
            return t.Not(span=span, type=BOOLEAN, operand=operand)
        self._expect_number(operand, f"'{'-' if isinstance(node.op, ast.USub) else '+'}'")
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, t.Const) and operand.type is NUMBER:
            return t.Const(span=span, type=NUMBER, value=-_number(operand))
        return t.Negate(span=span, type=NUMBER, operand=operand)

    def _binop(self, node: ast.BinOp, span: tuple[int, int]) -> t.Node:
        op = _ARITHMETIC_OPS[type(node.op)]
        left, right = self.build(node.left), self.build(node.right)
        self._expect_number(left, f"'{op}'")
        self._expect_number(right, f"'{op}'")
        if isinstance(left, t.Const) and isinstance(right, t.Const):
            self._check_constant_arithmetic(op, _number(left), _number(right), span)
        return t.Arithmetic(span=span, type=NUMBER, op=op, left=left, right=right)

    def _check_constant_arithmetic(self, op: str, left: float, right: float, span: tuple[int, int]) -> None:
        """Fixed numbers that can never give a value are a mistake worth saying at once."""
        if op == "/" and right == 0:
            raise self.error("division by zero", span)
        result = {"+": left + right, "-": left - right, "*": left * right, "/": left / right if right else 0.0}[op]
        if not math.isfinite(result):
            raise self.error("the result is too large", span)

    def _boolop(self, node: ast.BoolOp, span: tuple[int, int]) -> t.Node:
        op: t.LogicOp = "and" if isinstance(node.op, ast.And) else "or"
        operands = tuple(self.build(value) for value in node.values)
        for operand in operands:
            self._expect_condition(operand, f"'{op}'")
        return t.Logic(span=span, type=BOOLEAN, op=op, operands=operands)

    def _compare(self, node: ast.Compare, span: tuple[int, int]) -> t.Node:
        left = self.build(node.left)
        chained = len(node.ops) > 1
        pairs: list[t.Node] = []
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators)):
            if isinstance(op, (ast.In, ast.NotIn)):
                if chained:
                    raise self.error("'in' cannot be chained with another comparison", span)
                return self._membership(left, comparator, isinstance(op, ast.NotIn))
            right = self.build(comparator)
            if chained and index < len(node.comparators) - 1:
                # the middle operand of `a < b < c` is evaluated once, as in Python
                right = t.Shared(span=right.span, type=right.type, operand=right)
            pairs.append(self._comparison(op, left, right))
            left = right  # the next comparison's left side
        if len(pairs) == 1:
            return pairs[0]
        return t.Logic(span=span, type=BOOLEAN, op="and", operands=tuple(pairs))

    def _comparison(self, op: ast.cmpop, left: t.Node, right: t.Node) -> t.Node:
        span = (left.span[0], right.span[1])
        if isinstance(op, (ast.Eq, ast.NotEq)):
            negated = isinstance(op, ast.NotEq)
            if left.type is NULL and right.type is NULL:
                return t.Const(span=span, type=BOOLEAN, value=not negated)
            if right.type is NULL:
                return t.IsNull(span=span, type=BOOLEAN, operand=left, negated=negated)
            if left.type is NULL:
                return t.IsNull(span=span, type=BOOLEAN, operand=right, negated=negated)
            if left.type is not right.type:
                raise self.error(f"cannot compare {left.type.noun} with {right.type.noun}", span)
            check_listed(self.catalogue, self.source, left, right)
            check_listed(self.catalogue, self.source, right, left)
            return t.Equal(span=span, type=BOOLEAN, left=left, right=right, negated=negated)
        symbol = _ORDER_OPS[type(op)]
        for side in (left, right):
            if side.type is TEXT:
                raise self.error(f"text can only be compared with ==, !=, in or not in, not '{symbol}'", side.span)
            if side.type is NULL:
                raise self.error(
                    f"None cannot be compared with '{symbol}'; use x == None to test for a missing value", side.span
                )
            if side.type is BOOLEAN:
                raise self.error(f"true/false values cannot be compared with '{symbol}'", side.span)
        return t.Order(span=span, type=BOOLEAN, op=symbol, left=left, right=right)

    def _membership(self, operand: t.Node, listing: ast.expr, negated: bool) -> t.Node:
        list_span = self.source.span(listing)
        word = "not in" if negated else "in"
        if not isinstance(listing, (ast.Tuple, ast.List)):
            raise self.error(
                f"the right side of '{word}' must be a list of values in parentheses, "
                "for example status in ('won', 'lost')",
                list_span,
            )
        if len(listing.elts) > self.limits.max_list_items:
            raise self.error(f"the list has too many values (the limit is {self.limits.max_list_items})", list_span)
        if operand.type is NULL:
            raise self.error(f"None cannot be the left side of '{word}'", operand.span)
        values: list[Value] = []
        for element in listing.elts:
            item = self.build(element)
            if not isinstance(item, t.Const):
                raise self.error(f"the list after '{word}' may hold only fixed values", item.span)
            if item.type not in (operand.type, NULL):
                raise self.error(
                    f"this list holds {item.type.noun}, but the value before '{word}' is {operand.type.noun}", item.span
                )
            check_listed(self.catalogue, self.source, operand, item)
            values.append(item.value)
        span = (operand.span[0], list_span[1])
        return t.In(span=span, type=BOOLEAN, operand=operand, values=tuple(values), negated=negated)

    def _ifexp(self, node: ast.IfExp, span: tuple[int, int]) -> t.Node:
        return self._if(
            self.build(node.test), self.build(node.body), self.build(node.orelse), span, "the condition after 'if'"
        )

    def _if(self, condition: t.Node, then: t.Node, otherwise: t.Node, span: tuple[int, int], what: str) -> t.Node:
        if condition.type is not BOOLEAN and condition.type is not NULL:
            raise self.error(
                f"{what} must be true/false, not {condition.type.noun}; compare it first, for example x > 0",
                condition.span,
            )
        kind = self._common_type((then, otherwise), "both results of IF")
        return t.If(span=span, type=kind, condition=condition, then=then, otherwise=otherwise)

    def _common_type(self, nodes: Sequence[t.Node], what: str) -> ValueType:
        kinds = {node.type for node in nodes} - {NULL}
        for node in nodes:
            if node.type is TEXT:
                raise self.error("text can only be compared (==, !=, in), not used as a value", node.span)
        if len(kinds) > 1:
            raise self.error(
                f"{what} must be of one kind: a number and a true/false value are mixed",
                (nodes[0].span[0], nodes[-1].span[1]),
            )
        return kinds.pop() if kinds else NULL

    def _tuple(self, node: ast.expr, span: tuple[int, int]) -> t.Node:
        raise self.error("a list of values can only follow 'in' or 'not in'", span)

    _list = _tuple

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, node: ast.Call, span: tuple[int, int]) -> t.Node:
        func_span = self.source.span(node.func)
        if isinstance(node.func, ast.Attribute):
            dotted = _dotted_name(node.func)
            if dotted is None or self.catalogue.get(dotted.rsplit(".", 1)[0]) is not None:
                raise self.error("methods cannot be called on values", func_span)
            raise self.error(f"unknown function '{dotted}'", func_span)
        if not isinstance(node.func, ast.Name):
            raise self.error("only functions can be called, by name: ROUND(x, 2)", func_span)
        if node.keywords:
            raise self.error("named arguments are not allowed; pass arguments in order", span)
        name = node.func.id
        key = name.lower()
        if key in SPECIAL_FORMS:
            self.functions.setdefault(key.upper(), None)
            return self._special_form(key, node.args, span)
        function = self.registry.get(name)
        if function is None:
            if self.catalogue.get(name) is not None:
                raise self.error(f"'{name}' is a value, not a function", func_span)
            candidates = [n.upper() for n in [*self.registry.names(), *SPECIAL_FORMS]]
            raise self.error(f"unknown function '{name}'{did_you_mean(name.upper(), candidates)}", func_span)
        self.functions.setdefault(function.display_name, None)
        problem = function.arity_error(len(node.args))
        if problem:
            raise self.error(problem, span)
        fixed = len(function.params) + len(function.optional)
        first_constant = fixed - function.constant_params
        args: list[t.Node] = []
        constants: list[float] = []
        for index, arg_node in enumerate(node.args):
            arg = self.build(arg_node)
            wanted = function.param_type(index)
            if function.constant_params and first_constant <= index < fixed:
                if not (isinstance(arg, t.Const) and arg.type is NUMBER):
                    raise self.error(
                        f"argument {index + 1} of {function.display_name} must be a fixed number", arg.span
                    )
                constants.append(_number(arg))
                continue
            if arg.type is TEXT and wanted is not TEXT:
                raise self.error("text can only be compared (==, !=, in), not used as a value", arg.span)
            if arg.type not in (wanted, NULL):
                raise self.error(
                    f"{function.display_name} expects {wanted.noun} as argument {index + 1}, not {arg.type.noun}",
                    arg.span,
                )
            args.append(arg)
        if function.check_constants:
            problem = function.check_constants(tuple(constants))
            if problem:
                raise self.error(problem, span)
        return t.Call(span=span, type=function.returns, function=function, args=tuple(args), constants=tuple(constants))

    def _special_form(self, key: str, arg_nodes: Sequence[ast.expr], span: tuple[int, int]) -> t.Node:
        _, low, high = SPECIAL_FORMS[key]
        given = len(arg_nodes)
        if given < low or (high is not None and given > high):
            plural = "s" if low != 1 else ""
            wanted = f"{low} argument{plural}" if low == high else f"at least {low} argument{plural}"
            raise self.error(f"{key.upper()} takes {wanted}, got {given}", span)
        args = tuple(self.build(arg) for arg in arg_nodes)
        if key == "if":
            return self._if(args[0], args[1], args[2], span, "IF's condition")
        if key == "not":
            self._expect_condition(args[0], "NOT")
            return t.Not(span=span, type=BOOLEAN, operand=args[0])
        if key in ("and", "or"):
            for arg in args:
                self._expect_condition(arg, key.upper())
            return t.Logic(span=span, type=BOOLEAN, op="and" if key == "and" else "or", operands=args)
        kind = self._common_type(args, "the arguments of COALESCE")
        return t.Coalesce(span=span, type=kind, args=args)

    # --- type expectations ---------------------------------------------------------------------

    def _expect_number(self, node: t.Node, where: str) -> None:
        if node.type is NUMBER:
            return
        if node.type is TEXT:
            raise self.error("text can only be compared, not used in arithmetic", node.span)
        if node.type is BOOLEAN:
            raise self.error(
                f"true/false values cannot be used with {where}; use IF(condition, 1, 0) to turn one into a number",
                node.span,
            )
        raise self.error(
            f"None cannot be used with {where}: the result would always be missing; use COALESCE(x, 0) for a default",
            node.span,
        )

    def _expect_condition(self, node: t.Node, where: str) -> None:
        if node.type in (BOOLEAN, NULL):
            return
        if node.type is TEXT:
            raise self.error(
                f"{where} needs true/false conditions, not text; compare it first, for example status == 'won'",
                node.span,
            )
        raise self.error(
            f"{where} needs true/false conditions, not a number; compare it first, for example x > 0", node.span
        )
