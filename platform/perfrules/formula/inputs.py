"""Turning caller-supplied values into the formula language's plain values, one rule for both paths.

Numbers become floats (NaN and None mean missing; ±inf is an error), booleans stay booleans, text
stays text. Anything else is an error for that row that names the input and shows the value.
"""

from __future__ import annotations

import math
from decimal import Decimal
from numbers import Real

import numpy as np

from .types import BOOLEAN, NUMBER, TEXT, ValueType

_PLAIN_KINDS = {NUMBER: {float, int, type(None)}, BOOLEAN: {bool, type(None)}, TEXT: {str, type(None)}}


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def coerce_value(name: str, type_: ValueType, value):
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


def coerce_column(name: str, type_: ValueType, values, size: int):
    """Return (column, bad-row mask or None, messages per bad row) for one input column.

    Numbers come back as float64 with NaN for missing, booleans as (values, missing mask), text as
    an object array with None for missing. Well-typed numpy arrays take a fast path.
    """
    if np.ma.isMaskedArray(values):  # masked entries are missing values
        values = values.astype(object).filled(None)
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.shape != (size,):
        raise ValueError(f"input '{name}' has {array.shape[0] if array.ndim else 1} values, expected {size}")
    if array is None and len(values) != size:
        raise ValueError(f"input '{name}' has {len(values)} values, expected {size}")

    if type_ is NUMBER and array is not None and array.dtype.kind in "fiu":
        column = array.astype(np.float64, copy=False)
        infinite = np.isinf(column)
        if infinite.any():
            column = np.where(infinite, np.nan, column)
            return column, infinite, f"input '{name}' is not a finite number"
        return column, None, None
    if type_ is BOOLEAN and array is not None and array.dtype.kind == "b":
        return (array, np.False_), None, None
    if type_ is TEXT and array is not None and array.dtype.kind == "U":
        return array.astype(object), None, None

    items = array.tolist() if array is not None else list(values)
    if set(map(type, items)) <= _PLAIN_KINDS[type_]:
        if type_ is TEXT and array is not None and array.dtype == object:
            return array, None, None
        column = _plain_column(type_, items)
        if column is not None:
            return column, None, None

    plain, errors = [], []
    for value in items:
        coerced, problem = coerce_value(name, type_, value)
        plain.append(coerced)
        errors.append(problem)
    bad = np.array([problem is not None for problem in errors], dtype=bool)
    messages = np.array(errors, dtype=object) if bad.any() else None
    if type_ is NUMBER:
        column = np.array([np.nan if v is None else v for v in plain], dtype=np.float64)
    elif type_ is BOOLEAN:
        missing = np.array([v is None for v in plain], dtype=bool)
        column = (np.array([bool(v) for v in plain], dtype=bool), missing if missing.any() else np.False_)
    else:
        column = np.array(plain, dtype=object)
    return column, (bad if messages is not None else None), messages


def _plain_column(type_: ValueType, items: list):
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
