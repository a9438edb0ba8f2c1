"""Editors described, not hand-written: a kind's editor is a list of `Field`s (like a Frappe
DocType's), from which one Jinja macro (templates/designer/_document_form.html) draws the form and
`read_fields` reads the posted fields back into the configuration document — the same description
both ways, so what the page shows is what is saved. The descriptions themselves are in
`document_forms` and `plan_forms`.

Names on the page follow the document's shape: `label-zh`, `fields-2-type`,
`fields-2-options-0-value`, `components-0-rule-tiers-1-percent`; each row of a list carries a
`…-_row` marker so an empty row still counts. Problems come back with the store's paths
(`fields[2].options[0].value`, `parameters.target_bonus.value` for a map's entry), which the macro
puts under the field they are about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .form_reading import Document, Form, form_number, form_text, row_indices

Choices = tuple[tuple[str, Any], ...]
#: a list a select chooses from: (value, words, what it belongs to)
ChoiceList = list[tuple[str, Any, str]]
#: what a number counts in (`Field.unit`); the page says each in words
PERCENT, TIMES, MONEY = "percent", "times", "money"


@dataclass(frozen=True)
class Field:
    key: str
    #: label | text | textarea | number | integer | date | checkbox | yesno | select | multiselect |
    #: formula | employee (a code, found by searching) | rows (a list of `fields`) | group (a mapping
    #: of `fields`) | map ({key: value}: each row's `fields` are the key's, with the key `key`, then
    #: the value's)
    widget: str
    label: Any
    hint: Any = None
    #: select and multiselect: fixed (value, words) pairs, or the name of a list the page provides
    choices: Choices | str = ()
    #: select: offer "(not set)" (the schema's default then applies)
    blank: Any = None
    #: rows, group and map: the fields inside
    fields: tuple[Field, ...] = ()
    #: shown and read only when the field `show[0]` has one of the values `show[1]`
    show: tuple[str, tuple[str, ...]] | None = None
    #: formula: the context it is checked in
    context: str = ""
    #: select of a dataset's fields, and a formula over them: the field naming the dataset; a select
    #: whose choices belong to groups (`ChoiceList`): the field whose value picks the group
    depends: str = ""
    #: an empty list is left out (the schema's default applies)
    optional: bool = False
    #: number: what it counts in, said next to it: PERCENT, TIMES or MONEY (the document's currency)
    unit: str = ""
    #: select: its choices are the keys of the form's top-level map of this name — as stored, from
    #: the page's list `choices`, and as they are typed, kept up to date in the browser
    keys_of: str = ""
    #: a field the document does not hold: shown as derive(the mapping it is in), never saved; it
    #: only decides which fields show and which choices they offer
    derive: Callable[[Document], Any] | None = None

    def value_in(self, around: Document) -> Any:
        """The field's value in the document (or row, or group) `around`."""
        return self.derive(around) if self.derive is not None else around.get(self.key)


# `show` and `depends` name a field by its key within its row — `kind` for a sibling, `base-records`
# for a field of the row's group `base` — and one not in the row is looked for in the rows around
# it, as names are in nested scopes: a coefficient's grade depends on the template its component
# pays on.


def _shown_by(form: Form, rows: tuple[str, ...], key: str) -> str:
    for row in rows:
        if row + key in form:
            return form_text(form, row + key)
    return ""


def _value(form: Form, name: str, spec: Field) -> Any:
    if spec.widget == "number":
        return form_number(form, name)
    if spec.widget == "integer":
        text = form_text(form, name)
        return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else (text or None)
    if spec.widget == "checkbox":
        return form_text(form, name).lower() in ("on", "1", "true", "yes")
    if spec.widget == "yesno":
        return {"yes": True, "no": False}.get(form_text(form, name))
    return form_text(form, name) or None


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(inner) for inner in value.values())
    return value is None or value == "" or value == []


def read_fields(specs: tuple[Field, ...], form: Form, prefix: str = "", rows: tuple[str, ...] = ("",)) -> Document:
    """The document (or row, or group) the posted fields under `prefix` describe; `rows`: the
    prefixes of the row they are in and of the rows around it, innermost first."""
    document: Document = {}
    for spec in specs:
        if spec.derive is not None:
            continue
        if spec.show is not None and _shown_by(form, rows, spec.show[0]) not in spec.show[1]:
            continue
        name = prefix + spec.key
        if spec.widget == "label":
            label = {"zh": form_text(form, name + "-zh"), "en": form_text(form, name + "-en")}
            if label["zh"] or label["en"] or not spec.optional:
                document[spec.key] = label
        elif spec.widget == "multiselect":
            values = [value for value in form.getlist(name) if value]
            if values or not spec.optional:
                document[spec.key] = values
        elif spec.widget == "group":
            document[spec.key] = read_fields(spec.fields, form, name + "-", rows)
        elif spec.widget == "rows":
            found = []
            for index in row_indices(form, f"{name}-", "-_row"):
                at = f"{name}-{index}-"
                found.append(read_fields(spec.fields, form, at, (at, *rows)))
            if found or not spec.optional:
                document[spec.key] = found
        elif spec.widget == "map":
            key_spec, value_spec = spec.fields
            entries = {}
            for index in row_indices(form, f"{name}-", "-_row"):
                at = f"{name}-{index}-"
                entry = read_fields(spec.fields, form, at, (at, *rows))
                key, value = entry.get(key_spec.key, ""), entry.get(value_spec.key)
                if key or not _blank(value):
                    entries[key] = value
            if entries or not spec.optional:
                document[spec.key] = entries
        else:
            value = _value(form, name, spec)
            if value is not None and value != "":
                document[spec.key] = value
    return document


def names(**words: Any) -> Choices:
    """Fixed choices, in the order given: names(count=_l("count the records"), …)."""
    return tuple(words.items())


@dataclass(frozen=True)
class DescribedKind:
    kind: str
    fields: tuple[Field, ...]
    singular: Any
    plural: Any
    intro: Any
    #: a new document starts as this
    blank: Callable[[], Document]
    #: what the list shows besides the name: (heading, document → words, or lines of words)
    columns: tuple[tuple[Any, Callable[[Document], str | list[str]]], ...] = ()
    #: the kind's own choice lists besides every editor's: (session, draft, document) → {name: list}
    lists: Callable[[Session, dict, Document], dict[str, ChoiceList]] | None = None
