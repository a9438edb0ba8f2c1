"""The shape of incentive plans (激励方案): who a plan is for, and the components that pay them.

    plans:
      - slug: rep_pay
        label: {zh: 销售代表激励, en: Sales rep pay}
        currency: CNY
        assign: [{departments: [SALES], roles: [sales_rep], starts_on: 2026-01-01}]
        parameters: {target_bonus: 10000, floating_base: 3000}
        people: {E0003: {target_bonus: 12000}}
        components:
          - slug: commission
            label: {zh: 回款提成, en: Commission on collections}
            frequency: monthly
            base: {records: payments, amount: amount}
            rule: {kind: tiered, mode: marginal, over: quarterly,
                   tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}, {from: 200000, percent: 8}]}

Amounts and percentages are plain numbers (`percent: 3` is 3 %); they are read exactly, as the
decimal they are written as. What a document says about others (datasets, fields, metrics,
templates, parameters) is checked with the whole configuration (`validation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .schema_basics import CYCLES, SLUG, Strict, formula, label

#: rule kind → the keys it needs
RULE_KEYS: dict[str, tuple[str, ...]] = {
    "flat": ("percent",),
    "rate_table": ("field", "rates"),
    "tiered": ("tiers",),
    "attainment": ("target_pay",),
    "grade": ("coefficients",),
    "floating": ("amount",),
    "over_target": ("percent",),
    "contest": ("starts_on", "ends_on", "per_record"),
    "award": (),
    "formula": ("formula",),
}
#: rule kind → every key it reads
RULE_ALLOWED: dict[str, set[str]] = {
    "flat": {"percent"},
    "rate_table": {"field", "rates", "default_percent"},
    "tiered": {"tiers", "mode", "over"},
    "attainment": {"target_pay", "gate", "slope", "accelerator", "cap"},
    "grade": {"amount", "coefficients", "pool", "scope"},
    "floating": {"amount", "mode", "scope", "floor", "cap", "budget_neutral"},
    "over_target": {"percent"},
    "contest": {"starts_on", "ends_on", "per_record", "per_person", "budget"},
    "award": {"most"},
    "formula": {"formula"},
}
#: base kind → what the rules it feeds may be
RULES_OF_BASE: dict[str, tuple[str, ...]] = {
    "records": ("flat", "rate_table", "tiered", "contest", "formula"),
    "metric": ("flat", "tiered", "attainment", "over_target", "formula"),
    "scorecard": ("grade", "floating", "formula"),
    "manual": ("award",),
}
#: the rules and bases in words, for the messages people read under a field
RULE_WORDS = {
    "flat": "a percentage of the base",
    "rate_table": "a percentage by a field's value",
    "tiered": "tiered percentages",
    "attainment": "a bonus by attainment of the target",
    "grade": "an amount by grade",
    "floating": "floating pay against the average score",
    "over_target": "a percentage of what exceeds the target",
    "contest": "a contest paying an amount per qualifying record",
    "award": "awards asked for by hand and approved by someone else",
    "formula": "a formula",
}
BASE_WORDS = {
    "records": "the records of a dataset",
    "metric": "a metric",
    "scorecard": "a template's scorecards",
    "manual": "awards given by hand",
}
BASE_KINDS = tuple(BASE_WORDS)
AMOUNT = validate.Range(min=0, max=1e13)


def _whole_cents(value: float) -> None:
    if round(value, 2) != value:
        raise ValidationError("an amount of money has at most two decimals: a cent cannot be split")


#: an amount of money written in a plan (a tier's start, a prize, a budget, a pool)
MONEY: list[Callable[[Any], Any]] = [AMOUNT, _whole_cents]
PERCENT = validate.Range(min=-100, max=1000)


class Day(fields.Field):
    """A day, stored as ISO text (2026-01-01): YAML's dates and JSON's strings load alike, and the
    stored form dumps as it is."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError("must be a day such as 2026-01-01") from None
        return day.isoformat()

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class Assignment(Strict):
    """Everyone in these departments (and below) holding one of these roles, between the dates.
    Without departments: every department; without roles: every role."""

    departments = fields.List(fields.Str(validate=validate.Length(min=1, max=64)), load_default=None)
    roles = fields.List(fields.Str(validate=validate.Length(min=1, max=64)), load_default=None)
    starts_on = Day(load_default=None)
    ends_on = Day(load_default=None)

    @validates_schema
    def _dates_in_order(self, data, **_):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")


