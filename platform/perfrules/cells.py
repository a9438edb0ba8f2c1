"""One cell of a file or a form read as text, a number, a date or a yes/no, or the reason it
cannot be, in words a person can act on ("expected a date like 2026-10-31"). Raw values are text
(CSV), already typed (XLSX cells) or JSON values (the API).

Used wherever people's files come in: dataset records, the organisation, targets and ratings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 2000
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
BOOLEANS = {
    **dict.fromkeys(("true", "yes", "y", "1", "是", "对", "t"), True),
    **dict.fromkeys(("false", "no", "n", "0", "否", "错", "f"), False),
}


class FieldError(ValueError):
    """A value that does not fit its field; the message says why."""


def cell_text(raw: Any) -> str:
    """The cell as stripped text."""
    return raw.strip() if isinstance(raw, str) else str(raw)


def parse_text(raw: Any) -> str:
    value = cell_text(raw)
    if len(value) > MAX_TEXT:
        raise FieldError(f"text is longer than {MAX_TEXT} characters")
    return value


def _number_from_text(text: str) -> float:
    try:
        return float(text)  # the common case, fast
    except ValueError:
        pass
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        return float(Decimal(cleaned))
    except (InvalidOperation, ValueError):
        raise FieldError("expected a number") from None


def parse_decimal(raw: Any) -> float:
    if isinstance(raw, str):
        number = _number_from_text(raw.strip())
    elif isinstance(raw, bool):
        raise FieldError("expected a number, got true/false")
    elif isinstance(raw, (int, float, Decimal)):
        number = float(raw)
    else:
        raise FieldError("expected a number")
    if not math.isfinite(number):
        raise FieldError("expected a finite number")
    return number


def parse_integer(raw: Any) -> int:
    if isinstance(raw, str):
        try:
            return int(raw)  # the common case, fast; int() allows surrounding spaces
        except ValueError:
            pass
    number = parse_decimal(raw)
    if number != int(number):
        raise FieldError("expected a whole number")
    if abs(number) > 2**53:
        raise FieldError("the number is too large")
    return int(number)


def parse_date(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = cell_text(raw)
    try:
        return dt.date.fromisoformat(text.replace("/", "-").replace(".", "-")).isoformat()
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    raise FieldError("expected a date like 2026-10-31")


def parse_datetime(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return raw.replace(microsecond=0).isoformat()
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time()).isoformat()
    text = cell_text(raw)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            value = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise FieldError("expected a date and time like 2026-10-31 14:30") from None
    return (value.replace(microsecond=0) if value.microsecond else value).isoformat()


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = BOOLEANS.get(cell_text(raw).lower())
    if value is None:
        raise FieldError("expected true or false (yes/no, 1/0, 是/否)")
    return value
