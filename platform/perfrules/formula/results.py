"""What evaluating a formula gives back: per row, or per column of rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .types import BOOLEAN, ValueType


@dataclass(frozen=True)
class RowResult:
    """One row's value (None when missing), the error that stopped it, and notes on the way.

    A row with an error has no value. Notes record what happened without stopping the row, such
    as a division by zero that gave a missing value.
    """

    value: float | bool | None
    error: str | None = None
    notes: tuple[str, ...] = ()


class RowError(Exception):
    """Stops the evaluation of one row; the message is the row's error."""


class ColumnResult:
    """Values for many rows at once.

    `values` is a float64 array (NaN where missing) for number formulas, or a bool array for
    conditions; `missing` marks rows with no value (null or error); `error` marks rows whose
    evaluation failed. Reasons and notes are kept as (message, row mask) pairs in the order they
    arose, so a row's first error is its reason.
    """

    def __init__(
        self,
        type_: ValueType,
        values: NDArray[np.float64] | NDArray[np.bool_],
        missing: NDArray[np.bool_],
        error: NDArray[np.bool_],
        reasons: list[tuple[str, NDArray[np.bool_]]],
        notes: list[tuple[str, NDArray[np.bool_]]],
    ):
        self.type = type_
        self.values = values
        self.missing = missing
        self.error = error
        self.reasons = reasons
        self.notes = notes

    def __len__(self) -> int:
        return len(self.values)

    def error_reason(self, index: int) -> str | None:
        for message, mask in self.reasons:
            if mask[index]:
                return message
        return None

    def row(self, index: int) -> RowResult:
        notes = tuple(dict.fromkeys(message for message, mask in self.notes if mask[index]))
        if self.error[index]:
            return RowResult(None, self.error_reason(index), notes)
        if self.missing[index]:
            return RowResult(None, None, notes)
        value = self.values[index]
        return RowResult(bool(value) if self.type is BOOLEAN else float(value), None, notes)

    def rows(self) -> list[RowResult]:
        return [self.row(i) for i in range(len(self))]

    def to_list(self) -> list[float | bool | None]:
        """Plain Python values, None where missing."""
        return [
            None if missing else (bool(v) if self.type is BOOLEAN else float(v))
            for v, missing in zip(self.values.tolist(), self.missing.tolist())
        ]
