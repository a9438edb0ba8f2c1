"""Turning caller-supplied values into the formula language's plain values, one rule for both paths.

Numbers become floats (NaN and None mean missing; ±inf is an error), booleans stay booleans, text
stays text. Anything else is an error for that row that names the input and shows the value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from numbers import Real
from typing import TypeAlias, cast

import numpy as np
from numpy.typing import NDArray

from .types import BOOLEAN, NUMBER, TEXT, Value, ValueType

#: a caller's column of input values: a sequence, or a numpy array (masked entries are missing)
InputColumn: TypeAlias = Sequence[object] | NDArray[np.generic]

Floats: TypeAlias = NDArray[np.float64]
Flags: TypeAlias = NDArray[np.bool_]
#: a text column: str, or None where missing
Texts: TypeAlias = NDArray[np.object_]
#: a true/false column: (values, missing rows), `missing` being np.False_ when no row is missing
ConditionColumn: TypeAlias = tuple[Flags, Flags | np.bool_]
#: an input column as the evaluator takes it: numbers (NaN where missing), true/false, or text
Column: TypeAlias = Floats | ConditionColumn | Texts

_PLAIN_KINDS: dict[ValueType, set[type[object]]] = {
    NUMBER: {float, int, type(None)},
    BOOLEAN: {bool, type(None)},
    TEXT: {str, type(None)},
}


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def coerce_value(name: str, type_: ValueType, value: object) -> tuple[Value, str | None]:
    """Return (plain value, error message or None) for one input value."""
    if value is None or value is np.ma.masked:
        return None, None
    if type_ is NUMBER:
        if isinstance(value, (bool, np.bool_, np.timedelta64, np.datetime64)):
            return None, f"input '{name}' should be a number, got {_show(value)}"
        if isinstance(value, (Real, Decimal)):
            try:
                number = float(value)
            except (OverflowError, ValueError, TypeError):  # huge integers, Decimal('sNaN')
                return None, f"input '{name}' is not a finite number"
            if math.isnan(number):
                return None, None
            if math.isinf(number):
                return None, f"input '{name}' is not a finite number"
            return number, None
        return None, f"input '{name}' should be a number, got {_show(value)}"
    if type_ is BOOLEAN:
        if isinstance(value, (bool, np.bool_)):
            return bool(value), None
        return None, f"input '{name}' should be true or false, got {_show(value)}"
    if type_ is TEXT:
        if isinstance(value, str):
            return value, None
        return None, f"input '{name}' should be text, got {_show(value)}"
    raise ValueError(f"input '{name}' has no usable type")  # pragma: no cover


def coerce_column(
    name: str, type_: ValueType, values: InputColumn, size: int
) -> tuple[Column, Flags | None, str | Texts | None]:
    """Return (column, bad-row mask or None, messages) for one input column.

    The messages are one for all the bad rows, or an object array with one per row (None for a good
    row); they are None exactly when the mask is.

    Numbers come back as float64 with NaN for missing, booleans as (values, missing mask), text as
    an object array with None for missing. Well-typed numpy arrays take a fast path.
    """
    if np.ma.isMaskedArray(values):  # masked entries are missing values
        # np.ma.filled(…, None) would fill with the array's default ('?' for objects), not None
        entries = np.ma.getdata(values).astype(object)
        entries[np.ma.getmaskarray(values)] = None
        values = entries
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.shape != (size,):
        raise ValueError(f"input '{name}' has {array.shape[0] if array.ndim else 1} values, expected {size}")
    if array is None and len(values) != size:
        raise ValueError(f"input '{name}' has {len(values)} values, expected {size}")

    if type_ is NUMBER and array is not None and array.dtype.kind in "fiu":
        numbers = array.astype(np.float64, copy=False)
        infinite = np.isinf(numbers)
        if infinite.any():
            numbers = np.where(infinite, np.nan, numbers)
            return numbers, infinite, f"input '{name}' is not a finite number"
        return numbers, None, None
    if type_ is BOOLEAN and array is not None and array.dtype.kind == "b":
        return (cast(Flags, array), np.False_), None, None  # its dtype is bool
    if type_ is TEXT and array is not None and array.dtype.kind == "U":
        return array.astype(object), None, None

    items = array.tolist() if array is not None else list(values)
    if set(map(type, items)) <= _PLAIN_KINDS[type_]:
        if type_ is TEXT and array is not None and array.dtype == object:
            return cast(Texts, array), None, None  # its dtype is object
        ready = _plain_column(type_, items)
        if ready is not None:
            return ready, None, None

    plain: list[Value] = []
    errors: list[str | None] = []
    for value in items:
        coerced, problem = coerce_value(name, type_, value)
        plain.append(coerced)
        errors.append(problem)
    bad = np.array([problem is not None for problem in errors], dtype=bool)
    messages = np.array(errors, dtype=object) if bad.any() else None
    column: Column
    if type_ is NUMBER:
        column = np.array([np.nan if v is None else v for v in plain], dtype=np.float64)
    elif type_ is BOOLEAN:
        missing = np.array([v is None for v in plain], dtype=bool)
        column = (np.array([bool(v) for v in plain], dtype=bool), missing if missing.any() else np.False_)
    else:
        column = np.array(plain, dtype=object)
    return column, (bad if messages is not None else None), messages


def _plain_column(type_: ValueType, items: list[object]) -> Column | None:
    """The column for a sequence already of plain values and None; None if it needs checking."""
    count = len(items)
    if type_ is TEXT:
        return np.array(items, dtype=object)
    if type_ is BOOLEAN:
        missing = np.fromiter((v is None for v in items), bool, count)
        return np.fromiter((v is True for v in items), bool, count), missing if missing.any() else np.False_
    try:
        column = np.fromiter((np.nan if v is None else v for v in items), np.float64, count)
    except OverflowError:  # an integer too large for a float
        return None
    return None if np.isinf(column).any() else column
