"""Who a record credits (计提归属). By default its owner, in full. A records base may say more
(`credit` in the plan): the record's shares (`splits`: "E0003:60; E0007:40", together exactly
100 %, the amount shared to the cent), a second person credited in full without reducing anyone
(`overlay`), and each credited person's managers, a given number of levels up (`managers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..money import allocate, from_minor, to_minor
from ..org.models import Employee

HUNDRED = Decimal(100)
SHARE = re.compile(r"^\s*([^:;,\s]+)\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*$")


class CreditError(ValueError):
    """A record whose credit cannot be worked out: says which record and why."""


def parse_splits(text: str, record: str) -> dict[str, Decimal]:
    """ "E0003:60; E0007:40" → {"E0003": 60, "E0007": 40}, refused unless it totals 100 %."""
    shares: dict[str, Decimal] = {}
    for part in re.split(r"[;,，；]", text):
        if not part.strip():
            continue
        found = SHARE.match(part)
        if found is None:
            raise CreditError(f"record {record}: '{part.strip()}' is not a share such as E0003:60")
        code, percent = found.group(1), Decimal(found.group(2))
        shares[code] = shares.get(code, Decimal(0)) + percent
    total = sum(shares.values(), Decimal(0))
    if shares and total != HUNDRED:
        raise CreditError(f"record {record}: its shares add up to {total.normalize():f} %, not 100 %")
    return shares


class Crediting:
    """Turns the base's records into credits: (employee id, minor units) for each record."""

    def __init__(self, session: Session, credit: dict, managers: dict[int, int | None]):
        self.credit, self.managers = credit, managers
        self.ids = dict(session.execute(sa.select(Employee.code, Employee.id)).all())

    def _id(self, code: str, record: str, what: str) -> int:
        found = self.ids.get(code)
        if found is None:
            raise CreditError(f"record {record}: its {what} '{code}' is not an employee")
        return found

    def credits(
        self, record: str, owner_id: int, minor: int, splits: str | None, overlay: str | None
    ) -> Iterable[tuple[int, int]]:
        shares = parse_splits(splits, record) if splits else {}
        if shares:
            sign = -1 if minor < 0 else 1  # a credit note is shared as its amount is, negated
            parts = allocate(from_minor(abs(minor)), shares)
            holders = [
                (self._id(code, record, "share's holder"), sign * to_minor(parts[code])) for code in sorted(parts)
            ]
        else:
            holders = [(owner_id, minor)]
        yield from holders
        levels = self.credit.get("managers") or 0
        for holder, part in holders:
            seen, current = {holder}, self.managers.get(holder)
            for _ in range(levels):
                if current is None or current in seen:
                    break
                seen.add(current)
                yield current, part
                current = self.managers.get(current)
        if overlay:
            yield self._id(overlay, record, "overlay"), minor


def share_of(credit: dict | None) -> bool:
    """Whether a base credits anyone but the owner in full."""
    return bool(credit and (credit.get("splits") or credit.get("overlay") or credit.get("managers")))
