"""The kinds whose editors are drawn from a description (`described`): metrics, forms, schedules,
employee attributes — and incentive plans, described in `plan_forms`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...config.schemas import AGGREGATES, SCOPES, WINDOWS
from .described import DescribedKind, Field, names
from .plan_forms import PLANS

LABEL = Field("label", "label", _l("Name"))

AGGREGATE_NAMES = names(
    count=_l("count the records"),
    sum=_l("sum of a field"),
    avg=_l("average of a field"),
    min=_l("smallest value of a field"),
    max=_l("largest value of a field"),
    count_distinct=_l("count the different values of a field"),
)
WINDOW_NAMES = names(
    period=_l("the period being evaluated"),
    previous=_l("the period before it"),
    last_year=_l("the same period last year"),
    ytd=_l("the year to date"),
    trailing=_l("the last few months"),
)
SCOPE_NAMES = names(
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
        depends="dataset",
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
        choices=names(
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
                choices=names(rating=_l("a rating"), number=_l("a number"), text=_l("text"), choice=_l("a choice")),
            ),
            Field("required", "checkbox", _l("Required")),
            Field("min", "number", _l("From"), show=("type", ("rating", "number"))),
            Field("max", "number", _l("To"), show=("type", ("rating", "number"))),
            Field("weight", "number", _l("Weight"), _l("Its share of the form's score.")),
            Field(
                "scale_labels",
                "map",
                _l("What each score means"),
                fields=(Field("key", "text", _l("Score")), Field("label", "label", _l("Name"))),
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
        choices=names(previous=_l("the last complete period"), current=_l("the period in progress")),
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
        choices=names(number=_l("a number"), text=_l("text"), boolean=_l("yes / no")),
    ),
)


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
    "plans": PLANS,
}
