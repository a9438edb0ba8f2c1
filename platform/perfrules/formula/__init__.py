"""The perfrules formula language: a checked, sandboxed subset of Python expressions.

    >>> from perfrules.formula import compile_formula, NUMBER
    >>> kpi = compile_formula("round(sales / target.sales * 100, 1)",
    ...                       {"sales": NUMBER, "target.sales": NUMBER})
    >>> kpi.names
    ('sales', 'target.sales')
    >>> kpi.evaluate({"sales": 1234.5, "target.sales": 1000}).value
    123.5

See the README's formula-language reference for the rules.
"""

from .compiled import CompiledFormula, compile_formula
from .errors import FormulaError
from .exact import ExactEvaluationError
from .functions import SPECIAL_FORMS, Function, FunctionRegistry, builtin_functions
from .results import ColumnResult, RowResult
from .scanner import DEFAULT_LIMITS, Limits
from .types import BOOLEAN, NUMBER, TEXT, Catalogue, NameInfo, ValueType

__all__ = [
    "BOOLEAN",
    "DEFAULT_LIMITS",
    "NUMBER",
    "SPECIAL_FORMS",
    "TEXT",
    "Catalogue",
    "ColumnResult",
    "CompiledFormula",
    "ExactEvaluationError",
    "FormulaError",
    "Function",
    "FunctionRegistry",
    "Limits",
    "NameInfo",
    "RowResult",
    "ValueType",
    "builtin_functions",
    "compile_formula",
]
