"""Components whose rule is a formula in the formula language, computed exactly (`Decimal`):

    rule: {kind: formula, formula: "MIN(value * 0.035, bonus_cap) + IF(value > target, 500, 0)"}

A formula sees the plan's parameters by name (not prorated: prorate one with `employed`, the
share of the period the person was employed) and what its base gives: `amount` (a records base:
the period's sum of the money field), `value` and `target` (a metric base: the metric's value and
its target, to the cent; no target is a missing value), `score` and `grade` (a scorecard base).
Numbers are read as written, and the result is rounded once, to the cent, on the line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from ..config.plan_checks import formula_catalogue
from ..config.plan_schemas import base_kind
from ..engine.kpis import KpiPlan
from ..engine.metrics import MetricStats, compute_metrics
from ..engine.models import Scorecard
from ..engine.periods import Period
from ..engine.targets import TargetBook
from ..formula import NUMBER, CompiledFormula, ExactEvaluationError, compile_formula
from ..formula.exact import Exact
from ..money import exact, format_money, from_minor, to_cents
from .compute import Context, DueLine, cents, credits_between
from .members import Member, PayError
from .rules import Words


@dataclass
class _Input:
    """What the base gives one member: the formula's names, and what the line keeps of it."""

    values: dict[str, Exact]
    source: dict
    base: Decimal | None = None
    credits: list[tuple[int, int]] = field(default_factory=list)


def formula_lines(context: Context, members: list[Member], pay_period: Period, errors: list[PayError]) -> list[DueLine]:
    compiled = compile_formula(
        context.component["rule"]["formula"],
        formula_catalogue(context.plan, context.component["base"]),
        functions=context.functions,
        expect=NUMBER,
    )
    inputs = {
        "records": _records,
        "metric": _metric,
        "scorecard": _scorecard,
    }[base_kind(context.component["base"])](context, members, pay_period)
    lines = []
    for member in members:
        given = inputs.get(member.employee_id)
        if given is None:
            continue
        share = context.shares.get(member.employee_id)
        employed = share.factor if share is not None else Decimal(1)
        values: dict[str, Exact] = {**member.parameters, **given.values, "employed": employed}
        try:
            result = compiled.evaluate_exact(values)
        except ExactEvaluationError as exc:
            errors.append(context.error(f"the formula cannot be computed: {exc}", member))
            continue
        if result is None:
            missing = sorted(name for name in compiled.names if values.get(name) is None)
            errors.append(context.error(f"the formula has no value: no {', '.join(missing)}", member))
            continue
        assert isinstance(result, Decimal)
        amount = to_cents(result)
        words = _words(compiled, values, amount)
        lines.append(DueLine(member, pay_period, amount, words, given.base, None, given.source, given.credits))
    return lines


def _words(compiled: CompiledFormula, values: dict[str, Exact], amount: Decimal) -> Words:
    shown = ", ".join(f"{name} = {_show(values.get(name))}" for name in compiled.names)
    return Words(
        f"{compiled.text} with {shown} = {format_money(amount)}",
        f"{compiled.text}，其中 {shown} = {format_money(amount)}",
    )


def _show(value: Exact) -> str:
    if value is None:
        return "none"
    if isinstance(value, Decimal):
        return format_money(value) if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
    return str(value)


def _records(context: Context, members: list[Member], pay_period: Period) -> dict[int, _Input]:
    dataset = context.config["datasets"][context.component["base"]["records"]]
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    ids = {member.employee_id for member in members}
    for record_id, owner_id, minor, _, _ in credits_between(context, ids, pay_period.start, pay_period.end, None):
        found[owner_id].append((record_id, minor))
    inputs = {}
    for owner_id, credited in found.items():
        amount = from_minor(sum(minor for _, minor in credited))
        source = {"dataset": dataset["slug"], "records": len(credited)}
        inputs[owner_id] = _Input({"amount": amount}, source, amount, credited)
    return inputs


def _metric(context: Context, members: list[Member], pay_period: Period) -> dict[int, _Input]:
    metric = context.component["base"]["metric"]
    kpis = KpiPlan(context.config, context.functions)
    values = compute_metrics(
        context.session, context.config, kpis.metrics, [metric], context.people, pay_period, MetricStats()
    )[metric]
    targets = TargetBook(context.config, context.people).resolve(metric, pay_period).values
    inputs = {}
    for member in members:
        value = cents(values[member.position])
        if value is None:
            continue
        target = context.target_of(member, cents(targets[member.position]))
        source = {"metric": metric, **({"target": str(target)} if target is not None else {})}
        inputs[member.employee_id] = _Input({"value": value, "target": target}, source, value)
    return inputs


def _scorecard(context: Context, members: list[Member], pay_period: Period) -> dict[int, _Input]:
    template = context.component["base"]["scorecard"]
    rows = context.session.execute(
        sa.select(Scorecard.id, Scorecard.employee_id, Scorecard.total, Scorecard.grade).where(
            Scorecard.template == template, Scorecard.period == str(pay_period)
        )
    )
    ids = {member.employee_id for member in members}
    return {
        employee_id: _Input(
            {"score": None if total is None else exact(total), "grade": grade},
            {"scorecard": card_id, "grade": grade},
        )
        for card_id, employee_id, total, grade in rows
        if employee_id in ids
    }
