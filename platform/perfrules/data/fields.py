"""Parsing one cell of an import into a dataset field's value, or saying exactly why not.

Each field type has a parser `(raw) -> value` that raises FieldError with a reason a person can
act on. Raw values are text (CSV) or already typed (XLSX cells, JSON from the API).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

MAX_TEXT = 2000
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_TRUE = {"true", "yes", "y", "1", "是", "对", "t"}
_FALSE = {"false", "no", "n", "0", "否", "错", "f"}


class FieldError(ValueError):
    """A value that does not fit its field; the message says why."""


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw.strip()
    return str(raw)


def parse_text(raw: Any) -> str:
    value = _text(raw)
    if len(value) > MAX_TEXT:
        raise FieldError(f"text is longer than {MAX_TEXT} characters")
    return value


def _number_text(raw: Any) -> str:
    text = _text(raw).replace("\u00a0", "").replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def parse_decimal(raw: Any) -> float:
    if isinstance(raw, bool):
        raise FieldError("expected a number, got true/false")
    if isinstance(raw, (int, float)):
        number = float(raw)
    else:
        try:
            number = float(Decimal(_number_text(raw)))
        except (InvalidOperation, ValueError):
            raise FieldError("expected a number") from None
    if not math.isfinite(number):
        raise FieldError("expected a finite number")
    return number


def parse_integer(raw: Any) -> int:
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
    text = _text(raw).replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text).isoformat()
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
    text = _text(raw).replace("/", "-")
    try:
        return dt.datetime.fromisoformat(text).replace(microsecond=0).isoformat()
    except ValueError:
        raise FieldError("expected a date and time like 2026-10-31 14:30") from None


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError("expected true or false (yes/no, 1/0, 是/否)")


def choice_parser(options: list[dict]) -> Callable[[Any], str]:
    """Accepts an option's value, or its Chinese or English label."""
    accepted = {}
    for option in options:
        for word in (option["value"], option["label"]["zh"], option["label"]["en"]):
            accepted.setdefault(word.strip().lower(), option["value"])
    allowed = ", ".join(option["value"] for option in options)

    def parse_choice(raw: Any) -> str:
        value = accepted.get(_text(raw).lower())
        if value is None:
            raise FieldError(f"not one of the choices: {allowed}")
        return value
    return parse_choice


def employee_parser(codes: dict[str, int]) -> Callable[[Any], str]:
    def parse_employee(raw: Any) -> str:
        code = _text(raw)
        if code not in codes:
            raise FieldError("unknown employee code")
        return code
    return parse_employee


SIMPLE_PARSERS = {"text": parse_text, "integer": parse_integer, "decimal": parse_decimal,
                  "date": parse_date, "datetime": parse_datetime, "boolean": parse_boolean}


def field_parser(field: dict, employee_codes: dict[str, int]) -> Callable[[Any], Any]:
    if field["type"] == "choice":
        return choice_parser(field["options"])
    if field["type"] == "employee":
        return employee_parser(employee_codes)
    return SIMPLE_PARSERS[field["type"]]
