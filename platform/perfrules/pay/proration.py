"""Proration (按在职时间折算) for someone who joins or leaves within a period: their target pay
(the plan's amounts: target bonus, base floating pay, the draw) and their targets are cut to the
part of the period they were employed; rates never are.

By calendar days by default (employed 16 of October's 31 days: 16 ÷ 31), or by working days
(Monday to Friday), or by whole months (a month counts when they were employed on its cut-off
day), or not at all (`proration: {by: none}`).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..engine.periods import Period
from .members import Member
from .rules import Words

ONE = Decimal(1)
#: the rules that pay a target amount or measure against a target: the ones proration touches
PRORATED_RULES = frozenset({"attainment", "over_target", "grade", "floating", "formula"})


@dataclass(frozen=True)
class Share:
    """The part of a period someone was employed: a fraction, and how it was counted."""

    factor: Decimal
    words: Words


def share(proration: dict | None, member: Member, period: Period) -> Share | None:
    """The member's share of the period; None when it is all of it (or the plan does not prorate)."""
    by = (proration or {}).get("by", "calendar_days")
    first, last = period.start, period.end - dt.timedelta(days=1)
    since, until = member.employed_from or first, member.employed_until or last
    if by == "none" or (since <= first and until >= last):
        return None
    if by == "calendar_days":
        worked, whole = (until - since).days + 1, (period.end - first).days
        en, zh = f"{worked} of {whole} days", f"在职 {worked} 天 / 共 {whole} 天"
    elif by == "working_days":
        worked = int(np.busday_count(since, until + dt.timedelta(days=1)))
        whole = int(np.busday_count(first, period.end))
        en, zh = f"{worked} of {whole} working days", f"在职 {worked} 个工作日 / 共 {whole} 个工作日"
    else:
        cut_off = proration["cut_off_day"]  # type: ignore[index]
        worked, whole = 0, period.months
        for index in range(period.months):
            year, month = divmod(period.start.month - 1 + index, 12)
            year += period.start.year
            day = dt.date(year, month + 1, min(cut_off, calendar.monthrange(year, month + 1)[1]))
            worked += since <= day <= until
        en = f"{worked} of {whole} months (a month counts when employed on day {cut_off})"
        zh = f"在职 {worked} 个月 / 共 {whole} 个月（以每月 {cut_off} 日在职为准）"
    factor = Decimal(worked) / Decimal(whole)
    if factor == ONE:  # every month counted
        return None
    return Share(factor, Words(f"prorated: employed {en}", f"按在职时间折算：{zh}"))


def prorate(
    proration: dict | None, members: list[Member], period: Period, amounts: set[str]
) -> tuple[list[Member], dict[int, Share]]:
    """The members with their target pay (the parameters named in `amounts`; a rate a formula reads
    is a parameter too, and is left alone) cut to their share of the period, and the shares."""
    shares: dict[int, Share] = {}
    prorated = []
    for member in members:
        found = share(proration, member, period)
        if found is None:
            prorated.append(member)
            continue
        shares[member.employee_id] = found
        scaled = {name: value * found.factor if name in amounts else value for name, value in member.parameters.items()}
        prorated.append(dataclasses.replace(member, parameters=scaled))
    return prorated, shares