class Credit(Strict):
    """Who a record credits besides its owner: `splits` names a text field holding shares
    ("E0003:60; E0007:40", together 100 %), `overlay` an employee field whose person is credited
    in full without reducing the owner, `managers` how many levels of the owner's managers are
    credited too (as they were on the record's day)."""

    splits = fields.Str(load_default=None)
    overlay = fields.Str(load_default=None)
    managers = fields.Int(load_default=None, validate=validate.Range(min=1, max=10))

    @validates_schema
    def _says_something(self, data, **_):
        if not any(data.get(key) for key in ("splits", "overlay", "managers")):
            raise ValidationError("say whom a record credits besides its owner: splits, overlay or managers")


class Base(Strict):
    """What a component pays on: records of a dataset (the sum of a money field, each record a
    credit to its owner), a metric's value, or a scorecard of a template."""

    records = fields.Str(load_default=None)
    amount = fields.Str(load_default=None)
    filter = formula(load_default=None)
    metric = fields.Str(load_default=None)
    scorecard = fields.Str(load_default=None)
    #: awards asked for by hand (`perfrules pay award`), each approved by someone else
    manual = fields.Bool(load_default=None)
    #: records: who is credited besides the owner
    credit = fields.Nested(Credit, load_default=None)

    @validates_schema
    def _one_kind(self, data, **_):
        given = [kind for kind in BASE_KINDS if data.get(kind)]
        if len(given) != 1:
            raise ValidationError(
                "say one of records (a dataset), metric, scorecard (a template) or manual: true (awards)"
            )
        if data.get("records") and not data.get("amount"):
            raise ValidationError("name the money field to add up", "amount")
        if not data.get("records") and (data.get("amount") or data.get("filter") or data.get("credit")):
            raise ValidationError("only a records base has an amount, a filter and credit")


def base_kind(base: dict) -> str:
    return next(kind for kind in BASE_KINDS if base.get(kind))


class Tier(Strict):
    #: where the tier starts ("from" in documents: a Python keyword, so the field has another name)
    from_ = fields.Float(required=True, data_key="from", attribute="from", validate=MONEY)
    percent = fields.Float(required=True, validate=PERCENT)


class Rate(Strict):
    key = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    percent = fields.Float(required=True, validate=PERCENT)


