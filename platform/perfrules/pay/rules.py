"""The rules that turn a base into money, exactly (`Decimal`), each saying how in words.

A rule returns an `Outcome`: the exact amount (the line that carries it rounds it, once), the
rate applied where there is one, and the calculation in English and Chinese. Rates are fractions
here (0.03); plans write them as percentages (`percent: 3`). A rule that cannot be applied —
a key with no rate, no target, nobody to average — raises `PayRuleError` saying which and why:
never a silent zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from ..money import CENT, allocate, format_money, to_cents

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class PayRuleError(ValueError):
    """A rule that cannot be applied to what it was given."""


@dataclass(frozen=True)
class Words:
    en: str
    zh: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


@dataclass(frozen=True)
class Outcome:
    #: exact: the line rounds it
    amount: Decimal
    words: Words
    #: the rate applied, a fraction, when one rate applies to the whole base
    rate: Decimal | None = None


def percent(rate: Decimal) -> str:
    """0.03 → "3 %", 0.055 → "5.5 %", 1.5 → "150 %"."""
    text = f"{(rate * HUNDRED).normalize():f}"
    return f"{text} %"


def money(amount: Decimal) -> str:
    return format_money(amount)


def flat(base: Decimal, rate: Decimal, base_words: Words) -> Outcome:
    amount = base * rate
    return Outcome(
        amount,
        Words(
            f"{money(base)} {base_words.en} × {percent(rate)} = {money(amount)}",
            f"{base_words.zh} {money(base)} × {percent(rate)} = {money(amount)}",
        ),
        rate,
    )


def rate_table(
    bases: Mapping[str, Decimal], rates: Mapping[str, Decimal], default: Decimal | None, key_field: str
) -> Outcome:
    """Each key's base at its row's rate (or the default row's). A key with neither is refused."""
    missing = sorted(key for key in bases if key not in rates and default is None)
    if missing:
        raise PayRuleError(
            f"no rate for {key_field} {', '.join(repr(key) for key in missing)} and no default rate: "
            "add a row for it, or a default"
        )
    parts_en, parts_zh, amount = [], [], ZERO
    for key in sorted(bases):
        rate = rates.get(key, default)
        assert rate is not None
        amount += bases[key] * rate
        parts_en.append(f"{key}: {money(bases[key])} × {percent(rate)}")
        parts_zh.append(f"{key}：{money(bases[key])} × {percent(rate)}")
    return Outcome(
        amount,
        Words(
            f"{' + '.join(parts_en) or '0.00'} = {money(amount)}",
            f"{' + '.join(parts_zh) or '0.00'} = {money(amount)}",
        ),
    )


@dataclass(frozen=True)
class Tier:
    #: where the tier starts: an amount reaching it exactly is in this tier, not the one below
    start: Decimal
    rate: Decimal


def check_tiers(tiers: Sequence[Tier]) -> None:
    if not tiers or tiers[0].start != 0:
        raise PayRuleError("the first tier must start at 0")
    for lower, upper in pairwise(tiers):
        if upper.start <= lower.start:
            raise PayRuleError(f"tiers must start in increasing order: {lower.start} then {upper.start}")


def tiered(base: Decimal, tiers: Sequence[Tier], retroactive: bool, base_words: Words) -> Outcome:
    """Marginal: each slice of the base at its own tier's rate. Retroactive: the whole base at the
    rate of the tier it reaches (a base exactly at a tier's start reaches that tier). A negative
    base (more refunded than collected) is at the first tier's rate."""
    check_tiers(tiers)
    if base <= 0 or retroactive:
        reached = max((tier for tier in tiers if tier.start <= base), key=lambda t: t.start, default=tiers[0])
        outcome = flat(base, reached.rate, base_words)
        if retroactive and base > 0:
            return Outcome(
                outcome.amount,
                Words(
                    f"{outcome.words.en} (the whole amount at the rate of the tier from {money(reached.start)})",
                    f"{outcome.words.zh}（全额按 {money(reached.start)} 起档位的比例）",
                ),
                reached.rate,
            )
        return outcome
    parts, amount = [], ZERO
    for tier, following in zip(tiers, [*tiers[1:], None], strict=True):
        top = base if following is None else min(base, following.start)
        if top <= tier.start:
            break
        piece = top - tier.start
        amount += piece * tier.rate
        parts.append(f"{money(piece)} × {percent(tier.rate)}")
    said = " + ".join(parts)
    return Outcome(
        amount,
        Words(
            f"{money(base)} {base_words.en}: {said} = {money(amount)}",
            f"{base_words.zh} {money(base)}：{said} = {money(amount)}",
        ),
    )


@dataclass(frozen=True)
class Curve:
    """Pay against attainment: nothing below the gate; from the gate to 100 %, the target pay
    less `slope` × the shortfall; above 100 %, `accelerator` × the excess more; never above `cap`
    (a multiple of the target pay), when there is one."""

    gate: Decimal = ZERO
    slope: Decimal = ONE
    accelerator: Decimal = ONE
    cap: Decimal | None = None


def attainment_pay(actual: Decimal, target: Decimal, target_pay: Decimal, curve: Curve) -> Outcome:
    if target <= 0:
        raise PayRuleError("there is no target to measure attainment against (it is 0 or missing)")
    attainment = actual / target
    shown = f"{money(actual)} ÷ {money(target)} = {percent(attainment.quantize(Decimal('0.0001')))}"
    if attainment < curve.gate:
        return Outcome(
            ZERO,
            Words(
                f"{shown}, below the {percent(curve.gate)} gate: 0.00",
                f"{shown}，低于门槛 {percent(curve.gate)}：0.00",
            ),
        )
    if attainment <= ONE:
        share = ONE - (ONE - attainment) * curve.slope
    else:
        share = ONE + (attainment - ONE) * curve.accelerator
    capped = curve.cap is not None and share > curve.cap
    if capped:
        assert curve.cap is not None
        share = curve.cap
    amount = target_pay * share
    cap_en = f", capped at {percent(share)}" if capped else ""
    cap_zh = f"，封顶 {percent(share)}" if capped else ""
    return Outcome(
        amount,
        Words(
            f"{shown}{cap_en}: target pay {money(target_pay)} × {percent(share)} = {money(amount)}",
            f"{shown}{cap_zh}：目标奖金 {money(target_pay)} × {percent(share)} = {money(amount)}",
        ),
        share,
    )


def by_grade(amount_at_one: Decimal, grade: str | None, coefficients: Mapping[str, Decimal]) -> Outcome:
    if grade is None or grade not in coefficients:
        known = ", ".join(sorted(coefficients))
        raise PayRuleError(f"no coefficient for grade {grade!r} (the plan has {known})")
    coefficient = coefficients[grade]
    amount = amount_at_one * coefficient
    return Outcome(
        amount,
        Words(
            f"grade {grade}: {money(amount_at_one)} × {coefficient.normalize():f} = {money(amount)}",
            f"等级 {grade}：{money(amount_at_one)} × {coefficient.normalize():f} = {money(amount)}",
        ),
        coefficient,
    )


def over_target(actual: Decimal, target: Decimal, rate: Decimal) -> Outcome:
    above = max(actual - target, ZERO)
    amount = above * rate
    return Outcome(
        amount,
        Words(
            f"{money(actual)} − target {money(target)} = {money(above)} above target × {percent(rate)} = "
            f"{money(amount)}",
            f"{money(actual)} − 目标 {money(target)} = 超额 {money(above)} × {percent(rate)} = {money(amount)}",
        ),
        rate,
    )


@dataclass(frozen=True)
class Floating:
    """Floating pay (浮动工资) against the average score of a population: `relative` pays
    base × score ÷ average, `points` base × (1 + (score − average) ÷ 100); `floor` and `cap` are
    multiples of the base; `budget_neutral` scales the population's pay to the sum of its bases."""

    mode: str = "relative"
    floor: Decimal | None = None
    cap: Decimal | None = None
    budget_neutral: bool = False


def floating_pay(
    scores: Mapping[str, Decimal],
    bases: Mapping[str, Decimal],
    rule: Floating,
    population: Mapping[str, Decimal] | None = None,
) -> dict[str, Outcome]:
    """Each person's floating pay, by key, from their score and base, against the average of the
    population's scores (by default, of those being paid)."""
    population = scores if population is None else population
    if not population:
        raise PayRuleError("nobody to average: the population has no scores")
    average = sum(population.values(), ZERO) / len(population)
    if average == 0:
        raise PayRuleError("the population's average score is 0: floating pay cannot be measured against it")
    shown_average = f"{average.quantize(Decimal('0.01'))}"
    outcomes: dict[str, Outcome] = {}
    for key, score in scores.items():
        base = bases[key]
        shown_score = score if score == score.quantize(CENT) else score.quantize(CENT)  # 80.1363… → 80.14
        if rule.mode == "relative":
            factor = score / average
            how_en = f"{money(base)} × {shown_score} ÷ average {shown_average}"
            how_zh = f"{money(base)} × {shown_score} ÷ 平均分 {shown_average}"
        else:
            factor = ONE + (score - average) / HUNDRED
            how_en = f"{money(base)} × (1 + ({shown_score} − average {shown_average}) ÷ 100)"
            how_zh = f"{money(base)} × (1 + ({shown_score} − 平均分 {shown_average}) ÷ 100)"
        bounded = factor
        if rule.floor is not None:
            bounded = max(bounded, rule.floor)
        if rule.cap is not None:
            bounded = min(bounded, rule.cap)
        bound_en = bound_zh = ""
        if bounded != factor:
            bound_en = f", held at {percent(bounded)} of the base"
            bound_zh = f"，按基数的 {percent(bounded)} 计"
        amount = base * bounded
        outcomes[key] = Outcome(
            amount,
            Words(f"{how_en}{bound_en} = {money(amount)}", f"{how_zh}{bound_zh} = {money(amount)}"),
            bounded,
        )
    if rule.budget_neutral:
        budget = sum((to_cents(base) for base in bases.values() if base), ZERO)
        shares = allocate(budget, {key: max(outcome.amount, ZERO) for key, outcome in outcomes.items()})
        outcomes = {
            key: Outcome(
                shares[key],
                Words(
                    f"{outcome.words.en}; scaled so the population's pay is its budget {money(budget)}: "
                    f"{money(shares[key])}",
                    f"{outcome.words.zh}；按预算 {money(budget)} 等比缩放：{money(shares[key])}",
                ),
                outcome.rate,
            )
            for key, outcome in outcomes.items()
        }
    return outcomes


def pool_shares(pool: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Outcome]:
    """A bonus pool shared by weight (a coefficient × a base), paid to the cent."""
    total = sum(weights.values(), ZERO)
    shares = allocate(pool, weights)
    return {
        key: Outcome(
            shares[key],
            Words(
                f"pool {money(pool)} × {weights[key].normalize():f} ÷ {total.normalize():f} = {money(shares[key])}",
                f"奖金池 {money(pool)} × {weights[key].normalize():f} ÷ {total.normalize():f} = {money(shares[key])}",
            ),
        )
        for key in weights
    }


def draw(earned: Decimal, floor: Decimal, balance: Decimal, recoverable: bool) -> Outcome | None:
    """A month under a draw (底薪保障) of `floor`: pay below it is topped up to it — a recoverable
    draw adds the top-up to what is owed (`balance`) — and pay above it pays back what is owed,
    down to the draw. None when the month needs neither."""
    if earned < floor:
        top_up = floor - earned
        if not recoverable:
            return Outcome(
                top_up,
                Words(
                    f"pay of {money(earned)} topped up to the guaranteed {money(floor)}: {money(top_up)}",
                    f"本月 {money(earned)} 补足至保底 {money(floor)}：{money(top_up)}",
                ),
            )
        return Outcome(
            top_up,
            Words(
                f"pay of {money(earned)} topped up to the draw of {money(floor)}: {money(top_up)}, "
                f"to be recovered from later earnings (owed after this month: {money(balance + top_up)})",
                f"本月 {money(earned)} 补足至保底 {money(floor)}：{money(top_up)}，"
                f"将从以后的收入中扣回（本月后待扣回 {money(balance + top_up)}）",
            ),
        )
    if not recoverable or balance <= 0 or earned == floor:
        return None
    recovered = min(balance, earned - floor)
    return Outcome(
        -recovered,
        Words(
            f"{money(recovered)} of the {money(balance)} drawn before recovered from pay above the draw of "
            f"{money(floor)} (owed after this month: {money(balance - recovered)})",
            f"从超出保底 {money(floor)} 的部分扣回此前预支 {money(balance)} 中的 {money(recovered)}"
            f"（本月后待扣回 {money(balance - recovered)}）",
        ),
    )
