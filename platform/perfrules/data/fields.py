"""Parsing one cell of an import into a dataset field's value, or saying exactly why not.

Each field type has a parser `(raw) -> value` that raises FieldError with a reason a person can
act on. Raw values are text (CSV) or already typed (XLSX cells, JSON from the API). The plain
kinds of value are read by `perfrules.cells`; this module adds choices, employees, and the
column-at-a-time parsers and JSON writers of bulk imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from ..cells import (
    BOOLEANS,
    MAX_TEXT,
    FieldError,
    cell_text,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_integer,
    parse_text,
)
from ..money import MoneyError, parse_money, to_minor


def choice_parser(options: list[dict]) -> Callable[[Any], str]:
    """Accepts an option's value, or its Chinese or English label."""
    accepted: dict[str, str] = {}
    for option in options:
        for word in (option["value"], option["label"]["zh"], option["label"]["en"]):
            accepted.setdefault(word.strip().lower(), option["value"])
    allowed = ", ".join(option["value"] for option in options)

    def parse_choice(raw: Any) -> str:
        value = accepted.get(cell_text(raw).lower())
        if value is None:
            raise FieldError(f"not one of the choices: {allowed}")
        return value

    return parse_choice


def employee_parser(codes: dict[str, int]) -> Callable[[Any], str]:
    def parse_employee(raw: Any) -> str:
        code = cell_text(raw)
        if code not in codes:
            raise FieldError("unknown employee code")
        return code

    return parse_employee


def parse_money_cell(raw: Any) -> int:
    """Money in minor units (分): 1,234.50 is 123450."""
    try:
        return to_minor(parse_money(raw))
    except MoneyError as exc:
        raise FieldError(str(exc)) from None


SIMPLE_PARSERS = {
    "text": parse_text,
    "integer": parse_integer,
    "decimal": parse_decimal,
    "money": parse_money_cell,
    "date": parse_date,
    "datetime": parse_datetime,
    "boolean": parse_boolean,
}


def field_parser(field: dict, employee_codes: dict[str, int]) -> Callable[[Any], Any]:
    if field["type"] == "choice":
        return choice_parser(field["options"])
    if field["type"] == "employee":
        return employee_parser(employee_codes)
    return SIMPLE_PARSERS[field["type"]]


# --- whole columns at once --------------------------------------------------------------------
# An import chunk's column is converted in one pass when every cell is plain text its parser would
# accept as it is; any other cell (a number with a thousands separator, a label instead of a
# choice value, a formula, a mistake) sends the chunk back to the cell-by-cell parsers above,
# which give the same values and explain what is wrong. Empty cells become None.


def _column(convert: Callable[[str], Any]) -> Callable[[list], list | None]:
    def column(cells: list) -> list | None:
        try:
            try:
                texts = [cell.strip() for cell in cells]
            except AttributeError:  # empty cells (None) or typed ones (spreadsheets, JSON)
                texts = [_strip(cell) for cell in cells]
            if "=" in {text[:1] for text in texts}:
                return None
            return [convert(text) if text else None for text in texts]
        except (ValueError, KeyError, TypeError, OverflowError):
            return None

    return column


def _strip(cell) -> str:
    if cell is None:
        return ""
    if cell.__class__ is not str:
        raise TypeError
    return cell.strip()


def _plain_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError
    return text


def _plain_decimal(text: str) -> float:
    number = float(text)
    if number - number != 0:  # nan or ±inf
        raise ValueError
    return number


def _plain_datetime(text: str) -> str:
    value = dt.datetime.fromisoformat(text)
    return (value.replace(microsecond=0) if value.microsecond else value).isoformat()


def column_parser(field: dict, employee_codes: dict[str, int]) -> Callable[[list], list | None]:
    kind = field["type"]
    if kind == "choice":
        values = {option["value"]: option["value"] for option in field["options"]}
        return _column(values.__getitem__)
    if kind == "employee":
        return _column(lambda code: code if code in employee_codes else employee_codes[code])
    converters: dict[str, Callable[[str], Any]] = {
        "text": _plain_text,
        "integer": int,
        "decimal": _plain_decimal,
        "money": lambda text: to_minor(parse_money(text)),
        "date": lambda text: dt.date.fromisoformat(text).isoformat(),
        "datetime": _plain_datetime,
        "boolean": lambda text: BOOLEANS[text.lower()],
    }
    return _column(converters[kind])


def _json_boolean(value: bool) -> str:
    return "true" if value else "false"


#: how a column parser's values are written in JSON, by field type (the same text json.dumps gives)
JSON_WRITERS: dict[str, Callable[[Any], str]] = {
    "text": encode_basestring,
    "choice": encode_basestring,
    "employee": encode_basestring,
    "date": encode_basestring,
    "datetime": encode_basestring,
    "integer": int.__repr__,
    "decimal": float.__repr__,
    "money": int.__repr__,
    "boolean": _json_boolean,
}
