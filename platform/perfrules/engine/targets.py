"""Targets (目标) for one period: who holds which value, and how it was derived (目标分解).

For an employee and a metric or KPI name, the entry that applies is, in order: the employee's
own; their department's (the nearest department up the tree that has one; a split department
total gives its share); their role's. Among entries of one holder (and, for departments, equally
near), the one for the shortest period containing the evaluated period wins. A longer period's
value applies to a shorter one in proportion to its months (or by the entry's `month_shares`).

A member with their own target keeps it when a department total is split: their own target is
taken out of the total and the rest is split among the other members, so the department's
targets still add up to its total.

Splits never lose or create a unit: amounts are counted in units of 10^-decimals, each share is
rounded down, and the units left over go one each to the shares with the largest fractions
(ties: the employee code that sorts first; for months, the earlier month). So the shares always
add up to the total rounded to `decimals`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, TypeAlias

import numpy as np

from ..config.validation import Config
from .people import People
from .periods import Period
from .shapes import Column, Document, Floats

#: name → that metric's values last period, for splits by last period's share
PreviousValues: TypeAlias = Callable[[str], Column | None]
#: who an entry is for: an employee, a department, or a role
Holder: TypeAlias = Literal["employee", "department", "role"]
#: positions an entry applies to, each one's value, and how the value was found
Shares: TypeAlias = tuple[list[int], list[float], str]

DEFAULT_DECIMALS = 2
HOLDER_ORDER: dict[Holder, int] = {"employee": 0, "department": 1, "role": 2}


class TargetError(ValueError):
    pass


def split_exactly(
    total: float, weights: Sequence[float], tie_keys: Sequence[int] | Sequence[str], decimals: int = DEFAULT_DECIMALS
) -> list[float]:
    """Shares of `total` in proportion to `weights` that add up to the total exactly.

    The total is first rounded to `decimals`; with all weights zero the split is equal.
    """
    if not weights:
        return []
    unit = Decimal(1).scaleb(-decimals)
    units = int((Decimal(repr(float(total))) / unit).to_integral_value(ROUND_HALF_UP))
    weight_sum = sum(weights)
    exact = (
        [Decimal(units) / len(weights)] * len(weights)
        if weight_sum <= 0
        else [Decimal(units) * Decimal(repr(float(w))) / Decimal(repr(float(weight_sum))) for w in weights]
    )
    floors = [int(share.to_integral_value(rounding="ROUND_FLOOR")) for share in exact]
    left_over = units - sum(floors)
    by_fraction = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), tie_keys[i]))
    for i in by_fraction[:left_over]:
        floors[i] += 1
    return [float(Decimal(share) * unit) for share in floors]


def month_values(entry: Document) -> dict[int, float]:
    """A longer period's value spread over its months: {month number: value}."""
    period = Period.parse(entry["period"])
    months = list(period.month_numbers())
    shares = entry.get("month_shares")
    weights = [shares[m - 1] for m in months] if shares else [1.0] * len(months)
    values = split_exactly(entry["value"], weights, months, entry.get("decimals", DEFAULT_DECIMALS))
    return dict(zip(months, values))


@dataclass
class Resolved:
    values: Floats
    #: per employee, how the value was found (None where there is no target)
    sources: list[str | None]


