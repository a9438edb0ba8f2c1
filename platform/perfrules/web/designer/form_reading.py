"""Reading the designers' forms: the fields a page posts (rows numbered in their names, like
`s-0-it-2-weight`) read into a configuration document, and the store's problems shown back
next to the fields they are about. The template, KPI, dataset and approval flow editors share
these."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ...problems import ConfigError

#: the fields a page posts
Form = MultiDict[str, str]
#: a configuration document as an editor builds it: nested JSON-like values, the schema checks them
Document = dict[str, Any]

# --- problems next to their fields --------------------------------------------------------------

DOCUMENT_PREFIX = re.compile(r"^(templates|kpis|datasets)\[\d+\]\.?")


def problems_by_path(exc: ConfigError) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """{path inside the document: [messages]} and every problem as (path, message)."""
    by_path: dict[str, list[str]] = {}
    listed: list[tuple[str, str]] = []
    for problem in exc.problems:
        path = DOCUMENT_PREFIX.sub("", problem.path)
        by_path.setdefault(path, []).append(problem.message)
        listed.append((path or _("(the whole document)"), problem.message))
    return by_path, listed


def errors_getter(by_path: dict[str, list[str]]) -> Callable[[str, bool], list[str]]:
    """What the page templates call for the problems of a field (`nested`: and of its rows)."""

    def errors(path: str, nested: bool = False) -> list[str]:
        found = list(by_path.get(path, []))
        if nested:
            for other, messages in by_path.items():
                if other.startswith(path + "[") and other != path:
                    found.extend(messages)
        return found

    return errors


# --- reading the fields -------------------------------------------------------------------------


def form_text(form: Form, key: str) -> str:
    # browsers post a textarea's line ends as CRLF: a formula saved unchanged must stay the same
    return (form.get(key) or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def form_number(form: Form, key: str) -> float | str | None:
    """A number as typed: a float when it reads as one, the text otherwise (the schema says
    what is wrong with it), left out when empty."""
    raw = form_text(form, key)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


_NUMBERED = re.compile(r"(?<=-)\d+(?=-)")


def _rows_of(form: Form) -> dict[tuple[str, str], list[int]]:
    """Every key's numbered parts, (text before, text after) → the numbers, worked out once per
    form and kept on it: looking each list's rows up by scanning every key would take a time
    growing with the square of the form's size."""
    rows = getattr(form, "_numbered_rows", None)
    if rows is None:
        found: dict[tuple[str, str], set[int]] = {}
        for key in form:
            for match in _NUMBERED.finditer(key):
                found.setdefault((key[: match.start()], key[match.end() :]), set()).add(int(match.group()))
        rows = {place: sorted(numbers) for place, numbers in found.items()}
        form._numbered_rows = rows  # type: ignore[attr-defined]
    return rows


def row_indices(form: Form, before: str, after: str) -> list[int]:
    """The row numbers of the fields named `before` + number + `after` (`s-0-it-`, `-kind`)."""
    return _rows_of(form).get((before, after), [])


def put_given(target: Document, key: str, value: object) -> None:
    """Set `key` unless the field was left empty (the schema's default applies then)."""
    if value is not None and value != "":
        target[key] = value


def form_checked(form: Form, key: str) -> bool:
    return (form.get(key) or "").strip().lower() in ("on", "1", "true", "yes", "y")
