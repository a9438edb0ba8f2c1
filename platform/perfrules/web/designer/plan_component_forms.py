"""An incentive plan's component in the plan editor (`plan_forms`): what it pays on (a dataset's
records, a metric, a template's scorecards, or awards given by hand), by which rule, how often,
and what it takes back or holds back. A rule's own fields show only for that rule, and only the
rules the component's base takes are offered (`config.plan_schemas`, which also says what is
valid).

A part of a component the schema may leave out (credit besides the owner, a clawback, a hold) is
switched on by a yes/no field the document does not hold (`has_…`, derived from whether the part
is there): the part is shown and read only while it is on, so one switched off is left out
rather than saved empty (which the schema would refuse). Credit and clawbacks are offered only
on a records base.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...config.plan_schemas import BASE_KINDS, RULE_KEYS, RULES_OF_BASE
from ..words import WORDS
from .described import MONEY, PERCENT, TIMES, Choices, Field
from .form_reading import Document

# `words.WORDS` names the rules and bases the designer had first; the plan editor names the rest
#: how a component's pay is worked out (`config.plan_schemas.RULE_KEYS`)
RULE_KIND_NAMES = {
    **WORDS["rule_kind"],
    "contest": _l("a contest paying an amount per qualifying record"),
    "award": _l("the awards asked for and approved"),
    "formula": _l("a formula"),
}
#: what a component pays on (`config.plan_schemas.RULES_OF_BASE`)
BASE_KIND_NAMES = {**WORDS["base_kind"], "manual": _l("awards given by hand")}
assert set(RULE_KIND_NAMES) == set(RULE_KEYS) and set(BASE_KIND_NAMES) == set(BASE_KINDS)


def word_choices(group: str) -> Choices:
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


# The switches of the records-only parts stay in sight and offer "yes" only on a records base,
# as the rule kinds are offered: hidden when the base changes, a switch left on would keep its
# part shown and read, with no way to turn it off.
#: the page's list offering "yes" only on a records base (`plan_forms.plan_lists`)
YES_ON_RECORDS = "yes_on_records"

CREDIT = (
    Field(
        "splits",
        "select",
        _l("Shares written in the field"),
        _l(
            "A text field holding shares such as E0003:60; E0007:40 (together 100 %): each is credited "
            "their share of the record instead of the owner alone. Not set: the owner has it all."
        ),
        choices="text_fields",
        blank=_l("— not set —"),
        depends="base-records",
    ),
    Field(
        "overlay",
        "select",
        _l("Also credited in full"),
        _l("An employee field: that person is credited the whole record too, the owner's credit not reduced."),
        choices="employee_fields",
        blank=_l("— not set —"),
        depends="base-records",
    ),
    Field(
        "managers",
        "integer",
        _l("Levels of managers credited too"),
        _l("The owner's managers as they were on the record's day, 1 to 10 levels up. Empty: none."),
    ),
)

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
    # the document says `manual: true`; the form has no field that posts a fixed value, so the
    # choice is confirmed with a tick
    Field(
        "manual",
        "checkbox",
        _l("Awards asked for by hand"),
        _l(
            "Tick it: each award is asked for by hand (perfrules pay award) and approved by someone other "
            "than the one who asked; the rule says the most one award may be."
        ),
        show=_on("manual"),
    ),
    Field(
        "has_credit",
        "select",
        _l("Others credited too"),
        _l("People sharing a record, someone credited beside its owner, or the owner's managers."),
        choices=YES_ON_RECORDS,
        blank=_l("— no —"),
        depends="base_kind",
        derive=lambda base: "yes" if "credit" in base else None,
    ),
    Field("credit", "group", _l("Credit"), fields=CREDIT, show=("base-has_credit", ("yes",))),
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
        choices=word_choices("cycle"),
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
        _l(
            "By grade: the amount at coefficient 1 (with a pool, optional: the pool is then shared by "
            "coefficient × amount); floating pay: the amount at the average score."
        ),
        choices="parameters",
        blank=_l("— not set —"),
        keys_of="parameters",
        show=_for("grade", "floating"),
    ),
    Field(
        "pool",
        "number",
        _l("Pool"),
        _l("Shared by coefficient, to the cent, among those named below. Empty: each is paid amount × coefficient."),
        unit=MONEY,
        show=_for("grade"),
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
        _l("Among"),
        _l(
            "Floating pay: whose scorecards (same template and period) are averaged. By grade: who share "
            "a pool (only with a pool)."
        ),
        choices=word_choices("average_scope"),
        blank=_l("— not set (the company) —"),
        show=_for("floating", "grade"),
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
    Field(
        "starts_on",
        "date",
        _l("Contest starts on"),
        _l("Records from this day count."),
        show=_for("contest"),
    ),
    Field(
        "ends_on",
        "date",
        _l("Contest ends on"),
        _l("Records up to this day, included, count; the contest is paid in the month it ends."),
        show=_for("contest"),
    ),
    Field(
        "per_record",
        "number",
        _l("Paid per qualifying record"),
        _l("A record qualifies when it is in the dataset, within the days, and passes the filter."),
        unit=MONEY,
        show=_for("contest"),
    ),
    Field(
        "per_person",
        "number",
        _l("At most per person"),
        _l("Empty: no limit."),
        unit=MONEY,
        show=_for("contest"),
    ),
    Field(
        "budget",
        "number",
        _l("Budget"),
        _l("When the prizes add up to more, each is cut in the same proportion, to the cent. Empty: no budget."),
        unit=MONEY,
        show=_for("contest"),
    ),
    Field(
        "most",
        "number",
        _l("At most per award"),
        _l("Empty: no limit."),
        unit=MONEY,
        show=_for("award"),
    ),
    # a plain text box, not the formula editor: the editor checks as you type against its own
    # contexts (KPI, filter, scoring, condition), none of which has a pay formula's names; the
    # designer's check as you type (config.plan_checks) says what is wrong with it instead
    Field(
        "formula",
        "textarea",
        _l("Formula"),
        _l(
            "The amount to pay, e.g. MIN(value * 0.035, bonus_cap). It reads the plan's parameters by name and "
            "what the base gives: on a dataset's records, amount (the period's sum of the money field); on a "
            "metric, value and target; on a template's scorecards, score and grade; and employed, the share of "
            "the period the person was employed (1 for all of it)."
        ),
        show=_for("formula"),
    ),
)

CLAWBACK = (
    Field(
        "records",
        "select",
        _l("Refunds dataset"),
        _l("Each record is a refund or cancellation naming the record it refunds."),
        choices="datasets",
    ),
    Field("amount", "select", _l("Money field refunded"), choices="money_fields", depends="clawback-records"),
    Field(
        "refers_to",
        "select",
        _l("Field naming the refunded record"),
        _l("It holds the refunded record's id."),
        choices="dataset_fields",
        depends="clawback-records",
    ),
    Field(
        "lookback_days",
        "integer",
        _l("Within days"),
        _l("A refund later than this many days after the refunded record takes nothing back."),
    ),
)

RELEASES = (
    ("months", _l("a number of months after the period")),
    ("until", _l("in the month of a day")),
    ("until_paid", _l("once the records it paid on are paid")),
)

PAID = (
    Field(
        "records",
        "select",
        _l("Payments dataset"),
        _l("Each record pays part of a credited record (its invoice), naming it."),
        choices="datasets",
    ),
    Field(
        "refers_to",
        "select",
        _l("Field naming the paid record"),
        _l("It holds the paid record's id."),
        choices="dataset_fields",
        depends="until_paid-records",
    ),
    Field("amount", "select", _l("Money field paid"), choices="money_fields", depends="until_paid-records"),
)

HOLD = (
    Field("percent", "number", _l("Share held back"), _l("Of each line earned."), unit=PERCENT),
    Field(
        "release",
        "select",
        _l("Paid out"),
        choices=RELEASES,
        derive=lambda hold: next((key for key in ("until", "until_paid") if hold.get(key)), "months"),
    ),
    Field("months", "integer", _l("Months after the period"), show=("hold-release", ("months",))),
    Field("until", "date", _l("Paid out in the month of"), show=("hold-release", ("until",))),
    Field("until_paid", "group", _l("Paid out once paid"), fields=PAID, show=("hold-release", ("until_paid",))),
)

COMPONENT = (
    Field("slug", "text", _l("Code"), _l("Lowercase letters, digits and _; pay lines name the component by it.")),
    Field("label", "label", _l("Name")),
    # a contest is paid in the month it ends and the schema refuses one with a frequency: for a
    # contest the field is neither shown nor read
    Field(
        "frequency",
        "select",
        _l("Paid"),
        choices=word_choices("cycle"),
        show=_for(*(kind for kind in RULE_KEYS if kind != "contest")),
    ),
    Field("base_kind", "select", _l("Pays on"), choices=tuple(BASE_KIND_NAMES.items()), derive=_base_kind),
    Field("base", "group", _l("Base"), fields=BASE),
    Field("rule", "group", _l("Rule"), fields=RULE),
    Field(
        "has_clawback",
        "select",
        _l("Commission taken back on refunds"),
        _l("At the rate it was paid at."),
        choices=YES_ON_RECORDS,
        blank=_l("— no —"),
        depends="base_kind",
        derive=lambda component: "yes" if "clawback" in component else None,
    ),
    Field("clawback", "group", _l("Clawback"), fields=CLAWBACK, show=("has_clawback", ("yes",))),
    Field(
        "has_hold",
        "yesno",
        _l("A share held back"),
        _l("Yes: part of each line earned is paid out later."),
        derive=lambda component: "hold" in component,
    ),
    Field("hold", "group", _l("Hold"), fields=HOLD, show=("has_hold", ("yes",))),
)
