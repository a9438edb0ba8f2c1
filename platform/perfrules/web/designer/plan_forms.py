"""The incentive plan's editor (激励方案), drawn from its description (`described`): its name and
currency; whom it is for (departments and roles, between two days); the amounts its rules pay
from (parameters) and the people with amounts of their own; and its components — what each pays
on (a dataset's records, a metric, a template's scorecards) and by which rule. A rule's own
fields show only for that rule, and only the rules the component's base takes are offered
(`config.plan_schemas`, which also says what is valid).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...config.plan_schemas import RULE_KEYS, RULES_OF_BASE
from ...money import DEFAULT_CURRENCY
from ...org.models import Employee, Role
from ..i18n import label
from ..words import WORDS, word
from .described import MONEY, PERCENT, TIMES, ChoiceList, Choices, DescribedKind, Field
from .display import currency_name
from .form_reading import Document
from .reach import department_tree


def _words(group: str) -> Choices:
    return tuple(WORDS[group].items())


def _base_kind(component: Document) -> str:
    """What a component pays on; for one that names nothing yet, what its rule needs (so a choice
    shown again after a failed save is the one made)."""
    base, rule = component.get("base") or {}, component.get("rule") or {}
    named = next((kind for kind in RULES_OF_BASE if base.get(kind)), None)
    return named or next((kind for kind, rules in RULES_OF_BASE.items() if rule.get("kind") in rules), "records")


def _for(*kinds: str) -> tuple[str, tuple[str, ...]]:
    return ("rule-kind", kinds)


def _on(kind: str) -> tuple[str, tuple[str, ...]]:
    return ("base_kind", (kind,))


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

BASE = (
    Field(
        "records",
        "select",
        _l("Dataset"),
        _l("Each record counts for its owner."),
        choices="datasets",
        show=_on("records"),
    ),
    Field(
        "amount",
        "select",
        _l("Money field to add up"),
        choices="money_fields",
        depends="base-records",
        show=_on("records"),
    ),
    Field(
        "filter",
        "formula",
        _l("Only records where"),
        _l("A condition over the dataset's fields, e.g. type == 'visit' and amount > 0. Empty: every record."),
        context="filter",
        depends="base-records",
        show=_on("records"),
    ),
    Field(
        "metric",
        "select",
        _l("Metric"),
        _l("Its value for the period, against its target."),
        choices="metrics",
        show=_on("metric"),
    ),
    Field(
        "scorecard",
        "select",
        _l("Template"),
        _l("Its scorecards for the period: their totals and grades."),
        choices="templates",
        show=_on("scorecard"),
    ),
)

RULE = (
    Field("kind", "select", _l("Pays"), choices="rule_kinds", depends="base_kind"),
    Field("percent", "number", _l("Percentage"), unit=PERCENT, show=_for("flat", "over_target")),
    Field(
        "field",
        "select",
        _l("Field whose value picks the percentage"),
        choices="dataset_fields",
        depends="base-records",
        show=_for("rate_table"),
    ),
    Field(
        "rates",
        "rows",
        _l("Percentages by value"),
        fields=(Field("key", "text", _l("Value")), Field("percent", "number", _l("Percentage"), unit=PERCENT)),
        show=_for("rate_table"),
    ),
    Field(
        "default_percent",
        "number",
        _l("Percentage for any other value"),
        _l("Empty: a value without a percentage stops the pay run, which names it."),
        unit=PERCENT,
        show=_for("rate_table"),
    ),
    Field(
        "tiers",
        "rows",
        _l("Tiers"),
        _l("Each tier starts at an amount of the base; the first at 0."),
        fields=(
            Field("from", "number", _l("From"), unit=MONEY),
            Field("percent", "number", _l("Percentage"), unit=PERCENT),
        ),
        show=_for("tiered"),
    ),
    Field(
        "mode",
        "select",
        _l("Method"),
        choices="modes",
        blank=_l("— not set (floating pay: relative) —"),
        depends="rule-kind",
        show=_for("tiered", "floating"),
    ),
    Field(
        "over",
        "select",
        _l("Base added up over"),
        _l("A longer period than the one paid: the amount then does not depend on how the base falls across months."),
        choices=_words("cycle"),
        blank=_l("— the period paid —"),
        show=_for("tiered"),
    ),
    Field(
        "target_pay",
        "select",
        _l("Pay when the target is met (100 %)"),
        choices="parameters",
        keys_of="parameters",
        show=_for("attainment"),
    ),
    Field(
        "gate",
        "number",
        _l("Nothing paid below"),
        _l("Attainment of the target. Empty: 0 %."),
        unit=PERCENT,
        show=_for("attainment"),
    ),
    Field(
        "slope",
        "number",
        _l("Below 100 %: pay falls by"),
        _l("Times the shortfall. Empty: 1 ×."),
        unit=TIMES,
        show=_for("attainment"),
    ),
    Field(
        "accelerator",
        "number",
        _l("Above 100 %: pay rises by"),
        _l("Times the excess. Empty: 1 ×."),
        unit=TIMES,
        show=_for("attainment"),
    ),
    Field(
        "amount",
        "select",
        _l("Amount"),
        _l("By grade: the amount at coefficient 1; floating pay: the amount at the average score."),
        choices="parameters",
        keys_of="parameters",
        show=_for("grade", "floating"),
    ),
    Field(
        "coefficients",
        "map",
        _l("Coefficients by grade"),
        _l("A grade without one stops the pay run, which names it."),
        fields=(
            Field("key", "select", _l("Grade"), choices="grades", depends="base-scorecard"),
            Field("value", "number", _l("Coefficient"), unit=TIMES),
        ),
        show=_for("grade"),
    ),
    Field(
        "scope",
        "select",
        _l("Average over"),
        _l("The scorecards of the same template and period."),
        choices=_words("average_scope"),
        blank=_l("— not set (the company) —"),
        show=_for("floating"),
    ),
    Field(
        "floor",
        "number",
        _l("At least"),
        _l("Of the amount. Empty: no floor."),
        unit=PERCENT,
        show=_for("floating"),
    ),
    Field(
        "cap",
        "number",
        _l("At most"),
        _l("Of the pay at 100 % (floating pay: of the amount). Empty: no cap."),
        unit=PERCENT,
        show=_for("attainment", "floating"),
    ),
    Field(
        "budget_neutral",
        "yesno",
        _l("Within the group's budget"),
        _l("Yes: the group's pay is scaled to the sum of its amounts (no when not set)."),
        show=_for("floating"),
    ),
)

COMPONENT = (
    Field("slug", "text", _l("Code"), _l("Lowercase letters, digits and _; pay lines name the component by it.")),
    Field("label", "label", _l("Name")),
    Field("frequency", "select", _l("Paid"), choices=_words("cycle")),
    Field("base_kind", "select", _l("Pays on"), choices=_words("base_kind"), derive=_base_kind),
    Field("base", "group", _l("Base"), fields=BASE),
    Field("rule", "group", _l("Rule"), fields=RULE),
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
)


def plan_lists(session: Session, config: dict, plan: Document) -> dict[str, ChoiceList]:
    """What the plan's selects choose from, besides every editor's lists."""
    datasets, templates = config.get("datasets", {}), config.get("templates", {})
    money = [
        (slug, field)
        for slug, dataset in sorted(datasets.items())
        for field in dataset.get("fields", [])
        if field.get("type") == "money"
    ]
    currencies = {DEFAULT_CURRENCY, plan.get("currency") or DEFAULT_CURRENCY}
    currencies |= {field.get("currency") or DEFAULT_CURRENCY for _slug, field in money}
    people = list(plan.get("people") or {})
    return {
        "rule_kinds": [
            (kind, WORDS["rule_kind"][kind], " ".join(base for base, rules in RULES_OF_BASE.items() if kind in rules))
            for kind in RULE_KEYS
        ],
        "modes": [(code, words, "tiered") for code, words in _words("tier_mode")]
        + [(code, words, "floating") for code, words in _words("floating_mode")],
        "money_fields": [(field["name"], field.get("label"), slug) for slug, field in money],
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
    """Each component in words: its name, its rule, how often it is paid."""
    return [
        f"{label(component.get('label')) or component.get('slug')}: "
        f"{word(component.get('rule', {}).get('kind'), 'rule_kind')}, {word(component.get('frequency'), 'cycle')}"
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
