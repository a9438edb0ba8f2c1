"""Compiling a formula once and evaluating it many times."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .checker import check
from .exact import Exact, evaluate_exact, exact_problem
from .functions import FunctionRegistry, SqlExpression, builtin_functions
from .inputs import InputColumn
from .reference import ReferenceEvaluator
from .results import ColumnResult, RowResult
from .scanner import DEFAULT_LIMITS, Limits
from .sql import to_sql
from .types import BOOLEAN, NULL, NUMBER, Catalogue, ValueType
from .vector import VectorEvaluation

_BUILTINS = builtin_functions()


class CompiledFormula:
    """A formula that passed the checker, ready to evaluate row by row, by column, or in SQL."""

    def __init__(self, text: str, catalogue: Catalogue, functions: FunctionRegistry, limits: Limits):
        self.text = text
        checked = check(text, catalogue, functions, limits)
        self.root, self._source, self.names, self.functions = (
            checked.root,
            checked.source,
            checked.names,
            checked.functions,
        )
        #: the kind of value it gives: NUMBER or BOOLEAN (a formula that is just None counts as a number)
        self.type: ValueType = NUMBER if self.root.type is NULL else self.root.type
        self._types = checked.types
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<CompiledFormula {self.type.value} {self.text!r}>"

    def evaluate(self, row: Mapping[str, object]) -> RowResult:
        """Evaluate for one row (the reference path, with simpleeval)."""
        evaluator: ReferenceEvaluator | None = getattr(self._local, "evaluator", None)
        if evaluator is None:
            evaluator = ReferenceEvaluator(self.root, self._source, self.names, self._types)
            self._local.evaluator = evaluator
        return evaluator.evaluate(row)

    def evaluate_columns(self, columns: Mapping[str, InputColumn], size: int | None = None) -> ColumnResult:
        """Evaluate for many rows at once (the fast path, with numpy).

        `columns` maps each referenced name to a sequence or numpy array of equal length;
        `size` is needed only when the formula references no names.
        """
        if size is None:
            if not self.names:
                raise ValueError("size is required for a formula that references no names")
            size = len(columns[self.names[0]]) if self.names[0] in columns else 0
        evaluation = VectorEvaluation(self.root, self._source, self.names, self._types, columns, size)
        return evaluation.run()

    def evaluate_exact(self, row: Mapping[str, Exact]) -> Exact:
        """Evaluate for one row with decimals, for money (see `formula.exact`); raises
        ExactEvaluationError, saying where, on a division by zero."""
        return evaluate_exact(self.root, row, self._source.excerpt)

    def check_exact(self) -> None:
        """Raise FormulaError, at the call, when the formula uses a function with no exact form."""
        call = exact_problem(self.root)
        if call is not None:
            raise self._source.error(
                f"{call.function.display_name} cannot be used where money is computed: it works with binary numbers",
                *call.span,
            )

    def to_sql(self, columns: Mapping[str, SqlExpression]) -> SqlExpression:
        """A SQLAlchemy expression computing the formula inside the database."""
        return to_sql(self.root, self._source, columns)


def compile_formula(
    text: str,
    catalogue: Catalogue | Mapping[str, ValueType | str],
    *,
    functions: FunctionRegistry | None = None,
    expect: ValueType | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> CompiledFormula:
    """Check a formula against the names it may use; raise FormulaError if it is not acceptable.

    `expect` is NUMBER for values such as KPIs and BOOLEAN for conditions such as filters.
    """
    if not isinstance(catalogue, Catalogue):
        catalogue = Catalogue(catalogue)
    compiled = CompiledFormula(text, catalogue, functions or _BUILTINS, limits)
    if expect is not None and compiled.root.type not in (expect, NULL):
        wanted = "a true/false condition" if expect is BOOLEAN else "a number"
        raise compiled._source.error(f"this must give {wanted}, but it gives {compiled.type.noun}", 0, len(text))
    return compiled
