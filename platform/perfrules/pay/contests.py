"""Contests (SPIFF, 销售竞赛): for the days a contest runs, an amount for each qualifying record
(the base's filter says which qualify), at most `per_person` each; when the prizes come to more
than the budget, the budget is shared in proportion to them, to the cent. Paid in the month the
contest ends, each line keeping the records it counted."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from ..engine.periods import Period
from ..money import allocate, exact, to_cents
from .compute import Context, DueLine, credits_between
from .members import Member
from .rules import Words, money


def contest_month(rule: dict) -> Period:
    return Period.of(dt.date.fromisoformat(rule["ends_on"]), "monthly")


def contest_lines(context: Context, members: list[Member], month: Period) -> list[DueLine]:
    rule = context.component["rule"]
    starts, ends = dt.date.fromisoformat(rule["starts_on"]), dt.date.fromisoformat(rule["ends_on"])
    by_id = {member.employee_id: member for member in members}
    counted: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for record_id, owner_id, minor, _, _ in credits_between(
        context, set(by_id), starts, ends + dt.timedelta(days=1), None
    ):
        counted[owner_id].append((record_id, minor))
    per_record = exact(rule["per_record"])
    cap = exact(rule["per_person"]) if rule.get("per_person") is not None else None
    prizes: dict[int, Decimal] = {}
    words: dict[int, tuple[str, str]] = {}
    for employee_id, records in counted.items():
        prize = per_record * len(records)
        en = f"{len(records)} qualifying records from {starts} to {ends} × {money(per_record)} = {money(prize)}"
        zh = f"{starts} 至 {ends} 符合条件的记录 {len(records)} 条 × {money(per_record)} = {money(prize)}"
        if cap is not None and prize > cap:
            prize = cap
            en += f", at most {money(cap)} a person"
            zh += f"，每人最多 {money(cap)}"
        prizes[employee_id], words[employee_id] = to_cents(prize), (en, zh)
    total = sum(prizes.values(), Decimal(0))
    budget = exact(rule["budget"]) if rule.get("budget") is not None else None
    if budget is not None and total > budget:
        shares = allocate(budget, {str(employee_id): prize for employee_id, prize in prizes.items()})
        for employee_id in prizes:
            en, zh = words[employee_id]
            paid = shares[str(employee_id)]
            words[employee_id] = (
                f"{en}; the prizes come to {money(total)}, over the budget of {money(budget)}: "
                f"{money(prizes[employee_id])} × {money(budget)} ÷ {money(total)} = {money(paid)}",
                f"{zh}；奖金合计 {money(total)} 超出预算 {money(budget)}："
                f"{money(prizes[employee_id])} × {money(budget)} ÷ {money(total)} = {money(paid)}",
            )
            prizes[employee_id] = paid
    lines = []
    for employee_id in sorted(prizes):
        en, zh = words[employee_id]
        records = counted[employee_id]
        line = DueLine(
            by_id[employee_id],
            month,
            prizes[employee_id],
            Words(en, zh),
            None,
            None,
            {"contest": f"{starts}..{ends}", "records": len(records)},
            records,
        )
        lines.append(line)
    return lines
