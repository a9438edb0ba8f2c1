"""Money: `Decimal` everywhere (imports, rules, lines), integer minor units (分) when stored, rounded once per line.

Every amount a rule computes stays exact until it becomes a line; the line is rounded once,
ROUND_HALF_UP to the cent (2.675 → 2.68), and totals are sums of rounded lines. A pool is shared
to the cent: shares rounded down, the cents left over to the largest remainders (ties by key), so
the shares add up to the pool exactly."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
#: the currency amounts are in when nothing else is said
DEFAULT_CURRENCY = "CNY"
#: money is at most this large (a bound, so that a hostile cell cannot make a number of any size)
LARGEST = Decimal("1e15")


class MoneyError(ValueError):
    """An amount that is not money: said in words a person can act on."""


def to_cents(amount: Decimal) -> Decimal:
    """The amount rounded to the cent, half up: the one rounding a line gets."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal) -> int:
    """The amount in minor units (分), rounded to the cent first."""
    return int(to_cents(amount).scaleb(2))


def from_minor(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2).quantize(CENT)


def exact(number: float | int | str | Decimal) -> Decimal:
    """A number from configuration (YAML, JSON) or the engine as the decimal it was written as:
    0.03 is Decimal("0.03"), not the binary fraction nearest to it. (A float's str is its shortest
    exact text, numpy's float64 included, whose repr is not.)"""
    if isinstance(number, float):
        return Decimal(str(number))
    return Decimal(number)


def format_money(amount: Decimal) -> str:
    """12,000.00; -350.50 (pages show the minus sign as −, exports keep the one programs read)."""
    return f"{to_cents(amount):,.2f}"


def parse_money(raw: object) -> Decimal:
    """A cell or a JSON value as money: 1234.5, "1,234.50", "¥1,234.50", "-80". A spreadsheet's
    number is a binary float: it is read as the shortest decimal that gives it back (2.675 is
    2.675), and a computed one that is a hair off a cent (0.30000000000000004) is that cent. More
    than two decimals written out ("1.005") are refused: a cent cannot be split."""
    if isinstance(raw, bool) or raw is None:
        raise MoneyError("expected an amount of money, like 1234.50")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise MoneyError("expected a finite amount of money")
        value = exact(raw)
        rounded = to_cents(value)
        if abs(value - rounded) > Decimal("1e-9"):
            raise MoneyError("has more than two decimals: a cent cannot be split")
        value = rounded
    elif isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        text = str(raw).strip().replace(",", "").replace("，", "").replace(" ", "")
        for sign in ("¥", "￥", "$", "€", "CNY", "RMB", "元"):
            text = text.replace(sign, "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise MoneyError("expected an amount of money, like 1234.50") from None
    if not value.is_finite():
        raise MoneyError("expected a finite amount of money")
    if abs(value) >= LARGEST:
        raise MoneyError("is too large an amount of money")
    if value != value.quantize(CENT, rounding=ROUND_DOWN):
        raise MoneyError("has more than two decimals: a cent cannot be split")
    return value.quantize(CENT)


def allocate(pool: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Share `pool` (whole cents) in proportion to `weights`, exactly: each share rounded down to
    the cent, the cents left over one each to the largest remainders, ties by key. A pool with no
    weight at all is shared by nobody: every share is 0."""
    pool = to_cents(pool)
    total = sum(weights.values(), Decimal(0))
    if any(weight < 0 for weight in weights.values()):
        raise MoneyError("a share of a pool cannot be negative")
    if total == 0:
        return dict.fromkeys(weights, Decimal("0.00"))
    exact = {key: pool * weight / total for key, weight in weights.items()}
    shares = {key: value.quantize(CENT, rounding=ROUND_DOWN) for key, value in exact.items()}
    left = int((pool - sum(shares.values(), Decimal(0))).scaleb(2))
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[:left]:
        shares[key] += CENT
    return shares
