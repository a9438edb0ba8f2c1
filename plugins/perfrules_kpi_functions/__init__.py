"""Built-in plugin: KPI helper functions, registered through the same entry point as any plugin.

GROWTH(current, previous)   change against a previous value, as a fraction: (current - previous) / |previous|
DIVIDE(a, b, alternate)     a / b, or `alternate` when b is zero (spreadsheet-style safe division)
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from perfrules.formula import NUMBER, Function


def _growth(current: float, previous: float) -> float | None:
    if previous == 0:
        return None
    return (current - previous) / abs(previous)


def _growth_vector(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    return np.where(previous == 0, np.nan, (current - previous) / np.abs(previous))


def _divide(a: float, b: float, alternate: float) -> float:
    return alternate if b == 0 else a / b


def _divide_vector(a: np.ndarray, b: np.ndarray, alternate: np.ndarray) -> np.ndarray:
    return np.where(b == 0, alternate, a / np.where(b == 0, 1.0, b))


def _divide_sql(a, b, alternate):
    return sa.case((b == 0, alternate), else_=sa.cast(a, sa.Float) / sa.func.nullif(b, 0))


def register(registry) -> None:
    registry.add_function(
        Function(
            name="growth",
            params=(NUMBER, NUMBER),
            reference=_growth,
            vector=_growth_vector,
            null_reason="the previous value is zero",
            signature="GROWTH(current, previous)",
            summary={
                "en": "change against a previous value, as a fraction: GROWTH(120, 100) = 0.2",
                "zh": "相对上一期的增长率(小数):GROWTH(120, 100) = 0.2",
            },
        )
    )
    registry.add_function(
        Function(
            name="divide",
            params=(NUMBER, NUMBER, NUMBER),
            reference=_divide,
            vector=_divide_vector,
            sql=_divide_sql,
            signature="DIVIDE(a, b, alternate)",
            summary={
                "en": "a / b, or alternate when b is zero: DIVIDE(won, deals, 0)",
                "zh": "a / b,b 为 0 时取 alternate:DIVIDE(won, deals, 0)",
            },
        )
    )
