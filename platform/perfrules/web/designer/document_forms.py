"""Editors described, not hand-written: a kind's editor is a list of `Field`s (like a Frappe
DocType's), from which one Jinja macro draws the form and `read_document` reads the posted fields
back into the configuration document — the same description both ways, so what the page shows is
what is saved.

Names on the page follow the document's shape: `label-zh`, `fields-2-type`,
`fields-2-options-0-value`; each row of a list carries a `…-_row` marker so an empty row still
counts. Problems come back with the store's paths (`fields[2].options[0].value`), which the
macro puts under the field they are about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ...config.schemas import AGGREGATES, CYCLES, SCOPES, WINDOWS
from .form_reading import Document, Form, form_number, form_text, row_indices

Choices = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Field:
    key: str
    #: label | text | textarea | number | integer | checkbox | yesno | select | multiselect | formula | rows | labels_by_key
    widget: str
    label: Any
    hint: Any = None
    #: select and multiselect: fixed (value, words) pairs, or the name of a list the page provides
    choices: Choices | str = ()
    #: select: offer "(not set)" (the schema's default then applies)
    blank: Any = None
    #: rows: the fields of each row
    fields: tuple[Field, ...] = ()
    #: shown and read only when the sibling field `show[0]` has one of the values `show[1]`
    show: tuple[str, tuple[str, ...]] | None = None
    #: formula: the context it is checked in (its dataset comes from the sibling field `dataset`)
    context: str = ""
    #: select of a dataset's fields: the sibling field naming the dataset
    depends: str = ""
    #: an empty list is left out (the schema's default applies)
    optional: bool = False


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


def read_fields(specs: tuple[Field, ...], form: Form, prefix: str = "") -> Document:
    """The document (or row) the posted fields under `prefix` describe."""
    document: Document = {}
    for spec in specs:
        if spec.show is not None:
            sibling = form_text(form, prefix + spec.show[0])
            if sibling not in spec.show[1]:
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
        elif spec.widget == "rows":
            rows = [
                read_fields(spec.fields, form, f"{name}-{index}-") for index in row_indices(form, f"{name}-", "-_row")
            ]
            if rows or not spec.optional:
                document[spec.key] = rows
        elif spec.widget == "labels_by_key":
            entries = {}
            for index in row_indices(form, f"{name}-", "-_row"):
                at = f"{name}-{index}-"
                key = form_text(form, at + "key")
                label = {"zh": form_text(form, at + "label-zh"), "en": form_text(form, at + "label-en")}
                if key or label["zh"] or label["en"]:
                    entries[key] = label
            if entries or not spec.optional:
                document[spec.key] = entries
        else:
            value = _value(form, name, spec)
            if value is not None and value != "":
                document[spec.key] = value
    return document


# --- the kinds drawn from a description ---------------------------------------------------------

LABEL = Field("label", "label", _l("Name"))


def _names(**words: Any) -> Choices:
    return tuple(words.items())


AGGREGATE_NAMES = _names(
    count=_l("count the records"),
    sum=_l("sum of a field"),
    avg=_l("average of a field"),
    min=_l("smallest value of a field"),
    max=_l("largest value of a field"),
    count_distinct=_l("count the different values of a field"),
)
WINDOW_NAMES = _names(
    period=_l("the period being evaluated"),
    previous=_l("the period before it"),
    last_year=_l("the same period last year"),
    ytd=_l("the year to date"),
    trailing=_l("the last few months"),
)
SCOPE_NAMES = _names(
    self=_l("the employee's own records"),
    team=_l("the employee's and everyone's below them"),
    department=_l("everyone's in the employee's department"),
)
assert [code for code, _ in AGGREGATE_NAMES] == list(AGGREGATES)
assert [code for code, _ in WINDOW_NAMES] == list(WINDOWS)
assert [code for code, _ in SCOPE_NAMES] == list(SCOPES)

METRIC = (
    LABEL,
    Field("dataset", "select", _l("Dataset"), _l("Where the records come from."), choices="datasets"),
    Field("aggregate", "select", _l("What to work out"), choices=AGGREGATE_NAMES),
    Field(
        "field",
        "select",
        _l("Field"),
        _l("The field to add up, average or compare (a count needs none)."),
        choices="dataset_fields",
        blank=_l("— no field —"),
        depends="dataset",
    ),
    Field(
        "filter",
        "formula",
        _l("Only records where"),
        _l("A condition over the dataset's fields, e.g. type == 'visit' and amount > 0. Empty: every record."),
        context="filter",
    ),
    Field("window", "select", _l("Time window"), choices=WINDOW_NAMES),
    Field(
        "months",
        "integer",
        _l("Months"),
        _l("How many months back, this one included."),
        show=("window", ("trailing",)),
    ),
    Field("scope", "select", _l("Whose records"), choices=SCOPE_NAMES),
)

OPTION = (
    Field("value", "text", _l("Option value")),
    Field("label", "label", _l("Name")),
)

FORM = (
    LABEL,
    Field(
        "filled_by",
        "select",
        _l("Filled in by"),
        choices=_names(
            employee=_l("the employee (self-assessment)"), manager=_l("their manager"), peer=_l("colleagues")
        ),
    ),
    Field(
        "anonymous",
        "yesno",
        _l("Anonymous answers"),
        _l("Whether the employee sees the answers without who gave them (yes when not set)."),
        show=("filled_by", ("peer",)),
    ),
    Field(
        "fields",
        "rows",
        _l("Questions"),
        fields=(
            Field("name", "text", _l("Code")),
            Field("label", "label", _l("Question")),
            Field(
                "type",
                "select",
                _l("Answer"),
                choices=_names(rating=_l("a rating"), number=_l("a number"), text=_l("text"), choice=_l("a choice")),
            ),
            Field("required", "checkbox", _l("Required")),
            Field("min", "number", _l("From"), show=("type", ("rating", "number"))),
            Field("max", "number", _l("To"), show=("type", ("rating", "number"))),
            Field("weight", "number", _l("Weight"), _l("Its share of the form's score.")),
            Field(
                "scale_labels",
                "labels_by_key",
                _l("What each score means"),
                show=("type", ("rating",)),
                optional=True,
            ),
            Field("options", "rows", _l("Options"), fields=OPTION, show=("type", ("choice",)), optional=True),
        ),
    ),
)

SCHEDULE = (
    LABEL,
    Field("templates", "multiselect", _l("Templates to evaluate"), choices="templates"),
    Field("cycle", "select", _l("Cycle"), choices="cycles"),
    Field(
        "cron",
        "text",
        _l("When (cron)"),
        _l("minute hour day month weekday: 0 6 1 * * is 06:00 on the first of every month."),
    ),
    Field("timezone", "text", _l("Time zone"), _l("A name like Asia/Shanghai.")),
    Field(
        "evaluate",
        "select",
        _l("Which period"),
        choices=_names(previous=_l("the last complete period"), current=_l("the period in progress")),
    ),
    Field("enabled", "checkbox", _l("Enabled")),
)

ATTRIBUTE = (
    LABEL,
    Field(
        "type",
        "select",
        _l("Type"),
        _l("Formulas use it as employee.<code>."),
        choices=_names(number=_l("a number"), text=_l("text"), boolean=_l("yes / no")),
    ),
)


@dataclass(frozen=True)
class DescribedKind:
    kind: str
    fields: tuple[Field, ...]
    singular: Any
    plural: Any
    intro: Any
    #: a new document starts as this
    blank: Callable[[], Document]
    #: what the list shows besides the name: (heading, document → words)
    columns: tuple[tuple[Any, Callable[[Document], str]], ...] = ()


DESCRIBED: dict[str, DescribedKind] = {
    "metrics": DescribedKind(
        "metrics",
        METRIC,
        _l("metric"),
        _l("Metrics"),
        _l(
            "A metric counts or adds up a dataset's records for each employee and period; KPIs are formulas over metrics."
        ),
        lambda: {"label": {}, "aggregate": "count", "window": "period", "scope": "self"},
        ((_l("Dataset"), lambda d: d.get("dataset", "")), (_l("Works out"), lambda d: d.get("aggregate", ""))),
    ),
    "forms": DescribedKind(
        "forms",
        FORM,
        _l("form"),
        _l("Forms"),
        _l("A form is filled in by the employee, their manager or colleagues; a template item can score its answers."),
        lambda: {
            "label": {},
            "filled_by": "employee",
            "fields": [{"type": "rating", "required": True, "min": 1, "max": 5, "label": {}}],
        },
        (
            (_l("Filled in by"), lambda d: d.get("filled_by", "")),
            (_l("Questions"), lambda d: str(len(d.get("fields", [])))),
        ),
    ),
    "schedules": DescribedKind(
        "schedules",
        SCHEDULE,
        _l("schedule"),
        _l("Schedules"),
        _l("A schedule evaluates templates by itself, at the times a cron expression gives, in a time zone."),
        lambda: {
            "label": {},
            "templates": [],
            "cycle": "monthly",
            "cron": "0 6 1 * *",
            "timezone": "Asia/Shanghai",
            "evaluate": "previous",
            "enabled": True,
        },
        ((_l("When (cron)"), lambda d: d.get("cron", "")), (_l("Cycle"), lambda d: d.get("cycle", ""))),
    ),
    "attributes": DescribedKind(
        "attributes",
        ATTRIBUTE,
        _l("employee attribute"),
        _l("Employee attributes"),
        _l(
            "Attributes hold what the organisation file says about each employee beyond their department and role "
            "(a quota weight, a region); formulas read them as employee.<code>."
        ),
        lambda: {"label": {}, "type": "number"},
        ((_l("Type"), lambda d: d.get("type", "")),),
    ),
}

CYCLE_CHOICES = CYCLES