class Rule(Strict):
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(RULE_KEYS)))
    #: flat, over_target: the rate
    percent = fields.Float(load_default=None, validate=PERCENT)
    #: rate_table: the record field whose value picks the row, the rows, the rate of any other value
    field = fields.Str(load_default=None)
    rates = fields.List(fields.Nested(Rate), load_default=None, validate=validate.Length(min=1))
    default_percent = fields.Float(load_default=None, validate=PERCENT)
    #: tiered: the tiers, marginal or retroactive, over which period the base accumulates
    tiers = fields.List(fields.Nested(Tier), load_default=None, validate=validate.Length(min=1, max=50))
    mode = fields.Str(load_default=None)
    over = fields.Str(load_default=None, validate=validate.OneOf(CYCLES))
    #: attainment: the parameter holding the pay at 100 %, and the curve (percentages)
    target_pay = fields.Str(load_default=None)
    gate = fields.Float(load_default=None, validate=validate.Range(min=0, max=1000))
    slope = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))
    accelerator = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))
    cap = fields.Float(load_default=None, validate=validate.Range(min=0, max=10000))
    #: grade, floating: the parameter holding the amount at coefficient 1 (or the base pay)
    amount = fields.Str(load_default=None)
    coefficients = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=8)),
        values=fields.Float(validate=validate.Range(0, 100)),
        load_default=None,
    )
    #: grade: a pool shared by coefficient (× `amount` when given) within the scope, to the cent
    pool = fields.Float(load_default=None, validate=MONEY)
    #: floating: against whose average (the scorecards of the same template and period)
    scope = fields.Str(load_default=None, validate=validate.OneOf(("team", "department", "company")))
    floor = fields.Float(load_default=None, validate=validate.Range(min=0, max=10000))
    budget_neutral = fields.Bool(load_default=None)
    #: contest (SPIFF): the days it runs (both included), the amount per qualifying record, the
    #: most one person earns, the budget shared pro rata when the prizes exceed it
    starts_on = Day(load_default=None)
    ends_on = Day(load_default=None)
    per_record = fields.Float(load_default=None, validate=MONEY)
    per_person = fields.Float(load_default=None, validate=MONEY)
    budget = fields.Float(load_default=None, validate=MONEY)
    #: award: the most one award may be
    most = fields.Float(load_default=None, validate=MONEY)
    #: formula: the amount, in the formula language (see pay.formulas for the names it reads)
    formula = formula(load_default=None)

    @validates_schema
    def _keys_of_the_kind(self, data, **_):
        kind = data["kind"]
        missing = [key for key in RULE_KEYS[kind] if data.get(key) in (None, [], {})]
        if missing:
            raise ValidationError(f"{RULE_WORDS[kind]} needs {', '.join(missing)}", missing[0])
        stray = sorted(
            key for key, value in data.items() if value is not None and key not in RULE_ALLOWED[kind] | {"kind"}
        )
        if stray:
            raise ValidationError(f"{RULE_WORDS[kind]} has no {stray[0]}", stray[0])
        if kind == "tiered" and data.get("mode") not in ("marginal", "retroactive"):
            raise ValidationError(
                "say marginal (each slice at its rate) or retroactive (all at the rate reached)", "mode"
            )
        if kind == "tiered" and data["tiers"][0]["from"] != 0:
            raise ValidationError("the first tier must start from 0", "tiers")
        starts = [tier["from"] for tier in data.get("tiers") or []]
        if starts != sorted(set(starts)):
            raise ValidationError("tiers must start at increasing amounts", "tiers")
        if kind == "floating" and data.get("mode") not in (None, "relative", "points"):
            raise ValidationError("say relative (score ÷ average) or points (score − average)", "mode")
        if kind == "grade" and not data.get("amount") and data.get("pool") is None:
            raise ValidationError("an amount by grade needs amount (a parameter), a pool, or both", "amount")
        if kind == "grade" and data.get("scope") and data.get("pool") is None:
            raise ValidationError("a scope says whose pool: give the pool too", "scope")
        if kind == "contest" and data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")


class Clawback(Strict):
    """Refunds and cancellations taking back commission: records of a dataset, each naming the
    record it refunds (`refers_to`: a field holding that record's id), within `lookback_days` of
    it. What was paid on the refunded part is taken back at the rate it was paid at."""

    records = fields.Str(required=True)
    amount = fields.Str(required=True)
    refers_to = fields.Str(required=True)
    lookback_days = fields.Int(required=True, validate=validate.Range(min=0, max=3660))


class Paid(Strict):
    """The records that pay a credited record (its invoice): records of a dataset whose `refers_to`
    field holds the credited record's id, their `amount`s adding up to the credited record's."""

    records = fields.Str(required=True)
    refers_to = fields.Str(required=True)
    amount = fields.Str(required=True)


class Hold(Strict):
    """A share of each earned line held back, and paid out `months` after the line's period ends,
    in the month of `until`, or once every record the line credited is paid (`until_paid`)."""

    percent = fields.Float(required=True, validate=validate.Range(min=0, max=100, min_inclusive=False))
    months = fields.Int(load_default=None, validate=validate.Range(min=1, max=120))
    until = Day(load_default=None)
    until_paid = fields.Nested(Paid, load_default=None)

    @validates_schema
    def _one_release(self, data, **_):
        if sum(data.get(key) is not None for key in ("months", "until", "until_paid")) != 1:
            raise ValidationError(
                "say when it is paid out: months (after the period), until (a day) or until_paid (the invoice)"
            )


