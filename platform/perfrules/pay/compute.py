"""The lines one component of a plan owes its members for one of its periods.

Three bases feed the rules (`pay.rules`):

- records: the sum of a money field over a dataset's records, each record a credit to its owner.
  Tiers accumulate over their own period (`over`, by default the component's): what is due now
  is the rule on everything credited since the tier period began, less what the rule gave on the
  credits before this period — so the total paid does not depend on how the amount was split
  across records or months, and each line is still rounded once.
- metric: a metric's value for the period (read to the cent), against its target where the rule
  needs one.
- scorecard: a template's scorecards for the period: their grade, or their total against the
  average of a population (the same template and period, in the team, department or company).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.plan_schemas import base_kind
from ..config.validation import dataset_catalogue
from ..data.models import Record
from ..engine.kpis import KpiPlan
from ..engine.metrics import MetricStats, compute_metrics, record_columns
from ..engine.models import Scorecard
from ..engine.people import People
from ..engine.periods import Period
from ..engine.targets import TargetBook
from ..formula import BOOLEAN, FunctionRegistry, compile_formula
from ..money import exact, from_minor, to_cents
from . import rules
from .credit import CreditError, Crediting, share_of
from .members import Member, PayError
from .proration import Share
from .rules import Curve, Floating, Outcome, PayRuleError, Tier, Words

HUNDRED = Decimal(100)


@dataclass
class DueLine:
    member: Member
    pay_period: Period
    #: rounded to the cent, once
    amount: Decimal
    words: Words
    base: Decimal | None = None
    rate: Decimal | None = None
    source: dict = field(default_factory=dict)
    #: (record id, minor units) of each record credited in this period
    credits: list[tuple[int, int]] = field(default_factory=list)
    #: set by the run, which knows the plan
    plan: str = ""
    component: str = ""
    currency: str = ""
    #: one of pay.models.LINE_KINDS, and what it answers (see PayLine.reference)
    kind: str = "earned"
    reference: str = ""
    #: the line it claws back from or releases: a stored line's id, or a line of the same run
    original_id: int | None = None
    original: DueLine | None = None

    @property
    def key(self) -> tuple[str, str, int, str, str]:
        """What a month holds once (the lines' unique key, less the month)."""
        return (self.plan, self.component, self.member.employee_id, self.kind, self.reference)


@dataclass(frozen=True)
class Hypothetical:
    """A record that is not there, for an estimate: `amount` more in a dataset for someone."""

    owner_id: int
    dataset: str
    minor: int
    day: dt.date


@dataclass(frozen=True)
class Context:
    session: Session
    config: dict
    functions: FunctionRegistry
    people: People
    plan: dict
    component: dict
    #: records an estimate adds to the bases (they pass any filter; nothing is written)
    hypothetical: tuple[Hypothetical, ...] = ()
    #: employee id → the part of the period they were employed, for those who were not all of it
    shares: Mapping[int, Share] = field(default_factory=dict)

    def target_of(self, member: Member, target: Decimal | None) -> Decimal | None:
        """A target cut to the member's share of the period."""
        found = self.shares.get(member.employee_id)
        return target if target is None or found is None else target * found.factor

    def error(self, message: str, member: Member | None = None) -> PayError:
        return PayError(self.plan["slug"], self.component["slug"], member.code if member else None, message)


def percent(value: float) -> Decimal:
    return exact(value) / HUNDRED


def component_lines(
    context: Context, members: list[Member], pay_period: Period, errors: list[PayError]
) -> list[DueLine]:
    kind = base_kind(context.component["base"])
    compute: Callable[[Context, list[Member], Period, list[PayError]], list[DueLine]] = {
        "records": _records_lines,
        "metric": _metric_lines,
        "scorecard": _scorecard_lines,
    }[kind]
    return compute(context, members, pay_period, errors)


# --- records ------------------------------------------------------------------------------------


def credits_between(
    context: Context, member_ids: set[int], start: dt.date, end: dt.date, key_field: str | None
) -> Iterable[tuple[int, int, int, str | None, dt.date]]:
    """(record id, owner id, minor units, key, day) of the base's records between the dates."""
    base = context.component["base"]
    dataset = context.config["datasets"][base["records"]]
    amount = sa.cast(Record.values[base["amount"]].as_string(), sa.BigInteger)
    key = Record.values[key_field].as_string() if key_field else sa.null()
    query = sa.select(Record.id, Record.owner_id, amount, key, Record.occurred_on).where(
        Record.dataset == dataset["slug"], Record.occurred_on >= start, Record.occurred_on < end, amount.is_not(None)
    )
    query = _filtered(context, dataset, query)
    credit = base.get("credit")
    if share_of(credit):
        yield from _shared_credits(context, query, member_ids, credit)
    else:
        for record_id, owner_id, minor, found_key, day in context.session.execute(query.order_by(Record.id)):
            if owner_id in member_ids:
                yield record_id, owner_id, int(minor), found_key, day
    for index, extra in enumerate(context.hypothetical):
        if extra.dataset == dataset["slug"] and extra.owner_id in member_ids and start <= extra.day < end:
            yield -1 - index, extra.owner_id, extra.minor, None, extra.day


def _shared_credits(
    context: Context, query: sa.Select, member_ids: set[int], credit: dict
) -> Iterable[tuple[int, int, int, str | None, dt.date]]:
    """The records' credits to members when a record credits more than its owner."""
    crediting = Crediting(context.session, credit, context.people.managers)
    splits = Record.values[credit["splits"]].as_string() if credit.get("splits") else sa.null()
    overlay = Record.values[credit["overlay"]].as_string() if credit.get("overlay") else sa.null()
    shared = query.add_columns(Record.external_id, splits, overlay).order_by(Record.id)
    for record_id, owner_id, minor, found_key, day, external_id, split_text, overlay_code in context.session.execute(
        shared
    ):
        try:
            credited = list(crediting.credits(external_id, owner_id, int(minor), split_text, overlay_code))
        except CreditError as exc:
            raise context.error(str(exc)) from None
        for employee_id, part in credited:
            if employee_id in member_ids:
                yield record_id, employee_id, part, found_key, day


def _records_lines(
    context: Context, members: list[Member], pay_period: Period, errors: list[PayError]
) -> list[DueLine]:
    base, rule = context.component["base"], context.component["rule"]
    by_id = {member.employee_id: member for member in members}
    dataset = context.config["datasets"][base["records"]]
    amount_label = next(f["label"] for f in dataset["fields"] if f["name"] == base["amount"])
    said = Words(amount_label["en"].lower(), amount_label["zh"])
    over = Period.of(pay_period.start, rule.get("over") or context.component["frequency"])
    now: dict[int, list[tuple[int, int]]] = defaultdict(list)
    before: dict[int, int] = defaultdict(int)
    if rule["kind"] == "tiered" and over.start < pay_period.start:
        before.update(_credited_before(context, set(by_id), over.start, pay_period.start))
    keyed: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    key_field = rule.get("field") if rule["kind"] == "rate_table" else None
    for record_id, owner_id, minor, key, _ in credits_between(
        context, set(by_id), pay_period.start, pay_period.end, key_field
    ):
        now[owner_id].append((record_id, minor))
        if key_field:
            keyed[owner_id]["" if key is None else str(key)] += from_minor(minor)
    lines = []
    for member in members:
        credits = now.get(member.employee_id, [])
        if not credits:  # nothing credited now: nothing due, whatever came before
            continue
        amount_now = from_minor(sum(minor for _, minor in credits))
        source = {"dataset": dataset["slug"], "records": len(credits)}
        try:
            if rule["kind"] == "flat":
                outcome = rules.flat(amount_now, percent(rule["percent"]), said)
            elif rule["kind"] == "rate_table":
                rates = {row["key"]: percent(row["percent"]) for row in rule["rates"]}
                default = percent(rule["default_percent"]) if rule.get("default_percent") is not None else None
                outcome = rules.rate_table(keyed[member.employee_id], rates, default, rule["field"])
            else:
                outcome = _tiered_due(rule, from_minor(before[member.employee_id]), amount_now, said, over)
        except PayRuleError as exc:
            errors.append(context.error(str(exc), member))
            continue
        lines.append(_line(member, pay_period, outcome, amount_now, source, credits))
    return lines


def _filtered(context: Context, dataset: dict, query: sa.Select) -> sa.Select:
    """The query of the base's records narrowed by the base's filter, in SQL."""
    text = context.component["base"].get("filter")
    if not text:
        return query
    compiled = compile_formula(
        text, dataset_catalogue(dataset, options=False), functions=context.functions, expect=BOOLEAN
    )
    return query.where(compiled.to_sql(record_columns(dataset)))


def _credited_before(context: Context, member_ids: set[int], start: dt.date, end: dt.date) -> dict[int, int]:
    """Each member's credits between the days, in minor units: one grouped query, unless records
    credit more than their owners (then their credits, one by one)."""
    base = context.component["base"]
    if share_of(base.get("credit")):
        found: dict[int, int] = defaultdict(int)
        for _, employee_id, minor, _, _ in credits_between(context, member_ids, start, end, None):
            found[employee_id] += minor
        return found
    dataset = context.config["datasets"][base["records"]]
    amount = sa.cast(Record.values[base["amount"]].as_string(), sa.BigInteger)
    query = (
        sa.select(Record.owner_id, sa.func.sum(amount))
        .where(Record.dataset == dataset["slug"], Record.occurred_on >= start, Record.occurred_on < end)
        .group_by(Record.owner_id)
    )
    query = _filtered(context, dataset, query)
    return {owner: int(minor) for owner, minor in context.session.execute(query) if owner in member_ids and minor}


def _tiered_due(rule: dict, earlier: Decimal, amount_now: Decimal, said: Words, over: Period) -> Outcome:
    tiers = [Tier(exact(tier["from"]), percent(tier["percent"])) for tier in rule["tiers"]]
    retroactive = rule["mode"] == "retroactive"
    whole = rules.tiered(earlier + amount_now, tiers, retroactive, said)
    if earlier == 0:
        return whole
    paid = to_cents(rules.tiered(earlier, tiers, retroactive, said).amount)
    due = to_cents(whole.amount) - paid
    return Outcome(
        due,
        Words(
            f"{whole.words.en}; less {rules.money(paid)} on the {rules.money(earlier)} before this period in "
            f"{over} = {rules.money(due)}",
            f"{whole.words.zh}；减去 {over} 内此前 {rules.money(earlier)} 已计的 {rules.money(paid)} = "
            f"{rules.money(due)}",
        ),
        whole.rate,
    )


def _line(
    member: Member,
    pay_period: Period,
    outcome: Outcome,
    base: Decimal | None,
    source: dict,
    credits: list[tuple[int, int]] | None = None,
) -> DueLine:
    return DueLine(
        member, pay_period, to_cents(outcome.amount), outcome.words, base, outcome.rate, source, credits or []
    )


# --- metrics ------------------------------------------------------------------------------------


def _metric_lines(context: Context, members: list[Member], pay_period: Period, errors: list[PayError]) -> list[DueLine]:
    base, rule = context.component["base"], context.component["rule"]
    metric = base["metric"]
    kpis = KpiPlan(context.config, context.functions)
    values = compute_metrics(
        context.session, context.config, kpis.metrics, [metric], context.people, pay_period, MetricStats()
    )[metric]
    targets = None
    if rule["kind"] in ("attainment", "over_target"):
        targets = TargetBook(context.config, context.people).resolve(metric, pay_period).values
    label = context.config["metrics"][metric]["label"]
    said = Words(label["en"].lower(), label["zh"])
    lines = []
    for member in members:
        value = cents(values[member.position])
        if value is None:
            continue
        source = {"metric": metric}
        try:
            if rule["kind"] == "flat":
                outcome = rules.flat(value, percent(rule["percent"]), said)
            elif rule["kind"] == "tiered":
                tiers = [Tier(exact(tier["from"]), percent(tier["percent"])) for tier in rule["tiers"]]
                outcome = rules.tiered(value, tiers, rule["mode"] == "retroactive", said)
            else:
                assert targets is not None
                target = context.target_of(member, cents(targets[member.position]))
                if target is None:
                    raise PayRuleError(f"no target for {metric} in {pay_period}")
                source["target"] = str(target)
                if rule["kind"] == "over_target":
                    outcome = rules.over_target(value, target, percent(rule["percent"]))
                else:
                    outcome = rules.attainment_pay(value, target, _parameter(member, rule["target_pay"]), _curve(rule))
        except PayRuleError as exc:
            errors.append(context.error(str(exc), member))
            continue
        lines.append(_line(member, pay_period, outcome, value, source))
    return lines


def cents(value: float) -> Decimal | None:
    """A metric's or target's value to the cent; None where there is none. The engine aggregates
    metrics as numbers (they are scored, not paid): pay takes each value to the cent, once."""
    if value is None or np.isnan(value):
        return None
    return to_cents(exact(value))


def _curve(rule: dict) -> Curve:
    return Curve(
        gate=percent(rule["gate"]) if rule.get("gate") is not None else Decimal(0),
        slope=exact(rule["slope"]) if rule.get("slope") is not None else Decimal(1),
        accelerator=exact(rule["accelerator"]) if rule.get("accelerator") is not None else Decimal(1),
        cap=percent(rule["cap"]) if rule.get("cap") is not None else None,
    )


def _parameter(member: Member, name: str) -> Decimal:
    if name not in member.parameters:
        raise PayRuleError(f"no value for the parameter '{name}'")
    return member.parameters[name]


# --- scorecards ---------------------------------------------------------------------------------


def _scorecard_lines(
    context: Context, members: list[Member], pay_period: Period, errors: list[PayError]
) -> list[DueLine]:
    base, rule = context.component["base"], context.component["rule"]
    rows = context.session.execute(
        sa.select(Scorecard.id, Scorecard.employee_id, Scorecard.department_id, Scorecard.total, Scorecard.grade).where(
            Scorecard.template == base["scorecard"], Scorecard.period == str(pay_period)
        )
    ).all()
    cards = {row.employee_id: row for row in rows}
    scored = [member for member in members if member.employee_id in cards]
    lines = []
    if rule["kind"] == "grade" and rule.get("pool") is None:
        coefficients = {grade: exact(value) for grade, value in rule["coefficients"].items()}
        for member in scored:
            card = cards[member.employee_id]
            try:
                outcome = rules.by_grade(_parameter(member, rule["amount"]), card.grade, coefficients)
            except PayRuleError as exc:
                errors.append(context.error(str(exc), member))
                continue
            lines.append(_line(member, pay_period, outcome, None, {"scorecard": card.id, "grade": card.grade}))
        return lines
    scope = rule.get("scope") or "company"
    managers = context.people.managers

    def group(employee_id: int) -> object:
        card = cards[employee_id]
        return {"company": None, "department": card.department_id, "team": managers.get(employee_id)}[scope]

    if rule["kind"] == "grade":
        return _pool_lines(context, scored, pay_period, cards, group, errors)
    population: dict[object, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        if row.total is not None:
            population[group(row.employee_id)][str(row.employee_id)] = exact(row.total)
    floating = Floating(
        mode=rule.get("mode") or "relative",
        floor=percent(rule["floor"]) if rule.get("floor") is not None else None,
        cap=percent(rule["cap"]) if rule.get("cap") is not None else None,
        budget_neutral=bool(rule.get("budget_neutral")),
    )
    by_group: dict[object, list[Member]] = defaultdict(list)
    for member in scored:
        if cards[member.employee_id].total is not None:
            by_group[group(member.employee_id)].append(member)
    for key, group_members in by_group.items():
        scores = population[key]
        try:
            bases = {str(m.employee_id): _parameter(m, rule["amount"]) for m in group_members}
            outcomes = rules.floating_pay(
                {str(m.employee_id): scores[str(m.employee_id)] for m in group_members}, bases, floating, scores
            )
        except PayRuleError as exc:
            errors.append(context.error(str(exc)))
            continue
        for member in group_members:
            outcome = outcomes[str(member.employee_id)]
            source = {"scorecard": cards[member.employee_id].id, "scope": scope, "population": len(scores)}
            lines.append(_line(member, pay_period, outcome, _parameter(member, rule["amount"]), source))
    return lines


def _pool_lines(
    context: Context,
    scored: list[Member],
    pay_period: Period,
    cards: dict,
    group: Callable[[int], object],
    errors: list[PayError],
) -> list[DueLine]:
    """A bonus pool per group (the company, or each team or department), shared by grade
    coefficient — × the member's `amount` when the rule names one — to the cent."""
    rule = context.component["rule"]
    coefficients = {grade: exact(value) for grade, value in rule["coefficients"].items()}
    pool = exact(rule["pool"])
    by_group: dict[object, dict[str, Decimal]] = defaultdict(dict)
    people: dict[str, Member] = {}
    for member in scored:
        card = cards[member.employee_id]
        if card.grade not in coefficients:
            errors.append(context.error(f"grade {card.grade!r} has no coefficient", member))
            continue
        try:
            weight = coefficients[card.grade] * (_parameter(member, rule["amount"]) if rule.get("amount") else 1)
        except PayRuleError as exc:
            errors.append(context.error(str(exc), member))
            continue
        by_group[group(member.employee_id)][member.code] = weight
        people[member.code] = member
    lines = []
    for weights in by_group.values():
        for code, outcome in rules.pool_shares(pool, weights).items():
            member = people[code]
            card = cards[member.employee_id]
            source = {"scorecard": card.id, "grade": card.grade, "pool": str(to_cents(pool)), "shared_by": len(weights)}
            lines.append(_line(member, pay_period, outcome, None, source))
    return lines
