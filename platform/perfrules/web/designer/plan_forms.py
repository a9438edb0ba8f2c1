"""The incentive plan's editor (激励方案), drawn from its description (`described`): its name and
currency; whom it is for (departments and roles, between two days); the amounts its rules pay
from (parameters) and the people with amounts of their own; its components (`plan_component_forms`);
and, when switched on, a monthly draw and its own proration for joiners and leavers
(`config.plan_schemas`, which also says what is valid).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...config.plan_schemas import PRORATIONS, RULE_KEYS, RULES_OF_BASE
from ...money import DEFAULT_CURRENCY
from ...org.models import Employee, Role
from ..i18n import label
from ..words import word
from .described import MONEY, ChoiceList, DescribedKind, Field, names
from .display import currency_name
from .form_reading import Document
from .plan_component_forms import COMPONENT, RULE_KIND_NAMES, YES_ON_RECORDS, word_choices
from .reach import department_tree

ASSIGNMENT = (
    Field(
        "departments",
        "multiselect",
        _l("Departments (and those below them)"),
        _l("None chosen: every department."),
        choices="departments",
        optional=True,
    ),
    Field("roles", "multiselect", _l("Roles"), _l("None chosen: every role."), choices="roles", optional=True),
    Field("starts_on", "date", _l("Starts on"), _l("Empty: no start.")),
    Field("ends_on", "date", _l("Ends on"), _l("Empty: no end.")),
)

AMOUNT = Field("value", "number", _l("Amount"), unit=MONEY)

DRAW = (
    Field(
        "amount",
        "select",
        _l("Pay topped up to"),
        _l("One of the plan's parameters: a month's pay under the plan below it is topped up to it."),
        choices="parameters",
        keys_of="parameters",
    ),
    Field(
        "recoverable",
        "yesno",
        _l("Recoverable"),
        _l("Yes: the top-ups are taken back from later earnings above the draw. No: a guarantee, never taken back."),
    ),
)

PRORATION_NAMES = names(
    calendar_days=_l("by the calendar days employed"),
    working_days=_l("by the working days employed (Monday to Friday)"),
    whole_months=_l("by whole months"),
    none=_l("not at all: paid in full"),
)
assert [code for code, _ in PRORATION_NAMES] == list(PRORATIONS)

PRORATION = (
    Field("by", "select", _l("Target pay and targets cut"), choices=PRORATION_NAMES),
    Field(
        "cut_off_day",
        "integer",
        _l("Cut-off day"),
        _l("A joiner's month counts when they joined by this day of it (1 to 31); a leaver's when they left after it."),
        show=("proration-by", ("whole_months",)),
    ),
)

PLAN = (
    Field("label", "label", _l("Name")),
    Field(
        "currency",
        "select",
        _l("Currency"),
        _l("What it pays in; the money fields it adds up must be in it too."),
        choices="currencies",
    ),
    Field(
        "assign",
        "rows",
        _l("Assignments"),
        _l("Everyone in these departments holding one of these roles, between the two days, is paid by the plan."),
        fields=ASSIGNMENT,
    ),
    Field(
        "parameters",
        "map",
        _l("Parameters"),
        _l("Amounts the rules pay from, each with a name (lowercase letters, digits and _), such as target_bonus."),
        fields=(Field("key", "text", _l("Name")), AMOUNT),
        optional=True,
    ),
    Field(
        "people",
        "map",
        _l("People with amounts of their own"),
        _l("Their own amounts replace the plan's."),
        fields=(
            Field("key", "employee", _l("Employee")),
            Field(
                "value",
                "map",
                _l("Their amounts"),
                fields=(Field("key", "select", _l("Parameter"), choices="parameters", keys_of="parameters"), AMOUNT),
            ),
        ),
        optional=True,
    ),
    Field("components", "rows", _l("Components"), fields=COMPONENT),
    # the draw and the proration are left out unless switched on (see `plan_component_forms`)
    Field(
        "has_draw",
        "yesno",
        _l("A monthly draw"),
        _l("Yes: a month's pay under the plan below an amount is topped up to it."),
        derive=lambda plan: "draw" in plan,
    ),
    Field("draw", "group", _l("Draw"), fields=DRAW, show=("has_draw", ("yes",))),
    Field(
        "has_proration",
        "yesno",
        _l("Joiners and leavers prorated otherwise"),
        _l(
            "No: the target pay and targets of someone who joins or leaves within a period are cut by the "
            "calendar days they were employed. Rates are never cut."
        ),
        derive=lambda plan: "proration" in plan,
    ),
    Field("proration", "group", _l("Proration"), fields=PRORATION, show=("has_proration", ("yes",))),
)


def plan_lists(session: Session, config: dict, plan: Document) -> dict[str, ChoiceList]:
    """What the plan's selects choose from, besides every editor's lists."""
    datasets, templates = config.get("datasets", {}), config.get("templates", {})

    def fields_of_type(kind: str) -> list[tuple[str, dict]]:
        return [
            (slug, field)
            for slug, dataset in sorted(datasets.items())
            for field in dataset.get("fields", [])
            if field.get("type") == kind
        ]

    money = fields_of_type("money")
    currencies = {DEFAULT_CURRENCY, plan.get("currency") or DEFAULT_CURRENCY}
    currencies |= {field.get("currency") or DEFAULT_CURRENCY for _slug, field in money}
    people = list(plan.get("people") or {})
    return {
        "rule_kinds": [
            (kind, RULE_KIND_NAMES[kind], " ".join(base for base, rules in RULES_OF_BASE.items() if kind in rules))
            for kind in RULE_KEYS
        ],
        YES_ON_RECORDS: [("yes", _l("yes"), "records")],
        "modes": [(code, words, "tiered") for code, words in word_choices("tier_mode")]
        + [(code, words, "floating") for code, words in word_choices("floating_mode")],
        "money_fields": [(field["name"], field.get("label"), slug) for slug, field in money],
        "text_fields": [(field["name"], field.get("label"), slug) for slug, field in fields_of_type("text")],
        "employee_fields": [(field["name"], field.get("label"), slug) for slug, field in fields_of_type("employee")],
        "grades": [
            (grade["grade"], grade.get("label"), slug)
            for slug, template in sorted(templates.items())
            for grade in template.get("grades", [])
        ],
        "departments": [(d.code, "\u2003" * d.depth + label(d.label), "") for d in department_tree(session)],
        "roles": [
            (code, words, "") for code, words in session.execute(sa.select(Role.code, Role.label).order_by(Role.code))
        ],
        "currencies": [(code, currency_name(code), "") for code in sorted(currencies)],
        "parameters": [(name, None, "") for name in plan.get("parameters") or {}],
        "employees": [
            (code, name, "")
            for code, name in session.execute(sa.select(Employee.code, Employee.name).where(Employee.code.in_(people)))
        ],
    }


def _pays(plan: Document) -> list[str]:
    """Each component in words: its name, its rule, how often it is paid (a contest: never, it is
    paid once)."""
    return [
        f"{label(component.get('label')) or component.get('slug')}: "
        + ", ".join(
            words
            for words in (
                str(RULE_KIND_NAMES.get(component.get("rule", {}).get("kind"), "")),
                word(component.get("frequency"), "cycle"),
            )
            if words
        )
        for component in plan.get("components", [])
    ]


PLANS = DescribedKind(
    "plans",
    PLAN,
    _l("incentive plan"),
    _l("Incentive plans"),
    _l(
        "An incentive plan pays the people it is for — by department and role, between two days — through its "
        "components: commission on a dataset's records, a bonus by how much of a metric's target was reached, pay "
        "by a template's scorecards. Amounts are in the plan's currency; a percentage is written as a number, 3 for 3 %."
    ),
    lambda: {
        "label": {},
        "currency": DEFAULT_CURRENCY,
        "assign": [{}],
        "components": [{"label": {}, "frequency": "monthly", "base": {}, "rule": {}}],
    },
    ((_l("What it pays"), _pays),),
    plan_lists,
)
