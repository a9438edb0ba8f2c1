"""Numbers and labels in words: values by their KPI's unit and format, points, weights and
changes, and configuration labels (`{zh: …, en: …}`) in the reader's language.

Every sentence in `engine.explain` goes through a `_` callable with gettext's signature
(`_(msgid, **variables)`): the web passes Flask-Babel's `gettext`, others keep `english`.
"""

from __future__ import annotations

import math
from typing import Protocol, TypeGuard

from ..shapes import Label


class Translate(Protocol):
    """gettext's signature: `_(msgid, **variables)`, the message with its variables filled in."""

    def __call__(self, msgid: str, /, **variables: object) -> str: ...


NO_VALUE = "—"


def english(msgid: str, /, **variables: object) -> str:
    """The default `_`: the English source string with its variables filled in."""
    return msgid % variables if variables else msgid


def label_text(value: Label | str | None, lang: str = "en") -> str:
    """A configuration label in `lang`, falling back to the other language."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("zh") or value.get("en") or ""
    return "" if value is None else str(value)


# --- numbers -------------------------------------------------------------------------------------


def finite(value: object) -> TypeGuard[float]:
    """A number (not a true/false) that is neither NaN nor infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: object, decimals: int = 2) -> str:
    """Thousands separated, at most `decimals` decimals, no trailing zeros: 1,234,000 · 4.5."""
    if not finite(value):
        return NO_VALUE
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_percent(ratio: object, decimals: int = 1) -> str:
    """A ratio as a percentage: 1.028 → 102.8%, 1.2 → 120%."""
    return NO_VALUE if not finite(ratio) else f"{format_number(ratio * 100, decimals)}%"


def format_value(value: object, format: str | None = None, unit: str | None = None) -> str:
    """A KPI's value as its definition says to show it: `percent` values as percentages, others as
    numbers, with the unit after them (12 次)."""
    if not finite(value):
        return NO_VALUE
    text = format_percent(value) if format == "percent" else format_number(value)
    return f"{text} {unit}" if unit and format != "percent" else text


def format_points(points: object) -> str:
    """Points, totals and scores: one decimal, always (105.4, 60.0)."""
    if not finite(points):
        return NO_VALUE
    text = f"{points:,.1f}"
    return "0.0" if text == "-0.0" else text


def format_weight(weight: object) -> str:
    """An item's weight in the total, in percent: 42%, 33.3%."""
    return NO_VALUE if not finite(weight) else f"{format_number(weight, 1)}%"


def format_delta(delta: object) -> str:
    """A change in points: +3.2, −0.5, ±0.0."""
    if finite(delta):
        rounded = round(delta, 1)
        if rounded == 0:
            return "±0.0"
        return f"+{rounded:,.1f}" if rounded > 0 else f"−{-rounded:,.1f}"
    return NO_VALUE