class TargetBook:
    """Every target entry of a configuration, resolved per period on demand."""

    def __init__(self, config: Config, people: People):
        self.people = people
        #: name → its entries, each with the slug of its target set as `set`
        self.entries: dict[str, list[Document]] = {}
        for target_set in config.get("targets", {}).values():
            for entry in target_set["entries"]:
                self.entries.setdefault(entry["name"], []).append({**entry, "set": target_set["slug"]})
        self.warnings: list[str] = []

    def resolve(self, name: str, period: Period, previous_values: PreviousValues | None = None) -> Resolved:
        """`previous_values(name)` gives last period's values of a metric, for last_share splits."""
        size = len(self.people)
        values = np.full(size, np.nan)
        sources: list[str | None] = [None] * size
        # (holder rank, departments up the tree, months) of the entry in force for each employee
        best = [(9, 0, 99)] * size
        for entry in self.entries.get(name, []):
            entry_period = Period.parse(entry["period"])
            if not entry_period.contains(period):
                continue
            holder: Holder = (
                "employee" if entry.get("employee") else "department" if entry.get("department") else "role"
            )
            for positions, amounts, source in self._apply(entry, entry_period, period, name, previous_values):
                for position, amount in zip(positions, amounts):
                    rank = (
                        HOLDER_ORDER[holder],
                        self._distance(position, entry) if holder == "department" else 0,
                        entry_period.months,
                    )
                    if rank < best[position]:
                        best[position] = rank
                        values[position] = amount
                        sources[position] = source
        return Resolved(values, sources)

    def _distance(self, position: int, entry: Document) -> int:
        """How many departments up from the employee's the entry's department is."""
        path = self.people.department_path(int(self.people.department_ids[position]))
        department_id = self.people.department_id_of(entry["department"])
        if department_id is None:  # `_apply` gives no positions for an entry of an unknown department
            raise TargetError(f"target {entry['set']}: no department '{entry['department']}'")
        return path.index(department_id)

    def _own_targets(self, name: str, period: Period) -> dict[int, float]:
        """Employees' own targets for `name` in force for `period`: {position: value}."""
        own: dict[int, tuple[int, float]] = {}
        for entry in self.entries.get(name, []):
            entry_period = Period.parse(entry["period"])
            position = self.people.position_of(entry["employee"]) if entry.get("employee") else None
            if position is None or not entry_period.contains(period):
                continue
            if position not in own or entry_period.months < own[position][0]:
                own[position] = (entry_period.months, self._scaled(entry, entry_period, period)[0])
        return {position: value for position, (_, value) in own.items()}

    def _scaled(self, entry: Document, entry_period: Period, period: Period) -> tuple[float, str]:
        where = f"{entry['set']}: {entry['period']}"
        if entry_period == period:
            return entry["value"], where
        by_month = month_values(entry)
        value = sum(by_month[m] for m in period.month_numbers())
        how = "by month shares" if entry.get("month_shares") else "in proportion to months"
        return value, f"{where} {_number(entry['value'])} → {period} {_number(value)} ({how})"

    def _apply(
        self,
        entry: Document,
        entry_period: Period,
        period: Period,
        name: str,
        previous_values: PreviousValues | None,
    ) -> Iterator[Shares]:
        people = self.people
        value, source = self._scaled(entry, entry_period, period)
        if entry.get("employee"):
            position = people.position_of(entry["employee"])
            if position is None:
                self.warnings.append(f"target {entry['set']}: no active employee '{entry['employee']}'")
                return
            yield [position], [value], f"employee target, {source}"
            return
        if entry.get("department"):
            department_id = people.department_id_of(entry["department"])
            if department_id is None:
                self.warnings.append(f"target {entry['set']}: no department '{entry['department']}'")
                return
            if not entry.get("split"):
                # a default for everyone whose nearest department with an entry is this one
                yield from self._department_default(entry, department_id, value, source)
                return
            members = people.in_subtree(department_id)
            if entry.get("role"):
                members &= np.array([code == entry["role"] for code in people.role_codes], dtype=bool)
            own = self._own_targets(name, period)
            carved = sorted((p for p in np.flatnonzero(members).tolist() if p in own), key=lambda p: people.codes[p])
            positions = [p for p in np.flatnonzero(members).tolist() if p not in own]
            rest = value - sum(own[p] for p in carved)
            less = ""
            if carved:
                less = ", less own targets of " + ", ".join(f"{people.codes[p]} {_number(own[p])}" for p in carved)
                if rest < 0:
                    self.warnings.append(
                        f"target {entry['set']}: own targets in {entry['department']} add up to more "
                        f"than its total {_number(value)}; the other members get 0"
                    )
                    rest = 0.0
            weights, how = self._split_weights(entry, positions, name, previous_values)
            shares = split_exactly(
                rest, weights, [people.codes[p] for p in positions], entry.get("decimals", DEFAULT_DECIMALS)
            )
            among = f"{len(positions)} members" + (f" in role {entry['role']}" if entry.get("role") else "")
            yield (
                positions,
                shares,
                (f"department {entry['department']} total, {source}{less}, split {how} among {among}"),
            )
            return
        positions = [i for i, code in enumerate(people.role_codes) if code == entry["role"]]
        yield positions, [value] * len(positions), f"role {entry['role']} default, {source}"

    def _department_default(self, entry: Document, department_id: int, value: float, source: str) -> Iterator[Shares]:
        people = self.people
        positions = [
            i
            for i, d in enumerate(people.department_ids.tolist())
            if self._nearest_with_entry(d, entry) == department_id
        ]
        yield positions, [value] * len(positions), f"department {entry['department']} default, {source}"

    def _nearest_with_entry(self, department_id: int, entry: Document) -> int | None:
        holders = {
            self.people.department_id_of(e["department"])
            for e in self.entries.get(entry["name"], [])
            if e.get("department") and not e.get("split") and e["period"] == entry["period"]
        }
        for ancestor in self.people.department_path(department_id):
            if ancestor in holders:
                return ancestor
        return None

    def _split_weights(
        self, entry: Document, positions: list[int], name: str, previous_values: PreviousValues | None
    ) -> tuple[list[float], str]:
        people = self.people
        if entry["split"] == "equal":
            return [1.0] * len(positions), "equally"
        if entry["split"] == "weights":
            attribute = entry["weight_attribute"]
            weights: list[float] = []
            for p in positions:
                raw = people.attributes[p].get(attribute)
                weights.append(
                    float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0 else 0.0
                )
            if not any(weights):
                return [1.0] * len(positions), f"equally (no member has a positive '{attribute}')"
            return weights, f"by the weights in '{attribute}'"
        last = previous_values(name) if previous_values is not None else None
        if last is None:
            raise TargetError(f"target {entry['set']}: a split by last period's share needs '{name}' to be a metric")
        weights = [float(last[p]) if np.isfinite(last[p]) and last[p] > 0 else 0.0 for p in positions]
        if not any(weights):
            return [1.0] * len(positions), "equally (nobody had a value last period)"
        return weights, "by last period's share"


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")