class Component(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    #: how often it is paid: a monthly component every month, a quarterly one for each quarter; a
    #: contest is paid in the month it ends, and has none
    frequency = fields.Str(load_default=None, validate=validate.OneOf(CYCLES))
    base = fields.Nested(Base, required=True)
    rule = fields.Nested(Rule, required=True)
    clawback = fields.Nested(Clawback, load_default=None)
    hold = fields.Nested(Hold, load_default=None)

    @validates_schema
    def _rule_fits_the_base(self, data, **_):
        kind = base_kind(data["base"])
        if data["rule"]["kind"] not in RULES_OF_BASE[kind]:
            allowed = ", ".join(RULE_WORDS[rule] for rule in RULES_OF_BASE[kind])
            message = f"paid on {BASE_WORDS[kind]}, a component pays one of: {allowed}"
            raise ValidationError({"rule": {"kind": [message]}})
        contest = data["rule"]["kind"] == "contest"
        if contest and data.get("frequency"):
            raise ValidationError("a contest is paid in the month it ends: it has no frequency", "frequency")
        if not contest and not data.get("frequency"):
            raise ValidationError("say how often it is paid: monthly, quarterly, half_yearly or yearly", "frequency")
        if data.get("clawback") and kind != "records":
            raise ValidationError("only commission on records can be clawed back", "clawback")
        if (data.get("hold") or {}).get("until_paid") and kind != "records":
            raise ValidationError("only commission on records waits for its records to be paid", "hold")


class Draw(Strict):
    """A monthly draw (底薪保障): when a month's pay under the plan is below the parameter `amount`,
    the plan tops it up; a recoverable draw takes the top-ups back from later earnings above it."""

    amount = fields.Str(required=True)
    recoverable = fields.Bool(required=True)


PRORATIONS = ("calendar_days", "working_days", "whole_months", "none")


class Proration(Strict):
    """How target pay and targets are cut for someone who joins or leaves within a period: by the
    calendar days (the default) or working days (Monday to Friday) they were employed, by whole
    months (a month counts when they joined by `cut_off_day`, or left after it), or not at all.
    Rates are never prorated."""

    by = fields.Str(required=True, validate=validate.OneOf(PRORATIONS))
    cut_off_day = fields.Int(load_default=None, validate=validate.Range(min=1, max=31))

    @validates_schema
    def _cut_off_for_months(self, data, **_):
        if data["by"] == "whole_months" and data.get("cut_off_day") is None:
            raise ValidationError("say the day of the month by which a joiner's month counts", "cut_off_day")
        if data["by"] != "whole_months" and data.get("cut_off_day") is not None:
            raise ValidationError("only whole months have a cut-off day", "cut_off_day")


class Plan(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    currency = fields.Str(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$", error="a code such as CNY"))
    assign = fields.List(fields.Nested(Assignment), required=True, validate=validate.Length(min=1))
    #: amounts every member has unless `people` says otherwise (target bonus, base floating pay)
    parameters = fields.Dict(keys=fields.Str(validate=SLUG), values=fields.Float(validate=AMOUNT), load_default=None)
    #: employee code → their own parameters
    people = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=64)),
        values=fields.Dict(keys=fields.Str(validate=SLUG), values=fields.Float(validate=AMOUNT)),
        load_default=None,
    )
    components = fields.List(fields.Nested(Component), required=True, validate=validate.Length(min=1, max=50))
    draw = fields.Nested(Draw, load_default=None)
    proration = fields.Nested(Proration, load_default=None)

    @validates_schema
    def _unique_components_and_known_parameters(self, data, **_):
        seen: set[str] = set()
        known = set(data.get("parameters") or {})
        for index, component in enumerate(data["components"]):
            if component["slug"] in seen:
                raise ValidationError({"components": {index: {"slug": [f"'{component['slug']}' is defined twice"]}}})
            seen.add(component["slug"])
            rule = component["rule"]
            for key in ("target_pay", "amount"):
                name = rule.get(key)
                if name and name not in known:
                    message = f"'{name}' is not one of the plan's parameters ({', '.join(sorted(known)) or 'none'})"
                    raise ValidationError({"components": {index: {"rule": {key: [message]}}}})
        draw = data.get("draw")
        if draw and draw["amount"] not in known:
            message = f"'{draw['amount']}' is not one of the plan's parameters ({', '.join(sorted(known)) or 'none'})"
            raise ValidationError({"draw": {"amount": [message]}})
        for code, values in (data.get("people") or {}).items():
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValidationError({"people": {code: [f"unknown parameter {', '.join(unknown)}"]}})
